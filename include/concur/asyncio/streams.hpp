// concur/asyncio/streams.hpp — asyncio's high-level network streams (TCP, IPv4/IPv6, Unix).
//
//   Python                                              concur
//   r, w = await open_connection("127.0.0.1", 8888)     auto [r, w] = co_await open_connection("127.0.0.1", 8888);
//   srv = await start_server(cb, "::1", 0, limit=2**20) auto srv = co_await start_server(cb, "::1", 0, {.limit = 1 << 20});
//   line = await r.readline()                           std::string line = co_await r.readline();
//   w.write(b"hi"); await w.drain()                     w.write("hi"); co_await w.drain();
//   w.get_extra_info("peername")                        w.get_extra_info("peername")  -> std::optional<Address>
//
// Bytes are std::string (Python's bytes); host None is "" (every interface for a server, loopback
// for a client). Errors: OS failures are std::system_error with errno (ECONNRESET is Python's
// ConnectionResetError, ECONNREFUSED ConnectionRefusedError, EPIPE BrokenPipeError);
// IncompleteReadError and LimitOverrunError as in Python; a name that does not resolve is a
// std::system_error in the getaddrinfo category (Python's socket.gaierror).
//
// Threading: a stream and a server belong to the event loop of the thread that created them; use
// them only from coroutines running on that loop. One coroutine reads a StreamReader at a time
// (as in Python). The fd is registered with the loop once, edge-triggered; every operation tries
// the syscall first and suspends only when the socket would block.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concur/asyncio/task.hpp"
#include "concur/error.hpp"

namespace concur::asyncio {

namespace detail {
class StreamTransport;
class ServerCore;
}  // namespace detail

/// The default buffer limit of StreamReader (Python's 2**16).
inline constexpr std::size_t DEFAULT_STREAM_LIMIT = 64 * 1024;

/// readexactly() or readuntil() reached EOF first (Python: asyncio.IncompleteReadError, an EOFError).
class IncompleteReadError : public Error {
 public:
  IncompleteReadError(std::string partial_bytes, std::optional<std::size_t> expected_bytes);
  /// The bytes read before EOF.
  std::string partial;
  /// How many bytes were expected (nullopt: readuntil's "until the separator").
  std::optional<std::size_t> expected{};
};

/// readuntil() hit the reader's limit before finding the separator (Python:
/// asyncio.LimitOverrunError). The data stays in the buffer; `consumed` says how much to drop.
class LimitOverrunError : public Error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed_bytes);
  std::size_t consumed;
};

/// A socket address in Python's terms: ("127.0.0.1", 8888), ("::1", 8888, ...) or a Unix path.
struct Address {
  int family = AF_UNSPEC;  ///< AF_INET, AF_INET6 or AF_UNIX
  std::string host;        ///< numeric host, or the Unix path
  std::uint16_t port = 0;  ///< 0 for Unix sockets
  /// "127.0.0.1:8888", "[::1]:8888" or the path.
  std::string to_string() const;
  friend bool operator==(const Address&, const Address&) = default;
};

/// Reads from a stream (Python: asyncio.StreamReader). A cheap copyable handle (copies share the
/// stream, like Python references); the connection stays open while a reader or writer handle
/// exists, or until the writer is closed.
/// Not thread-safe: use it from its loop, one reading coroutine at a time.
class StreamReader {
 public:
  StreamReader() = default;

  /// Up to n bytes (n < 0: everything until EOF). Returns "" at EOF. Suspends until at least one
  /// byte is there. Throws std::system_error on a connection error (e.g. ECONNRESET).
  Task<std::string> read(std::ptrdiff_t n = -1);
  /// Exactly n bytes; throws IncompleteReadError (with the partial bytes) if EOF comes first.
  Task<std::string> readexactly(std::size_t n);
  /// One line ending in '\n' (without it only at EOF; "" at EOF). A line longer than the limit
  /// throws ValueError and drops the line (as Python).
  Task<std::string> readline();
  /// The bytes up to and including `separator`. Throws IncompleteReadError at EOF,
  /// LimitOverrunError when the limit is exceeded (the data stays buffered).
  Task<std::string> readuntil(std::string separator = "\n");
  /// True when EOF was reached and the buffer is empty.
  bool at_eof() const noexcept;
  /// The exception that stopped the stream, if any (Python: reader.exception()).
  std::exception_ptr exception() const noexcept;

