// Reporting of exceptions that have no one to go to (done-callbacks), as Python's logger does.
#include <cstdio>
#include <exception>
#include <typeinfo>

#include <cxxabi.h>

#include "concur/futures/future.hpp"

namespace concur::detail {

void report_callback_exception(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    int status = 0;
    const char* mangled = typeid(ex).name();
    char* name = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::fprintf(stderr, "concur: exception calling callback for future: %s: %s\n",
                 status == 0 && name ? name : mangled, ex.what());
    std::free(name);
  } catch (...) {
    std::fprintf(stderr, "concur: exception calling callback for future: (not a std::exception)\n");
  }
}

}  // namespace concur::detail
