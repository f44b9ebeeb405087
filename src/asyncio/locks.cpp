// Condition::wait (a coroutine, compiled once).
#include "concur/asyncio/locks.hpp"

namespace concur::asyncio {

Task<bool> Condition::wait() {
  if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
  lock_->release();
  bool cancelled = false;
  {
    detail::Waiter w(waiters_);
    try {
      co_await w;
    } catch (const CancelledError&) {
      cancelled = true;
      if (w.woken()) {  // notified, then cancelled before running: pass the notification on
        waiters_.wake_one();
      }
    }
  }
  // Re-acquire the lock whatever happens (Python does, then re-raises the cancellation).
  for (;;) {
    try {
      co_await lock_->acquire();
      break;
    } catch (const CancelledError&) {
      cancelled = true;
    }
  }
  if (cancelled) throw CancelledError();
  co_return true;
}

}  // namespace concur::asyncio