  /// Non-Python twin for hot loops: reads up to out.size() bytes into `out` without allocating;
  /// returns 0 at EOF.
  Task<std::size_t> read_into(char* out, std::size_t size);

  explicit operator bool() const noexcept { return static_cast<bool>(t_); }

 private:
  friend class detail::StreamTransport;
  explicit StreamReader(std::shared_ptr<detail::StreamTransport> t) noexcept : t_(std::move(t)) {}
  std::shared_ptr<detail::StreamTransport> t_;
};

/// Writes to a stream (Python: asyncio.StreamWriter). A cheap copyable handle.
/// write() never blocks: it sends at once what the socket takes and buffers the rest, which the
/// loop flushes in the background; drain() is where back-pressure and connection errors appear.
/// Not thread-safe: use it from its loop.
class StreamWriter {
 public:
  StreamWriter() = default;

  /// Queues `data`. Never suspends, never throws connection errors (drain() reports them).
  /// Throws RuntimeError after write_eof().
  void write(std::string_view data);
  /// write() of each piece.
  void writelines(const std::vector<std::string>& lines);
  /// Suspends while the write buffer is above the high-water mark, until it falls to the low one
  /// (defaults 64 KiB / 16 KiB, as asyncio). Throws the connection's error (std::system_error,
  /// ECONNRESET "Connection lost" once closed) instead.
  Task<void> drain();
  /// Sends what is buffered, then shuts the write side down (the peer reads EOF).
  void write_eof();
  bool can_write_eof() const noexcept { return true; }
  /// Closes the stream: the buffered bytes are still sent, then the socket is closed. The reader
  /// of the same connection sees EOF. Idempotent.
  void close();
  /// True once close() was called or the connection was lost.
  bool is_closing() const noexcept;
  /// Suspends until the socket is closed (after close()). Throws the connection's error, if any,
  /// except ECONNRESET/EPIPE (as Python, which swallows them too).
  Task<void> wait_closed();
  /// Bytes waiting in the write buffer (Python: transport.get_write_buffer_size()).
  std::size_t get_write_buffer_size() const noexcept;
  /// Python's transport.set_write_buffer_limits(high, low): low defaults to high / 4.
  void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low = std::nullopt);
  /// "peername" or "sockname" (nullopt for other names or an unconnected socket).
  std::optional<Address> get_extra_info(std::string_view name) const;
  /// The socket's file descriptor (owned by the stream).
  int fileno() const noexcept;

  explicit operator bool() const noexcept { return static_cast<bool>(t_); }

 private:
  friend class detail::StreamTransport;
  explicit StreamWriter(std::shared_ptr<detail::StreamTransport> t) noexcept : t_(std::move(t)) {}
  std::shared_ptr<detail::StreamTransport> t_;
};

/// The callback a server runs for each accepted connection, as its own task.
/// An exception escaping it is reported (like asyncio's "Unhandled exception in
/// client_connected_cb") and the server keeps serving.
using ClientConnectedCallback = std::function<Task<void>(StreamReader, StreamWriter)>;

/// Python: asyncio.open_connection(host, port, *, limit, family, sock, local_addr).
struct OpenConnectionOptions {
  std::size_t limit = DEFAULT_STREAM_LIMIT;
  int family = AF_UNSPEC;
  /// A connected stream socket to use instead of host/port; the stream takes ownership.
  std::optional<int> sock{};
  /// (host, port) to bind the local end to.
  std::optional<std::pair<std::string, std::uint16_t>> local_addr{};
};

