// concur/timeout.hpp — how concur spells Python's `timeout=None | float` in options structs.
//
// A field `Timeout timeout;` accepts any std::chrono::duration (`.timeout = 5s`, `= 250ms`,
// `= 0.5s`); left empty it means "wait forever" (Python's None). Deadlines are computed on
// steady_clock; zero polls; a negative timeout polls as zero does.
#pragma once

#include <chrono>
#include <optional>

namespace concur {

/// Python's `timeout=None | seconds`: empty = no limit.
using Timeout = std::optional<std::chrono::duration<double>>;

/// The steady_clock deadline for a timeout measured from now; nullopt when there is no timeout.
inline std::optional<std::chrono::steady_clock::time_point> deadline_from(const Timeout& t) {
  using Clock = std::chrono::steady_clock;
  if (!t) return std::nullopt;
  const auto now = Clock::now();
  if (*t <= t->zero()) return now;
  if (*t >= std::chrono::duration<double>(Clock::time_point::max() - now)) return Clock::time_point::max();
  return now + std::chrono::ceil<Clock::duration>(*t);
}

}  // namespace concur
