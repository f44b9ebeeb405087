// TCP echo on loopback with Asio C++20 coroutines (Debian libasio-dev, standalone): the C++ rival
// in bench/asyncio/echo_bench. Same workload as the concur and CPython versions: one thread, one
// io_context, a server and `connections` clients, each client doing `round_trips` round trips of
// `size` bytes (write, then read exactly `size` bytes back).
#include <asio.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "echo_rivals.hpp"

namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

awaitable<void> serve(tcp::socket sock) {
  std::array<char, 65536> buf;  // lives in the coroutine frame: no allocation per read
  try {
    for (;;) {
      std::size_t n = co_await sock.async_read_some(asio::buffer(buf), use_awaitable);
      co_await asio::async_write(sock, asio::buffer(buf.data(), n), use_awaitable);
    }
  } catch (const std::exception&) {
    // EOF or reset: the client is done.
  }
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, int connections) {
  for (int i = 0; i < connections; ++i) {
    tcp::socket s = co_await acceptor.async_accept(use_awaitable);
    s.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(s)), asio::detached);
  }
}

awaitable<void> client(tcp::endpoint ep, int round_trips, std::size_t size) {
  tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(ep, use_awaitable);
  s.set_option(tcp::no_delay(true));
  std::string msg(size, 'x');
  std::string in(size, '\0');
  for (int i = 0; i < round_trips; ++i) {
    co_await asio::async_write(s, asio::buffer(msg), use_awaitable);
    co_await asio::async_read(s, asio::buffer(in), use_awaitable);
  }
  s.close();
}

}  // namespace

double asio_echo_round_trips_per_s(int connections, int round_trips, std::size_t size) {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  acceptor.listen(1024);
  const tcp::endpoint ep = acceptor.local_endpoint();
  asio::co_spawn(ctx, accept_loop(acceptor, connections), asio::detached);
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < connections; ++c) asio::co_spawn(ctx, client(ep, round_trips, size), asio::detached);
  ctx.run();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return connections * double(round_trips) / elapsed.count();
}
