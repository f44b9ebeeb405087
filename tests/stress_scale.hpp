// Shared by the stress tests: CONCUR_STRESS_SCALE (default 1.0) shrinks iteration counts under
// sanitizers, where every operation is 5-20x slower.
#pragma once

#include <algorithm>
#include <cstdlib>

namespace concur::testing {

inline double stress_scale() {
  const char* s = std::getenv("CONCUR_STRESS_SCALE");
  const double v = s ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}

/// n scaled by CONCUR_STRESS_SCALE, at least `floor`.
inline long scaled(long n, long floor = 1) {
  return std::max(floor, static_cast<long>(static_cast<double>(n) * stress_scale()));
}

}  // namespace concur::testing
