// Echo server and client with asyncio streams — the classic example of Python's asyncio docs,
// ported. The program starts the server on a free port (port 0), runs a few clients against it
// concurrently, and exits 0 when every echo came back intact.
//
//   Python                                               concur
//   async def handle_echo(reader, writer):               Task<void> handle_echo(StreamReader reader, StreamWriter writer) {
//       data = await reader.readline()                       std::string data = co_await reader.readline();
//       writer.write(data); await writer.drain()             writer.write(data); co_await writer.drain();
//       writer.close(); await writer.wait_closed()           writer.close(); co_await writer.wait_closed(); }
//   server = await asyncio.start_server(handle_echo,     auto server = co_await start_server(handle_echo,
//                                       "127.0.0.1", 0)                                    "127.0.0.1", 0);
//
// Usage: asyncio_echo [clients=5] [messages=3]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "concur/asyncio.hpp"

namespace asyncio = concur::asyncio;
using asyncio::StreamReader;
using asyncio::StreamWriter;
using asyncio::Task;

Task<void> handle_echo(StreamReader reader, StreamWriter writer) {
  const auto peer = writer.get_extra_info("peername");
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;  // the client closed its side
    writer.write(line);
    co_await writer.drain();
  }
  std::printf("server: %s is done\n", peer ? peer->to_string().c_str() : "?");
  writer.close();
  co_await writer.wait_closed();
}

Task<int> tcp_echo_client(std::uint16_t port, int id, int messages) {
  auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
  int ok = 0;
  for (int m = 0; m < messages; ++m) {
    const std::string message = "client " + std::to_string(id) + " says hello #" + std::to_string(m) + "\n";
    writer.write(message);
    co_await writer.drain();
    const std::string echoed = co_await reader.readline();
    std::printf("client %d: received %s", id, echoed.c_str());
    ok += echoed == message;
  }
  writer.close();
  co_await writer.wait_closed();
  co_return ok;
}

Task<int> amain(int clients, int messages) {
  auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
  const auto addr = server.sockets().at(0).getsockname();
  std::printf("serving on %s\n", addr.to_string().c_str());

  std::vector<Task<int>> tasks;
  for (int i = 0; i < clients; ++i) tasks.push_back(asyncio::create_task(tcp_echo_client(addr.port, i, messages)));
  int ok = 0;
  for (auto& t : tasks) ok += co_await t;

  server.close();
  co_await server.wait_closed();
  std::printf("%d/%d echoes intact\n", ok, clients * messages);
  co_return ok == clients * messages ? 0 : 1;
}

int main(int argc, char** argv) {
  const int clients = argc > 1 ? std::atoi(argv[1]) : 5;
  const int messages = argc > 2 ? std::atoi(argv[2]) : 3;
  return asyncio::run(amain(clients, messages));
}
