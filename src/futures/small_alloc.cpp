// The small-block allocator: size classes of 16 bytes, per-thread caches, a global depot of
// batches, and 2 MiB huge-page-advised slabs. See concur/detail/small_alloc.hpp.
#include "concur/detail/small_alloc.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CONCUR_SMALL_ALLOC_BYPASS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONCUR_SMALL_ALLOC_BYPASS 1
#endif
#endif

namespace concur::detail {

#ifdef CONCUR_SMALL_ALLOC_BYPASS

void* small_allocate(std::size_t bytes) { return ::operator new(bytes); }
void small_deallocate(void* p, std::size_t bytes) noexcept { ::operator delete(p, bytes); }
std::size_t small_alloc_reserved_bytes() noexcept { return 0; }

#else

namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = kSmallAllocMax / kGranule;
constexpr std::size_t kSlabBytes = std::size_t{2} << 20;  // one transparent huge page
constexpr std::size_t kRunBytes = std::size_t{64} << 10;   // what a thread carves at a time

constexpr std::size_t class_of(std::size_t bytes) noexcept {
  return bytes == 0 ? 0 : (bytes - 1) / kGranule;
}
constexpr std::size_t class_size(std::size_t c) noexcept { return (c + 1) * kGranule; }
/// Blocks moved between a thread cache and the depot at once: ~32 KiB worth, 16..512 blocks.
constexpr std::uint32_t compute_batch(std::size_t c) noexcept {
  const std::size_t n = (std::size_t{32} << 10) / class_size(c);
  return static_cast<std::uint32_t>(n < 16 ? 16 : n > 512 ? 512 : n);
}
struct BatchTable {
  std::uint32_t limit[kClasses];
  constexpr BatchTable() : limit() {
    for (std::size_t c = 0; c < kClasses; ++c) limit[c] = compute_batch(c);
  }
};
constexpr BatchTable kBatch{};  // a table, so the free path does not divide
constexpr std::uint32_t batch_of(std::size_t c) noexcept { return kBatch.limit[c]; }

struct FreeBlock {
  FreeBlock* next;
};

struct Batch {
  FreeBlock* head;
  std::uint32_t count;
};

/// Slabs from the system. Never unmapped: blocks live in them until the process ends.
class SlabSource {
 public:
  /// A fresh region of `bytes` (≤ kSlabBytes, multiple of kGranule). Throws std::bad_alloc.
  char* take(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    if (static_cast<std::size_t>(end_ - cur_) < bytes) {
      cur_ = map_slab();
      end_ = cur_ + kSlabBytes;
    }
    char* p = cur_;
    cur_ += bytes;
    return p;
  }
  std::size_t reserved() const noexcept { return reserved_.load(std::memory_order_relaxed); }

 private:
  char* map_slab() {
    // Map twice the size and trim, so the slab is 2 MiB aligned and can be one huge page.
    const std::size_t len = 2 * kSlabBytes;
    void* raw = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto base = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (base + kSlabBytes - 1) & ~(kSlabBytes - 1);
    if (aligned > base) ::munmap(raw, aligned - base);
    const std::uintptr_t tail = aligned + kSlabBytes;
    if (base + len > tail) ::munmap(reinterpret_cast<void*>(tail), base + len - tail);
    auto* slab = reinterpret_cast<char*>(aligned);
#ifdef MADV_HUGEPAGE
    (void)::madvise(slab, kSlabBytes, MADV_HUGEPAGE);  // advisory: fine if THP is off
#endif
    reserved_.fetch_add(kSlabBytes, std::memory_order_relaxed);
    return slab;
  }

  std::mutex mutex_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  std::atomic<std::size_t> reserved_{0};
};

/// Freed blocks in batches, per size class, shared by all threads.
class Depot {
 public:
  void put(std::size_t c, Batch b) {
    std::lock_guard lock(mutex_[c]);
    batches_[c].push_back(b);
  }
  /// A batch, or {nullptr, 0} when the class has none.
  Batch get(std::size_t c) noexcept {
    std::lock_guard lock(mutex_[c]);
    if (batches_[c].empty()) return {nullptr, 0};
    const Batch b = batches_[c].back();
    batches_[c].pop_back();
    return b;
  }