/// Python: asyncio.start_server(cb, host, port, *, limit, family, sock, backlog, reuse_address,
/// reuse_port, start_serving).
struct StartServerOptions {
  std::size_t limit = DEFAULT_STREAM_LIMIT;
  int family = AF_UNSPEC;
  /// A listening socket to serve instead of binding host/port; the server takes ownership.
  std::optional<int> sock{};
  int backlog = 100;
  std::optional<bool> reuse_address{};  ///< default: true (TCP)
  bool reuse_port = false;
  bool start_serving = true;
};

/// Python: asyncio.open_unix_connection(path, *, limit, sock).
struct OpenUnixConnectionOptions {
  std::size_t limit = DEFAULT_STREAM_LIMIT;
  std::optional<int> sock{};
};

/// Python: asyncio.start_unix_server(cb, path, *, limit, sock, backlog, start_serving,
/// cleanup_socket) — cleanup_socket (3.13) unlinks the path when the server closes.
struct StartUnixServerOptions {
  std::size_t limit = DEFAULT_STREAM_LIMIT;
  std::optional<int> sock{};
  int backlog = 100;
  bool start_serving = true;
  bool cleanup_socket = true;
};

/// A listening socket of a Server (Python's server.sockets[i]).
class ServerSocket {
 public:
  explicit ServerSocket(int fd) noexcept : fd_(fd) {}
  int fileno() const noexcept { return fd_; }
  /// The bound address, e.g. to learn the port picked for port 0.
  Address getsockname() const;

 private:
  int fd_;
};

/// A listening server (Python: asyncio.Server). Move-only handle; destroying it closes it (the
/// RAII form of `async with server`). Use on its loop only.
class Server {
 public:
  Server() = default;
  Server(Server&&) noexcept = default;
  Server& operator=(Server&&) noexcept;
  ~Server();

  /// Stops listening and closes the listening sockets. Connections already accepted go on.
  void close();
  /// Suspends until the server is closed and every connection it accepted has finished
  /// (Python 3.12+ semantics).
  Task<void> wait_closed();
  /// Starts accepting (if start_serving was false). Idempotent.
  void start_serving();
  /// Accepts until the awaiting task is cancelled; then closes the server and rethrows
  /// CancelledError.
  Task<void> serve_forever();
  bool is_serving() const noexcept;
  /// The listening sockets; empty once closed.
  std::vector<ServerSocket> sockets() const;
  /// Connections accepted and not yet finished.
  std::size_t active_connections() const noexcept;

 private:
  friend class detail::ServerCore;
  explicit Server(std::shared_ptr<detail::ServerCore> c) noexcept : c_(std::move(c)) {}
  std::shared_ptr<detail::ServerCore> c_;
};

/// Connects to host:port (trying each resolved address in turn) and returns the two halves.
/// A numeric host resolves at once; a name is resolved on another thread, never blocking the loop.
/// Throws std::system_error (the last connect error, or the getaddrinfo one).
Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, std::uint16_t port,
                                                            OpenConnectionOptions options = {});

/// Binds host:port (port 0 picks a free port; "" binds every interface, IPv4 and IPv6), listens,
/// and runs `client_connected_cb(reader, writer)` as a new task for each connection.
Task<Server> start_server(ClientConnectedCallback client_connected_cb, std::string host, std::uint16_t port,
                          StartServerOptions options = {});

/// open_connection over a Unix-domain stream socket (a leading '\0' names an abstract socket).
Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 OpenUnixConnectionOptions options = {});

/// start_server over a Unix-domain stream socket; a stale socket file at `path` is replaced.
Task<Server> start_unix_server(ClientConnectedCallback client_connected_cb, std::string path,
                               StartUnixServerOptions options = {});

}  // namespace concur::asyncio
