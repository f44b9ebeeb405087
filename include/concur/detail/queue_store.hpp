// concur/detail/queue_store.hpp — the three orderings of Python's queue classes (not public API).
//
// Each store is a plain single-threaded container (the queue's mutex guards it) with
// push(U&&), pop() -> T, size(). None allocates per item: the FIFO is a power-of-two ring that
// doubles when full, the LIFO and the heap are std::vector. Items are moved, never copied, so
// move-only types work. pop() requires size() > 0.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace concur::detail {

/// First in, first out (Python: queue.Queue): a growable ring buffer.
template <class T>
class FifoStore {
 public:
  FifoStore() = default;
  FifoStore(const FifoStore&) = delete;
  FifoStore& operator=(const FifoStore&) = delete;
  ~FifoStore() {
    clear();
    if (buf_) std::allocator<T>{}.deallocate(buf_, cap_);
  }

  /// Reserves room for n items up front (rounded up to a power of two).
  void reserve(std::size_t n) {
    if (n > cap_) regrow(std::bit_ceil(n));
  }
  template <class U>
  void push(U&& item) {
    if (size_ == cap_) regrow(cap_ ? cap_ * 2 : 16);
    std::construct_at(buf_ + ((head_ + size_) & (cap_ - 1)), std::forward<U>(item));
    ++size_;
  }
  T pop() {
    T* slot = buf_ + head_;
    T item(std::move(*slot));
    std::destroy_at(slot);
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
    return item;
  }
  std::size_t size() const noexcept { return size_; }
  void clear() noexcept {
    while (size_) {
      std::destroy_at(buf_ + head_);
      head_ = (head_ + 1) & (cap_ - 1);
      --size_;
    }
  }

 private:
  void regrow(std::size_t cap) {
    T* fresh = std::allocator<T>{}.allocate(cap);
    for (std::size_t i = 0; i < size_; ++i) {
      T* from = buf_ + ((head_ + i) & (cap_ - 1));
      std::construct_at(fresh + i, std::move(*from));
      std::destroy_at(from);
    }
    if (buf_) std::allocator<T>{}.deallocate(buf_, cap_);
    buf_ = fresh;
    cap_ = cap;
    head_ = 0;
  }

  T* buf_ = nullptr;
  std::size_t cap_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

/// Last in, first out (Python: queue.LifoQueue).
template <class T>
class LifoStore {
 public:
  void reserve(std::size_t n) { items_.reserve(n); }
  template <class U>
  void push(U&& item) { items_.push_back(std::forward<U>(item)); }
  T pop() {
    T item(std::move(items_.back()));
    items_.pop_back();
    return item;
  }
  std::size_t size() const noexcept { return items_.size(); }
  void clear() noexcept { items_.clear(); }

 private:
  std::vector<T> items_;
};

/// Smallest first under Compare (Python: queue.PriorityQueue, a heapq min-heap).
template <class T, class Compare>
class HeapStore {
 public:
  HeapStore() = default;
  explicit HeapStore(Compare less) : less_(std::move(less)) {}
  void reserve(std::size_t n) { items_.reserve(n); }
  template <class U>
  void push(U&& item) {
    items_.push_back(std::forward<U>(item));
    std::push_heap(items_.begin(), items_.end(), greater());
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), greater());
    T item(std::move(items_.back()));
    items_.pop_back();
    return item;
  }
  std::size_t size() const noexcept { return items_.size(); }
  void clear() noexcept { items_.clear(); }

 private:
  // std's heap algorithms keep the *largest* on top; swapping the arguments keeps the smallest.
  auto greater() { return [this](const T& a, const T& b) { return less_(b, a); }; }
  std::vector<T> items_;
  [[no_unique_address]] Compare less_{};
};

}  // namespace concur::detail