 private:
  std::mutex mutex_[kClasses];
  std::vector<Batch> batches_[kClasses];
};

// Leaked on purpose: threads may free blocks while static destructors run.
SlabSource& slabs() {
  static auto* s = new SlabSource;
  return *s;
}
Depot& depot() {
  static auto* d = new Depot;
  return *d;
}

/// A thread's cache: trivially constructible so the fast path needs no TLS guard.
struct ThreadCache {
  FreeBlock* head[kClasses];
  std::uint32_t count[kClasses];
  char* run_cur;
  char* run_end;
  bool registered;  // the flusher below is armed (and the thread is not exiting)
  bool dead;        // the thread is exiting: go straight to the depot
};
thread_local ThreadCache tl_cache;  // zero-initialised

/// Returns a thread's cached blocks to the depot when the thread exits.
struct ThreadCacheFlusher {
  ~ThreadCacheFlusher() {
    ThreadCache& tc = tl_cache;
    for (std::size_t c = 0; c < kClasses; ++c) {
      if (tc.count[c] > 0) {
        try {
          depot().put(c, {tc.head[c], tc.count[c]});
        } catch (...) {
          // Out of memory for the depot's index: the blocks stay unused, nothing breaks.
        }
      }
      tc.head[c] = nullptr;
      tc.count[c] = 0;
    }
    tc.registered = false;
    tc.dead = true;
  }
};

void register_flusher(ThreadCache& tc) {
  thread_local ThreadCacheFlusher flusher;
  (void)flusher;
  tc.registered = true;
}

/// Carves `n` fresh blocks of class c, returning them as a list (n ≥ 1).
FreeBlock* carve(ThreadCache& tc, std::size_t c, std::uint32_t n) {
  const std::size_t size = class_size(c);
  FreeBlock* list = nullptr;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (static_cast<std::size_t>(tc.run_end - tc.run_cur) < size) {
      if (i > 0) break;  // enough for now; the next refill starts a new run
      tc.run_cur = slabs().take(kRunBytes);
      tc.run_end = tc.run_cur + kRunBytes;
    }
    auto* b = reinterpret_cast<FreeBlock*>(tc.run_cur);
    tc.run_cur += size;
    b->next = list;
    list = b;
  }
  return list;
}

std::uint32_t list_length(FreeBlock* b) noexcept {
  std::uint32_t n = 0;
  for (; b; b = b->next) ++n;
  return n;
}

[[gnu::noinline]] void* allocate_slow(std::size_t c) {
  ThreadCache& tc = tl_cache;
  if (tc.dead) {
    // A thread-local destructor allocating after our cache was flushed: one block, via the
    // depot or a carve of its own (the slab source is thread-safe).
    Batch b = depot().get(c);
    if (b.head) {
      FreeBlock* block = b.head;
      if (b.count > 1) depot().put(c, {block->next, b.count - 1});
      return block;
    }
    return slabs().take(class_size(c));
  }
  if (!tc.registered) register_flusher(tc);
  Batch b = depot().get(c);
  if (!b.head) {
    b.head = carve(tc, c, batch_of(c));
    b.count = list_length(b.head);
  }
  FreeBlock* block = b.head;
  tc.head[c] = block->next;
  tc.count[c] = b.count - 1;
  return block;
}

[[gnu::noinline]] void deallocate_slow(FreeBlock* block, std::size_t c) noexcept {
  ThreadCache& tc = tl_cache;
  if (tc.dead) {
    block->next = nullptr;
    try {
      depot().put(c, {block, 1});
    } catch (...) {
    }
    return;
  }
  if (!tc.registered) {
    // First free on this thread: arm the flusher so these blocks go back when it exits.
    register_flusher(tc);
    if (tc.count[c] < 2 * batch_of(c)) {
      block->next = tc.head[c];
      tc.head[c] = block;
      ++tc.count[c];
      return;
    }
  }
  // The cache holds two batches: hand the older one (below the newest batch) to the depot.
  const std::uint32_t keep = batch_of(c);
  FreeBlock* last_kept = tc.head[c];
  for (std::uint32_t i = 1; i < keep; ++i) last_kept = last_kept->next;
  FreeBlock* rest = last_kept->next;
  last_kept->next = nullptr;
  const std::uint32_t moved = tc.count[c] - keep;
  tc.count[c] = keep;
  try {
    depot().put(c, {rest, moved});
  } catch (...) {
    // Could not grow the depot's index: keep the blocks here instead.
    last_kept->next = rest;
    tc.count[c] += moved;
  }
  block->next = tc.head[c];
  tc.head[c] = block;
  ++tc.count[c];
}

}  // namespace

void* small_allocate(std::size_t bytes) {
  if (bytes > kSmallAllocMax) return ::operator new(bytes);
  const std::size_t c = class_of(bytes);
  ThreadCache& tc = tl_cache;
  if (FreeBlock* b = tc.head[c]) {
    tc.head[c] = b->next;
    --tc.count[c];
    return b;
  }
  return allocate_slow(c);
}

void small_deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes > kSmallAllocMax) {
    ::operator delete(p, bytes);
    return;
  }
  const std::size_t c = class_of(bytes);
  ThreadCache& tc = tl_cache;
  auto* block = static_cast<FreeBlock*>(p);
  if (tc.count[c] < 2 * batch_of(c) && tc.registered) {
    block->next = tc.head[c];
    tc.head[c] = block;
    ++tc.count[c];
    return;
  }
  deallocate_slow(block, c);
}

std::size_t small_alloc_reserved_bytes() noexcept { return slabs().reserved(); }

#endif

}  // namespace concur::detail
