// A user's program against the installed concur: it must find headers, library and threads.
#include <concur/error.hpp>

#include <cstdio>

int main() {
  try {
    throw concur::TimeoutError();
  } catch (const concur::Error& e) {
    std::puts(e.what());
  }
  return 0;
}
