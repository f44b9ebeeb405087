// concur/error.hpp — the exception hierarchy shared by every concur module.
//
// Python's exceptions map onto C++ types of the same name. Every concur exception derives from
// concur::Error (itself std::runtime_error), except operating-system failures, which are
// std::system_error carrying the errno (Python's OSError and its subclasses).
// Module-specific exceptions (queue::Full, subprocess::CalledProcessError, ...) live in their
// module's header and derive from the types here.
#pragma once

#include <stdexcept>
#include <string>

namespace concur {

/// Base of every concur exception (Python: Exception).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A wait ran out of time (Python 3.11+: TimeoutError, which concurrent.futures and asyncio use).
class TimeoutError : public Error {
 public:
  TimeoutError() : Error("timed out") {}
  using Error::Error;
};

/// The awaited operation was cancelled (Python: concurrent.futures.CancelledError /
/// asyncio.CancelledError, one type here).
class CancelledError : public Error {
 public:
  CancelledError() : Error("cancelled") {}
  using Error::Error;
};

/// An operation is not allowed in the object's current state, e.g. setting a result twice
/// (Python: InvalidStateError).
class InvalidStateError : public Error {
 public:
  using Error::Error;
};

/// Python's RuntimeError, e.g. "cannot schedule new futures after shutdown".
class RuntimeError : public Error {
 public:
  using Error::Error;
};

/// Python's ValueError, e.g. "task_done() called too many times".
class ValueError : public Error {
 public:
  using Error::Error;
};

/// An exception raised in another process whose C++ type is not registered with concur: the type's
/// name and what() travel; the type does not.
class RemoteError : public Error {
 public:
  RemoteError(std::string type_name, const std::string& message)
      : Error(type_name + ": " + message), type_name_(std::move(type_name)), message_(message) {}
  /// The demangled name of the exception type thrown remotely.
  const std::string& type_name() const noexcept { return type_name_; }
  /// The remote exception's what().
  const std::string& message() const noexcept { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

namespace futures {

/// The executor can no longer run tasks (Python: concurrent.futures.BrokenExecutor).
class BrokenExecutor : public Error {
 public:
  using Error::Error;
};

/// A thread pool whose initializer failed (Python: concurrent.futures.thread.BrokenThreadPool).
class BrokenThreadPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

/// A worker process died or became unusable (Python: concurrent.futures.process.BrokenProcessPool).
/// Unlike Python, concur fails only the task the dead worker was running and replaces the worker.
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

}  // namespace futures
}  // namespace concur
