// Tests of concur/asyncio/streams.hpp: echo over IPv4/IPv6/Unix, the reader's semantics
// (readexactly, readuntil limits, readline, read to EOF), back-pressure, and the failure cases a
// server must survive (peer reset, half-close, garbage, nothing at all).
#include "concur/asyncio/streams.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "concur/asyncio.hpp"
#include "concur/detail/asyncio_io_event.hpp"

namespace asyncio = concur::asyncio;
using asyncio::StreamReader;
using asyncio::StreamWriter;
using asyncio::Task;
using Event = asyncio::detail::IoEvent;

namespace {

Task<void> echo_lines(StreamReader r, StreamWriter w) {
  for (;;) {
    std::string line = co_await r.readline();
    if (line.empty()) break;
    w.write(line);
    co_await w.drain();
  }
  w.close();
  co_await w.wait_closed();
}

std::uint16_t port_of(const asyncio::Server& s) { return s.sockets().at(0).getsockname().port; }

Task<std::string> one_echo(std::string host, std::uint16_t port, std::string msg) {
  auto [r, w] = co_await asyncio::open_connection(host, port);
  w.write(msg);
  co_await w.drain();
  std::string back = co_await r.readline();
  w.close();
  co_await w.wait_closed();
  co_return back;
}

}  // namespace

TEST(Streams, EchoRoundTripIPv4) {
  auto body = []() -> Task<void> {
    auto server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
    EXPECT_TRUE(server.is_serving());
    const auto port = port_of(server);
    EXPECT_NE(port, 0);
    EXPECT_EQ(co_await one_echo("127.0.0.1", port, "hello\n"), "hello\n");
    server.close();
    co_await server.wait_closed();
    EXPECT_FALSE(server.is_serving());
  };
  asyncio::run(body());
}

TEST(Streams, EchoRoundTripIPv6) {
  bool skipped = false;
  auto body = [&]() -> Task<void> {
    std::optional<asyncio::Server> server;
    try {
      server.emplace(co_await asyncio::start_server(echo_lines, "::1", 0));
    } catch (const std::system_error& e) {
      skipped = e.code().value() != 0;  // no IPv6 loopback on this machine
    }
    if (skipped) {
      co_return;
    }
    const auto addr = server->sockets().at(0).getsockname();
    EXPECT_EQ(addr.family, AF_INET6);
    EXPECT_EQ(addr.host, "::1");
    EXPECT_EQ(co_await one_echo("::1", addr.port, "six\n"), "six\n");
    server->close();
    co_await server->wait_closed();
  };
  asyncio::run(body());
  if (skipped) GTEST_SKIP() << "IPv6 loopback unavailable";
}

TEST(Streams, NameResolutionOffTheLoop) {
  // "localhost" is not numeric: getaddrinfo runs on another thread.
  auto body = []() -> Task<void> {
    auto server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
    EXPECT_EQ(co_await one_echo("localhost", port_of(server), "name\n"), "name\n");
  };
  asyncio::run(body());
}

TEST(Streams, UnixSocketEcho) {
  const std::string path = "/tmp/concur_streams_test_" + std::to_string(::getpid()) + ".sock";
  auto body = [&]() -> Task<void> {
    auto server = co_await asyncio::start_unix_server(echo_lines, path);
    EXPECT_EQ(server.sockets().at(0).getsockname().host, path);
    auto [r, w] = co_await asyncio::open_unix_connection(path);
    w.write("unix\n");
    EXPECT_EQ(co_await r.readline(), "unix\n");
    w.close();
    co_await w.wait_closed();
    server.close();
    co_await server.wait_closed();
  };
  asyncio::run(body());
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "cleanup_socket unlinks the path";
}

