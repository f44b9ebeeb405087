// concur/detail/asyncio_frame_pool.hpp — the per-thread free-list allocator behind every
// asyncio coroutine frame (Task<T>'s promise type overrides operator new with it).
//
// malloc dominates the cost of a short coroutine, so freed frames are kept on per-thread free
// lists, one per 16-byte size class up to 512 bytes (larger frames go to ::operator new). One
// event loop runs on one thread, so its frames come from and go back to that thread's lists
// without synchronisation. Blocks are carved from 64 KiB slabs (no per-frame malloc header),
// which are never returned to the system; a frame freed on another thread (a coroutine created on
// one thread and run by run_coroutine_threadsafe on a loop) simply joins that thread's lists, and
// an exiting thread hands its free blocks to a shared depot that other threads draw from.
// Under AddressSanitizer the pool is bypassed so use-after-free of a frame stays detectable.
#pragma once

#include <cstddef>

namespace concur::asyncio::detail {

/// Allocates n bytes for a coroutine frame. Throws std::bad_alloc.
void* frame_alloc(std::size_t n);
/// Returns a frame allocated by frame_alloc(n) with the same n. Any thread.
void frame_free(void* p, std::size_t n) noexcept;

}  // namespace concur::asyncio::detail
