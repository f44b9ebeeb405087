// concur/detail/small_alloc.hpp — the allocator behind per-task objects (pool tasks, coroutine
// frames, asyncio task states).
//
// Why: a burst of a million tasks allocates a million small blocks that live until their results
// are read. With malloc each block lands on a fresh 4 KiB page sooner or later, and a first-touch
// page fault costs 1–20 µs on a VM — more than the task itself. Here blocks of one size class are
// carved from 2 MiB slabs advised MADV_HUGEPAGE (one fault per 2 MiB when transparent huge pages
// are on in `madvise` mode, Debian's default), and freed blocks are recycled through a per-thread
// cache (no atomic operation on the fast path) and a global depot of batches (one lock per batch).
//
// Contract:
// - small_allocate(n) returns storage for n bytes aligned to 16 (alignof(std::max_align_t)); n
//   above kSmallAllocMax is passed to ::operator new. Throws std::bad_alloc.
// - small_deallocate(p, n) takes the same n; any thread may free a block another thread allocated.
// - Memory of the slabs is kept for reuse and never returned to the system (as a task burst tends
//   to come again); small_alloc_reserved_bytes() reports how much that is.
// - Under AddressSanitizer every call goes to ::operator new/delete so that ASan sees each block.
#pragma once

#include <cstddef>
#include <new>

namespace concur::detail {

/// Largest request served from the size classes (16-byte steps); larger ones use ::operator new.
inline constexpr std::size_t kSmallAllocMax = 1024;

void* small_allocate(std::size_t bytes);
void small_deallocate(void* p, std::size_t bytes) noexcept;

/// Bytes taken from the system for slabs so far (0 under AddressSanitizer).
std::size_t small_alloc_reserved_bytes() noexcept;

/// Base class giving a type class-specific operator new/delete through small_allocate.
/// Deleting through a base pointer needs a virtual destructor so the sized delete sees the
/// most-derived size.
/// Over-aligned types (alignas > 16) are served by the aligned global forms.
struct SmallAllocated {
  static void* operator new(std::size_t n) { return small_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { small_deallocate(p, n); }
  static void* operator new(std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
  static void operator delete(void* p, std::size_t n, std::align_val_t a) noexcept {
    ::operator delete(p, n, a);
  }
};

}  // namespace concur::detail
