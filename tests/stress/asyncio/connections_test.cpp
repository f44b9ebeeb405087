// Stress: 10,000 concurrent TCP connections on loopback (scaled by CONCUR_STRESS_SCALE), all held
// open at once and served, then closed cleanly, with no fd leaked on either side.
//
// Both ends in one process would need 20,000+ fds, above the usual hard RLIMIT_NOFILE, so the
// clients run in a child process: this same binary re-executed (through create_subprocess_exec)
// with CONCUR_CONN_PORT set, which runs only ConnectionsStress.ClientProcess.
#include <gtest/gtest.h>
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "concur/asyncio.hpp"
#include "concur/detail/asyncio_io_event.hpp"  // until asyncio::Event lands

namespace asyncio = concur::asyncio;
using asyncio::StreamReader;
using asyncio::StreamWriter;
using asyncio::Task;

namespace {

double stress_scale() {
  const char* s = std::getenv("CONCUR_STRESS_SCALE");
  const double v = s ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}

/// Raises the soft fd limit to the hard one; returns the soft limit in force.
rlim_t raise_nofile() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

int connection_count() {
  if (const char* n = std::getenv("CONCUR_CONN_N")) return std::atoi(n);
  const int wanted = std::max(50, static_cast<int>(10000 * stress_scale()));
  const auto limit = static_cast<int>(std::min<rlim_t>(raise_nofile(), 1 << 20));
  return std::min(wanted, limit - 200);
}

// ---- client side (child process) ----

using Event = asyncio::detail::IoEvent;

constexpr int kConnectWave = 256;  // bounds the SYN burst, not the number held open

struct ClientState {
  int n = 0;
  int connected = 0;  // connect attempts finished (ok or not)
  int wave_target = 0;
  int echoed = 0;
  int failures = 0;
  Event wave_done;
  Event all_echoed;
};

Task<void> one_client(ClientState& st, std::uint16_t port, int id) {
  try {
    std::optional<std::pair<StreamReader, StreamWriter>> conn;
    {
      struct Count {
        ClientState& st;
        ~Count() {
          if (++st.connected >= st.wave_target) st.wave_done.set();
        }
      } count{st};
      conn.emplace(co_await asyncio::open_connection("127.0.0.1", port));
    }
    auto& [r, w] = *conn;
    const std::string msg = "hello " + std::to_string(id) + "\n";
    w.write(msg);
    co_await w.drain();
    if (co_await r.readline() != msg) ++st.failures;
    if (++st.echoed == st.n) st.all_echoed.set();
    co_await st.all_echoed.wait();  // every connection is open and served at this point
    w.write_eof();
    if (!(co_await r.read()).empty()) ++st.failures;  // the server closes after our EOF
    w.close();
    co_await w.wait_closed();
  } catch (const std::exception& e) {
    if (st.failures++ < 5) std::fprintf(stderr, "client %d: %s\n", id, e.what());
    if (++st.echoed == st.n) st.all_echoed.set();
  }
}

Task<int> client_main(std::uint16_t port, int n) {
  ClientState st;
  st.n = n;
  std::vector<Task<void>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; i += kConnectWave) {
    st.wave_target = std::min(n, i + kConnectWave);
    st.wave_done.clear();
    for (int j = i; j < st.wave_target; ++j) tasks.push_back(asyncio::create_task(one_client(st, port, j)));
    co_await st.wave_done.wait();
  }
  for (auto& t : tasks) co_await t;
  co_return st.failures;
}

// ---- server side ----

struct ServerState {
  int served = 0;
  int clean_eof = 0;
  int active = 0;
  int peak = 0;
  int errors = 0;
};

}  // namespace

TEST(ConnectionsStress, ClientProcess) {
  const char* port = std::getenv("CONCUR_CONN_PORT");
  if (!port) GTEST_SKIP() << "the client half, run by ConnectionsStress.TenThousandHeldOpen";
  raise_nofile();
  const int n = connection_count();
  const int before = open_fds();
  const int failures = asyncio::run(client_main(static_cast<std::uint16_t>(std::atoi(port)), n));
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(open_fds(), before) << "client leaked fds";
}

TEST(ConnectionsStress, TenThousandHeldOpen) {
  if (std::getenv("CONCUR_CONN_PORT")) GTEST_SKIP();
  const int n = connection_count();
  const int before = open_fds();
  ServerState st;
  auto body = [&]() -> Task<int> {
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Task<void> {
          st.peak = std::max(st.peak, ++st.active);
          try {
            std::string line = co_await r.readline();
            w.write(line);
            co_await w.drain();
            ++st.served;
            if ((co_await r.read()).empty()) ++st.clean_eof;
          } catch (const std::exception&) {
            ++st.errors;
          }
          --st.active;
          w.close();
          co_await w.wait_closed();
        },
        "127.0.0.1", 0, {.backlog = 4096});
    const auto port = server.sockets().at(0).getsockname().port;
    auto env = std::map<std::string, std::string>{};
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      const auto eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    env["CONCUR_CONN_PORT"] = std::to_string(port);
    env["CONCUR_CONN_N"] = std::to_string(n);
    char self[4096] = {};
    if (::readlink("/proc/self/exe", self, sizeof self - 1) <= 0) co_return -100;
    // Built in their own statements: g++ 12 mishandles braced lists of strings in a co_await.
    std::vector<std::string> args(1, "--gtest_filter=ConnectionsStress.ClientProcess");
    asyncio::CreateSubprocessOptions options;
    options.env = std::move(env);
    auto child = co_await asyncio::create_subprocess_exec(self, std::move(args), std::move(options));
    const int rc = co_await child.wait();
    server.close();
    co_await server.wait_closed();
    co_return rc;
  };
  const int rc = asyncio::run(body());
  EXPECT_EQ(rc, 0) << "the client process failed";
  EXPECT_EQ(st.served, n);
  EXPECT_EQ(st.clean_eof, n);
  EXPECT_EQ(st.errors, 0);
  EXPECT_EQ(st.peak, n) << "all connections were open at once";
  EXPECT_EQ(open_fds(), before) << "server leaked fds";
}
