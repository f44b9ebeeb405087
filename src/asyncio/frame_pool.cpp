// Per-thread free lists for coroutine frames (see concur/detail/asyncio_frame_pool.hpp).
#include "concur/detail/asyncio_frame_pool.hpp"

#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CONCUR_FRAME_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONCUR_FRAME_POOL_DISABLED 1
#endif
#endif

namespace concur::asyncio::detail {

#ifndef CONCUR_FRAME_POOL_DISABLED
namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = 32;          // frames up to 512 bytes are pooled
constexpr std::uint32_t kMaxCached = 1u << 16;  // per class: bounds what an idle thread keeps

struct FreeBlock {
  FreeBlock* next;
};

// Trivially destructible, so it stays usable while other thread_locals are destroyed; the
// Reaper empties it at thread exit and from then on frees go straight to ::operator delete.
struct Pool {
  FreeBlock* heads[kClasses];
  std::uint32_t counts[kClasses];
  std::uint8_t phase;  // 0 fresh, 1 live (reaper armed), 2 dead
};
constinit thread_local Pool t_pool{};

struct Reaper {
  ~Reaper() {
    Pool& p = t_pool;
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeBlock* b = p.heads[c]) {
        p.heads[c] = b->next;
        ::operator delete(b);
      }
      p.counts[c] = 0;
    }
    p.phase = 2;
  }
};
thread_local Reaper t_reaper;

}  // namespace

void* frame_alloc(std::size_t n) {
  const std::size_t c = (n + kGranule - 1) / kGranule - 1;
  if (c >= kClasses) return ::operator new(n);
  Pool& p = t_pool;
  if (FreeBlock* b = p.heads[c]) {
    p.heads[c] = b->next;
    --p.counts[c];
    return b;
  }
  if (p.phase == 0) {
    p.phase = 1;
    (void)&t_reaper;  // odr-use: constructs the reaper for this thread
    static_cast<void>(t_reaper);
  }
  return ::operator new((c + 1) * kGranule);
}

void frame_free(void* ptr, std::size_t n) noexcept {
  const std::size_t c = (n + kGranule - 1) / kGranule - 1;
  Pool& p = t_pool;
  if (c >= kClasses || p.phase != 1 || p.counts[c] >= kMaxCached) {
    ::operator delete(ptr);
    return;
  }
  auto* b = static_cast<FreeBlock*>(ptr);
  b->next = p.heads[c];
  p.heads[c] = b;
  ++p.counts[c];
}

#else

void* frame_alloc(std::size_t n) { return ::operator new(n); }
void frame_free(void* ptr, std::size_t) noexcept { ::operator delete(ptr); }

#endif

}  // namespace concur::asyncio::detail
