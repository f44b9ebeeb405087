// A user's program against the installed concur: headers, the compiled core and threads.
#include <concur/futures.hpp>

#include <cstdio>

int main() {
  concur::futures::ThreadPoolExecutor pool({.max_workers = 2});
  auto f = pool.submit([](int a, int b) { return a * b; }, 6, 7);
  try {
    (void)pool.submit([]() -> int { throw concur::TimeoutError(); }).result();
  } catch (const concur::Error& e) {
    std::printf("%s %d\n", e.what(), f.result());
  }
  return f.result() == 42 ? 0 : 1;
}