TEST(Streams, PeernameAndSockname) {
  auto body = []() -> Task<void> {
    std::optional<asyncio::Address> seen_peer;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Task<void> {
          seen_peer = w.get_extra_info("peername");
          co_await r.read();
          w.close();
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    const auto mine = w.get_extra_info("sockname");
    const auto theirs = w.get_extra_info("peername");
    EXPECT_FALSE(w.get_extra_info("no-such-key"));
    w.write_eof();
    EXPECT_EQ(co_await r.read(), "");
    EXPECT_TRUE(r.at_eof());
    server.close();
    co_await server.wait_closed();
    EXPECT_TRUE(mine && theirs && seen_peer);
    if (mine && theirs && seen_peer) {
      EXPECT_EQ(*seen_peer, *mine);
      EXPECT_EQ(theirs->host, "127.0.0.1");
      EXPECT_NE(theirs->port, 0);
    }
  };
  asyncio::run(body());
}

TEST(Streams, ReadexactlyIncompleteCarriesPartial) {
  auto body = []() -> Task<void> {
    std::string partial;
    std::optional<std::size_t> expected;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Task<void> {
          try {
            co_await r.readexactly(10);
          } catch (const asyncio::IncompleteReadError& e) {
            partial = e.partial;
            expected = e.expected;
          }
          w.close();
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    w.write("abc");
    w.write_eof();  // half-close: the server reads EOF after 3 bytes
    EXPECT_THROW(w.write("more"), concur::RuntimeError);
    co_await r.read();
    server.close();
    co_await server.wait_closed();
    EXPECT_EQ(partial, "abc");
    EXPECT_EQ(expected, 10u);
  };
  asyncio::run(body());
}

TEST(Streams, ReaderSemantics) {
  auto body = []() -> Task<void> {
    auto server = co_await asyncio::start_server(
        [](StreamReader, StreamWriter w) -> Task<void> {
          w.write("line one\nline two\r\n--sep--tail");
          w.write(std::string(40, 'z'));
          w.write("\nlast");
          co_await w.drain();
          w.close();
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port_of(server), {.limit = 32});
    EXPECT_EQ(co_await r.readline(), "line one\n");
    EXPECT_EQ(co_await r.readuntil("\r\n"), "line two\r\n");
    EXPECT_EQ(co_await r.readuntil("--sep--"), "--sep--");
    EXPECT_EQ(co_await r.readexactly(4), "tail");
    // 40 bytes without a newline against a limit of 32.
    bool overrun = false;
    try {
      co_await r.readuntil("\n");
    } catch (const asyncio::LimitOverrunError& e) {
      overrun = true;
      EXPECT_GT(e.consumed, 32u);
    }
    EXPECT_TRUE(overrun);
    // readline() turns it into ValueError and drops the long line (as Python).
    EXPECT_THROW(co_await r.readline(), concur::ValueError);
    EXPECT_EQ(co_await r.read(), "last");  // read() to EOF
    EXPECT_TRUE(r.at_eof());
    EXPECT_EQ(co_await r.readline(), "");
    EXPECT_EQ(co_await r.read(5), "");
    bool incomplete = false;
    try {
      co_await r.readuntil("x");
    } catch (const asyncio::IncompleteReadError& e) {
      incomplete = e.partial.empty() && !e.expected;
    }
    EXPECT_TRUE(incomplete);
    w.close();
    server.close();
    co_await server.wait_closed();
  };
  asyncio::run(body());
}

TEST(Streams, DrainAppliesBackPressure) {
  // The server reads nothing until told to: the client's buffer must pass the high-water mark,
  // drain() must suspend, then everything must arrive intact.
  auto body = []() -> Task<void> {
    Event go;
    std::size_t received = 0;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Task<void> {
          co_await go.wait();
          for (;;) {
            std::string s = co_await r.read(1 << 16);
            if (s.empty()) break;
            received += s.size();
          }
          w.close();
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    w.set_write_buffer_limits(1 << 16);
    const std::string chunk(1 << 16, 'b');
    const std::size_t total = 64 * chunk.size();  // far beyond the kernel's socket buffers
    bool saw_pressure = false;
    for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
      w.write(chunk);
      if (w.get_write_buffer_size() > (1 << 16)) {
        saw_pressure = true;
        go.set();
      }
      co_await w.drain();
      EXPECT_LE(w.get_write_buffer_size(), std::size_t(1 << 16));
    }
    go.set();
    w.write_eof();
    EXPECT_EQ(co_await r.read(), "");
    server.close();
    co_await server.wait_closed();
    EXPECT_TRUE(saw_pressure);
    EXPECT_EQ(received, total);
  };
  asyncio::run(body());
}

TEST(Streams, PeerResetIsConnectionResetAndServerKeepsServing) {
  auto body = []() -> Task<void> {
    int resets = 0;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Task<void> {
          try {
            for (;;) {
              std::string line = co_await r.readline();
              if (line.empty()) break;
              w.write(line);
              co_await w.drain();
            }
          } catch (const std::system_error& e) {
            if (e.code().value() == ECONNRESET) ++resets;
          }
          w.close();
        },
        "127.0.0.1", 0);
    const auto port = port_of(server);
    {
      auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
      w.write("ping\n");
      EXPECT_EQ(co_await r.readline(), "ping\n");
      w.write("unterminated");  // the server is in readline() when the RST arrives
      co_await asyncio::sleep(std::chrono::milliseconds(20));
      linger lg{1, 0};  // close with RST
      EXPECT_EQ(::setsockopt(w.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
      w.close();
      co_await w.wait_closed();
    }
    for (int i = 0; i < 50 && resets == 0; ++i) co_await asyncio::sleep(std::chrono::milliseconds(10));
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(co_await one_echo("127.0.0.1", port, "still here\n"), "still here\n");
    server.close();
    co_await server.wait_closed();
  };
  asyncio::run(body());
}

TEST(Streams, HalfCloseThenReply) {
  auto body = []() -> Task<void> {
    auto server = co_await asyncio::start_server(
        [](StreamReader r, StreamWriter w) -> Task<void> {
          std::string all = co_await r.read();  // until the client's write_eof()
          w.write("got " + std::to_string(all.size()) + " bytes");
          co_await w.drain();
          w.close();
          co_await w.wait_closed();
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    w.write(std::string(100000, 'h'));
    w.write_eof();
    EXPECT_EQ(co_await r.read(), "got 100000 bytes");
    w.close();
    co_await w.wait_closed();
    server.close();
    co_await server.wait_closed();
  };
  asyncio::run(body());
}

TEST(Streams, GarbageNothingAndThrowingHandlersDoNotStopTheServer) {
  auto body = []() -> Task<void> {
    int nothing = 0, garbage = 0, served = 0;
    auto server = co_await asyncio::start_server(
        [&](StreamReader r, StreamWriter w) -> Task<void> {
          std::string line = co_await r.readline();
          if (line.empty()) {
            ++nothing;
          } else if (line.rfind("GET ", 0) != 0) {
            ++garbage;
            throw std::runtime_error("garbage from client");  // reported, server keeps serving
          } else {
            ++served;
            w.write("200\n");
          }
          w.close();
        },
        "127.0.0.1", 0);
    const auto port = port_of(server);
    {  // connects and sends nothing
      auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
      w.close();
      co_await w.wait_closed();
    }
    {  // binary garbage
      auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
      w.write(std::string("\x00\xff\x13garbage\x7f\n", 12));
      co_await w.drain();
      EXPECT_EQ(co_await r.read(), "");  // the handler threw; the connection was closed
    }
    {
      auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port);
      w.write("GET /\n");
      EXPECT_EQ(co_await r.readline(), "200\n");
    }
    server.close();
    co_await server.wait_closed();  // waits for every handler to finish
    EXPECT_EQ(nothing, 1);
    EXPECT_EQ(garbage, 1);
    EXPECT_EQ(served, 1);
  };
  asyncio::run(body());
}

TEST(Streams, ConnectionRefused) {
  auto body = []() -> Task<void> {
    // A port nobody listens on: bind one, learn it, close it.
    std::uint16_t port;
    {
      auto server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
      port = port_of(server);
      server.close();
      co_await server.wait_closed();
    }
    int code = 0;
    try {
      co_await asyncio::open_connection("127.0.0.1", port);
    } catch (const std::system_error& e) {
      code = e.code().value();
    }
    EXPECT_EQ(code, ECONNREFUSED);
  };
  asyncio::run(body());
}

TEST(Streams, WaitClosedWaitsForConnections) {
  auto body = []() -> Task<void> {
    Event release;
    bool handler_done = false;
    auto server = co_await asyncio::start_server(
        [&](StreamReader, StreamWriter w) -> Task<void> {
          co_await release.wait();
          handler_done = true;
          w.close();
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    while (server.active_connections() == 0) co_await asyncio::sleep(std::chrono::milliseconds(1));
    server.close();
    EXPECT_TRUE(server.sockets().empty());
    auto waiter = asyncio::create_task(server.wait_closed());
    co_await asyncio::sleep(std::chrono::milliseconds(10));
    EXPECT_FALSE(waiter.done());
    release.set();
    co_await waiter;
    EXPECT_TRUE(handler_done);
  };
  asyncio::run(body());
}

TEST(Streams, ServeForeverStopsOnCancel) {
  auto body = []() -> Task<void> {
    auto server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0, {.start_serving = false});
    EXPECT_FALSE(server.is_serving());
    const auto port = port_of(server);
    auto forever = asyncio::create_task(server.serve_forever());
    EXPECT_EQ(co_await one_echo("127.0.0.1", port, "x\n"), "x\n");
    forever.cancel();
    bool cancelled = false;
    try {
      co_await forever;
    } catch (const concur::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(server.is_serving());
  };
  asyncio::run(body());
}

TEST(Streams, CancelledReadLeavesStreamUsable) {
  auto body = []() -> Task<void> {
    auto server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
    auto [r, w] = co_await asyncio::open_connection("127.0.0.1", port_of(server));
    auto reading = asyncio::create_task(r.readline());
    co_await asyncio::sleep(std::chrono::milliseconds(5));
    reading.cancel();
    EXPECT_THROW(co_await reading, concur::CancelledError);
    w.write("after cancel\n");
    EXPECT_EQ(co_await r.readline(), "after cancel\n");
    w.close();
    co_await w.wait_closed();
  };
  asyncio::run(body());
}
