// TCP echo on loopback, one thread: concur::asyncio streams vs Asio C++20 coroutines vs CPython
// asyncio streams, in one run. Each runs a server and `connections` clients in one event loop on
// one thread; each client does `round_trips` round trips of `size` bytes (write + drain, then
// readexactly). Reports the median round trips/s of `runs` runs each, and the ratios.
//
// Usage: asyncio_echo_bench [--connections 50] [--round-trips 2000] [--size 64] [--runs 5]
//                           [--python-runs 3] [--python python3] [--no-python]
// The CPython script is bench/asyncio/echo_asyncio.py (path baked in at build time).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "concur/asyncio.hpp"
#include "echo_rivals.hpp"

#ifndef CONCUR_ECHO_PY
#define CONCUR_ECHO_PY "echo_asyncio.py"
#endif

namespace asyncio = concur::asyncio;

namespace {

asyncio::Task<void> serve(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
}

asyncio::Task<void> client(std::uint16_t port, int round_trips, std::size_t size) {
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
  const std::string msg(size, 'x');
  for (int i = 0; i < round_trips; ++i) {
    writer.write(msg);
    co_await writer.drain();
    std::string back = co_await reader.readexactly(size);
    if (back.size() != size) std::abort();
  }
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Task<double> concur_main(int connections, int round_trips, std::size_t size) {
  auto server = co_await asyncio::start_server(serve, "127.0.0.1", 0);
  const std::uint16_t port = server.sockets().at(0).getsockname().port;
  const auto start = std::chrono::steady_clock::now();
  std::vector<asyncio::Task<void>> clients;
  clients.reserve(connections);
  for (int c = 0; c < connections; ++c) clients.push_back(asyncio::create_task(client(port, round_trips, size)));
  for (auto& t : clients) co_await t;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  server.close();
  co_await server.wait_closed();
  co_return connections * double(round_trips) / elapsed.count();
}

double concur_echo(int connections, int round_trips, std::size_t size) {
  return asyncio::run(concur_main(connections, round_trips, size));
}

double python_echo(const std::string& python, int connections, int round_trips, std::size_t size) {
  const std::string cmd = python + " " CONCUR_ECHO_PY " " + std::to_string(connections) + " " +
                          std::to_string(round_trips) + " " + std::to_string(size);
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return 0;
  double v = 0;
  char line[256];
  while (std::fgets(line, sizeof line, f)) std::sscanf(line, "round_trips_per_s %lf", &v);
  ::pclose(f);
  return v;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 50, round_trips = 2000, runs = 5, python_runs = 3;
  std::size_t size = 64;
  std::string python = "python3";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--connections") connections = std::stoi(next());
    else if (a == "--round-trips") round_trips = std::stoi(next());
    else if (a == "--size") size = std::stoul(next());
    else if (a == "--runs") runs = std::stoi(next());
    else if (a == "--python-runs") python_runs = std::stoi(next());
    else if (a == "--python") python = next();
    else if (a == "--no-python") python_runs = 0;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::printf("TCP echo on loopback, one thread: %d connections x %d round trips x %zu B\n", connections,
              round_trips, size);
  std::vector<double> c, a, p;
  for (int r = 0; r < runs; ++r) {  // interleaved, so machine noise hits both alike
    c.push_back(concur_echo(connections, round_trips, size));
    a.push_back(asio_echo_round_trips_per_s(connections, round_trips, size));
    std::printf("  run %d: concur %.0f/s  asio %.0f/s\n", r + 1, c.back(), a.back());
    std::fflush(stdout);
  }
  for (int r = 0; r < python_runs; ++r) {
    p.push_back(python_echo(python, connections, round_trips, size));
    std::printf("  run %d: cpython asyncio %.0f/s\n", r + 1, p.back());
    std::fflush(stdout);
  }
  const double mc = median(c), ma = median(a), mp = median(p);
  std::printf("median round trips/s: concur %.0f | asio %.0f | cpython %.0f\n", mc, ma, mp);
  std::printf("ratio concur/asio    %.2fx (target >= 1.2x)\n", ma > 0 ? mc / ma : 0.0);
  if (mp > 0) std::printf("ratio concur/cpython %.2fx (target >= 8x)\n", mc / mp);
  return 0;
}
