// Per-thread free lists for coroutine frames (see concur/detail/asyncio_frame_pool.hpp).
#include "concur/detail/asyncio_frame_pool.hpp"

#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

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
constexpr std::size_t kClasses = 32;             // frames up to 512 bytes are pooled
constexpr std::size_t kSlabBytes = 64 * 1024;    // blocks are carved from slabs: no malloc header

struct FreeBlock {
  FreeBlock* next;
};

// Slabs are never returned to the system (they stay reachable from this list, so leak checkers
// stay quiet); free blocks of an exiting thread go to the depot for other threads to reuse.
struct Depot {
  std::mutex m;
  std::vector<void*> slabs;
  FreeBlock* heads[kClasses] = {};
};
Depot& depot() {
  static auto* d = new Depot();  // never destroyed: threads may exit after static destruction
  return *d;
}

// Trivially destructible, so it stays usable while other thread_locals are destroyed; the
// Reaper hands it to the depot at thread exit and from then on the thread frees to the depot.
struct Pool {
  FreeBlock* heads[kClasses];
  char* carve[kClasses];      // the current slab's next block
  char* carve_end[kClasses];
  std::uint8_t phase;  // 0 fresh, 1 live (reaper armed), 2 dead
};
constinit thread_local Pool t_pool{};

void give_to_depot(std::size_t c, FreeBlock* first) {
  if (!first) return;
  FreeBlock* last = first;
  while (last->next) last = last->next;
  Depot& d = depot();
  std::lock_guard lk(d.m);
  last->next = d.heads[c];
  d.heads[c] = first;
}

struct Reaper {
  ~Reaper() {
    Pool& p = t_pool;
    for (std::size_t c = 0; c < kClasses; ++c) {
      give_to_depot(c, p.heads[c]);
      p.heads[c] = nullptr;
      // The rest of the current slab is abandoned (stays reachable through the depot's slabs).
      p.carve[c] = p.carve_end[c] = nullptr;
    }
    p.phase = 2;
  }
};
thread_local Reaper t_reaper;

void* refill(Pool& p, std::size_t c) {
  const std::size_t size = (c + 1) * kGranule;
  {
    Depot& d = depot();
    std::lock_guard lk(d.m);
    if (FreeBlock* b = d.heads[c]) {  // adopt every orphaned block of this class
      d.heads[c] = nullptr;
      p.heads[c] = b->next;
      return b;
    }
  }
  if (p.carve[c] == nullptr || p.carve[c] + size > p.carve_end[c]) {
    char* slab = static_cast<char*>(::operator new(kSlabBytes));
    {
      Depot& d = depot();
      std::lock_guard lk(d.m);
      d.slabs.push_back(slab);
    }
    p.carve[c] = slab;
    p.carve_end[c] = slab + kSlabBytes;
  }
  void* b = p.carve[c];
  p.carve[c] += size;
  return b;
}

}  // namespace

void* frame_alloc(std::size_t n) {
  const std::size_t c = (n + kGranule - 1) / kGranule - 1;
  if (c >= kClasses) return ::operator new(n);
  Pool& p = t_pool;
  if (FreeBlock* b = p.heads[c]) {
    p.heads[c] = b->next;
    return b;
  }
  if (p.phase == 0) {
    p.phase = 1;
    static_cast<void>(t_reaper);  // odr-use: constructs the reaper for this thread
  }
  return refill(p, c);
}

void frame_free(void* ptr, std::size_t n) noexcept {
  const std::size_t c = (n + kGranule - 1) / kGranule - 1;
  if (c >= kClasses) {
    ::operator delete(ptr);
    return;
  }
  auto* b = static_cast<FreeBlock*>(ptr);
  Pool& p = t_pool;
  if (p.phase == 2) {  // thread exiting: straight to the depot
    b->next = nullptr;
    give_to_depot(c, b);
    return;
  }
  b->next = p.heads[c];
  p.heads[c] = b;
}

#else

void* frame_alloc(std::size_t n) { return ::operator new(n); }
void frame_free(void* ptr, std::size_t) noexcept { ::operator delete(ptr); }

#endif

}  // namespace concur::asyncio::detail
