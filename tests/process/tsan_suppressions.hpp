// ThreadSanitizer cannot see the atomic reference count inside libstdc++'s std::exception_ptr
// (libsupc++ is not instrumented), so a future's exception object released on the pool's manager
// thread after the consuming thread caught it is reported as a race. It is not one: the count is
// atomic. Include this in exactly one file of a test binary (the one with main()).
#pragma once

#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
#endif
