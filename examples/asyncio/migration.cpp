// Seed §62: migrating from threads to coroutines, both ways.
//
// Top-down: the top (main) becomes a coroutine first; the blocking leaves it calls are wrapped
// with run_in_executor, so they run on a thread pool while the loop stays free.
// Bottom-up: a leaf gets a coroutine version first; the synchronous callers keep working by
// submitting it to an event loop that runs in its own thread, with run_coroutine_threadsafe,
// and waiting on the returned concurrent future.
//
// The work is the seed's: tail several log files and merge their new lines into one output.
#include <concur/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

namespace asyncio = concur::asyncio;
namespace futures = concur::futures;
using asyncio::Task;
using namespace std::chrono_literals;

// The legacy blocking leaf: reads every line of a file (a tail that has reached the end).
std::vector<std::string> tail_file(const std::string& path) {
  std::this_thread::sleep_for(20ms);  // stands for slow blocking I/O
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(path.substr(path.rfind('/') + 1) + ": " + line);
  return lines;
}

// ---- top-down: the top is a coroutine; the blocking leaf runs in the default executor -------
Task<std::vector<std::string>> run_tasks_top_down(std::vector<std::string> paths) {
  auto& loop = asyncio::get_running_loop();
  std::vector<Task<std::vector<std::string>>> reads;
  for (const auto& p : paths) reads.push_back(asyncio::detail::to_task(loop.run_in_executor(nullptr, tail_file, p)));
  auto per_file = co_await asyncio::gather(std::move(reads));
  std::vector<std::string> merged;
  for (auto& lines : per_file) merged.insert(merged.end(), lines.begin(), lines.end());
  co_return merged;
}

// ---- bottom-up: the leaf is a coroutine; synchronous callers reach it through a loop thread --
Task<std::vector<std::string>> tail_async(std::string path) {
  co_await asyncio::sleep(20ms);  // the non-blocking version of the slow I/O
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(path.substr(path.rfind('/') + 1) + ": " + line);
  co_return lines;
}

std::vector<std::string> run_threads_bottom_up(asyncio::EventLoop& loop, const std::vector<std::string>& paths) {
  // The old thread-per-file structure stays; each thread now calls the coroutine on the loop.
  std::vector<std::vector<std::string>> per_file(paths.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    threads.emplace_back([&, i] {
      futures::Future<std::vector<std::string>> f = asyncio::run_coroutine_threadsafe(tail_async(paths[i]), loop);
      per_file[i] = f.result(10s);
    });
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> merged;
  for (auto& lines : per_file) merged.insert(merged.end(), lines.begin(), lines.end());
  return merged;
}

int main() {
  char dir_template[] = "/tmp/concur_migration_XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (!dir) return 1;
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i) {
    paths.push_back(std::string(dir) + "/log" + std::to_string(i) + ".txt");
    std::ofstream(paths.back()) << "line 1 of " << i << "\nline 2 of " << i << "\n";
  }

  const auto top_down = asyncio::run(run_tasks_top_down(paths));
  std::printf("top-down (run_in_executor): %zu lines\n", top_down.size());

  // Bottom-up: an event loop in its own thread, fed by synchronous threads.
  asyncio::EventLoop* loop = nullptr;
  futures::Promise<void> loop_ready;
  auto ready = loop_ready.get_future();
  asyncio::Event* stop = nullptr;
  std::thread loop_thread([&] {
    asyncio::run([&]() -> Task<void> {
      asyncio::Event stop_event;
      stop = &stop_event;
      loop = &asyncio::get_running_loop();
      loop_ready.set_result();
      co_await stop_event.wait();
    }());
  });
  ready.result();
  const auto bottom_up = run_threads_bottom_up(*loop, paths);
  std::printf("bottom-up (run_coroutine_threadsafe): %zu lines\n", bottom_up.size());
  asyncio::run_coroutine_threadsafe([](asyncio::Event* e) -> Task<void> {
    e->set();
    co_return;
  }(stop), *loop).result();
  loop_thread.join();

  for (const auto& l : bottom_up) std::printf("  %s\n", l.c_str());
  for (const auto& p : paths) std::remove(p.c_str());
  ::rmdir(dir);
  return top_down == bottom_up && top_down.size() == 8 ? 0 : 1;
}
