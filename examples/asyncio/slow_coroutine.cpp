// Seed §63: a coroutine that blocks the event loop, caught by debug mode.
//
//   async def slow_coroutine():                  Task<void> slow_coroutine() {
//       time.sleep(0.5)                              std::this_thread::sleep_for(500ms);
//   asyncio.run(slow_coroutine(), debug=True)    asyncio::run(slow_coroutine(), {.debug = true});
//
// Prints (on stderr) "Executing <Task finished name='Task-1'> took 0.50x seconds", as asyncio
// does. The fix the seed recommends — moving blocking calls off the loop — is shown second:
// to_thread() keeps the loop free, and debug mode stays silent.
#include <concur/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace asyncio = concur::asyncio;
using asyncio::Task;
using namespace std::chrono_literals;

Task<void> slow_coroutine() {
  std::this_thread::sleep_for(500ms);  // a blocking call inside a coroutine stalls every task
  co_return;
}

Task<void> fixed_coroutine() {
  co_await asyncio::to_thread([] { std::this_thread::sleep_for(500ms); });
}

int main() {
  std::printf("blocking call on the loop (debug mode reports it):\n");
  std::fflush(stdout);
  asyncio::run(slow_coroutine(), {.debug = true});
  std::printf("blocking call moved to a thread with to_thread (nothing to report):\n");
  std::fflush(stdout);
  asyncio::run(fixed_coroutine(), {.debug = true});
  return 0;
}
