// concur/detail/asyncio_io_socket.hpp — non-blocking socket plumbing under asyncio's streams.
//
// Plain synchronous helpers (no event loop here): every socket is created SOCK_NONBLOCK |
// SOCK_CLOEXEC, accepted with accept4 likewise, connected "in progress" and finished with
// SO_ERROR. Addresses are IPv4, IPv6 or Unix-domain. Failures are std::system_error with errno
// (Python's OSError); getaddrinfo failures are std::system_error in resolver_category()
// (Python's socket.gaierror). Every function is thread-safe (no shared state) and none blocks
// except resolve(), which may wait on DNS: the loop runs it on another thread.
#pragma once

#include "concur/detail/unique_fd.hpp"

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace concur::asyncio::detail {

/// Owns one file descriptor (concur::detail::UniqueFd).
using UniqueFd = concur::detail::UniqueFd;

/// A socket address of any family we support (AF_INET, AF_INET6, AF_UNIX).
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }

  /// Host part as text: "127.0.0.1", "::1", or the Unix path ("" for unnamed/abstract-less).
  std::string host() const;
  /// Port number (0 for Unix sockets).
  std::uint16_t port() const noexcept;
  /// Sets the port of an IPv4/IPv6 address (no-op for Unix sockets).
  void set_port(std::uint16_t port) noexcept;
  /// "127.0.0.1:8888", "[::1]:8888" or the Unix path.
  std::string to_string() const;

  static SocketAddress unix_path(std::string_view path);
};

/// One candidate endpoint from resolution.
struct ResolvedAddress {
  int family = 0;
  int socktype = SOCK_STREAM;
  int protocol = 0;
  SocketAddress address;
};

/// The error category of getaddrinfo's EAI_* codes (message from gai_strerror).
const std::error_category& resolver_category() noexcept;

/// Fast path: `host` is a numeric IPv4/IPv6 literal (or empty/"" meaning any address when
/// `passive`, else loopback). Returns nullopt when DNS would be needed. Never blocks.
std::optional<std::vector<ResolvedAddress>> resolve_numeric(const std::string& host, std::uint16_t port,
                                                            int family, bool passive);

/// getaddrinfo(host, port, SOCK_STREAM). May block on DNS. Throws std::system_error
/// (resolver_category()) when nothing resolves.
std::vector<ResolvedAddress> resolve(const std::string& host, std::uint16_t port, int family, bool passive);

/// socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol). Throws std::system_error.
UniqueFd make_socket(int family, int type = SOCK_STREAM, int protocol = 0);

/// A bound, listening, non-blocking socket. SO_REUSEADDR for TCP by default (as asyncio);
/// IPV6_V6ONLY on IPv6 sockets (as asyncio, so "::" and "0.0.0.0" can both be bound).
UniqueFd listen_on(const ResolvedAddress& a, int backlog, bool reuse_address, bool reuse_port);

/// Starts a non-blocking connect. Returns 0 when connected at once, EINPROGRESS when the caller
/// must wait for writability and then call finish_connect(); throws std::system_error otherwise.
int start_connect(int fd, const SocketAddress& a);

/// After writability: the connect's outcome (0 or an errno) read through SO_ERROR.
int finish_connect(int fd) noexcept;

/// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC). Returns the new fd, or -1 with errno (EAGAIN when the
/// backlog is empty). Retries EINTR.
int accept_connection(int listen_fd, SocketAddress* peer) noexcept;

/// TCP_NODELAY on (asyncio does the same for every TCP stream). No-op for Unix sockets.
void set_nodelay(int fd) noexcept;

/// getsockname / getpeername; empty address (length 0) on failure.
SocketAddress local_address(int fd) noexcept;
SocketAddress peer_address(int fd) noexcept;

/// "host:port" for IPv4, "[host]:port" for IPv6, the host (path) otherwise.
std::string format_host_port(int family, const std::string& host, std::uint16_t port);

/// Throws std::system_error(err, generic_category(), what).
[[noreturn]] void throw_errno(int err, const char* what);

}  // namespace concur::asyncio::detail
