// Non-blocking socket plumbing for asyncio streams (see concur/detail/asyncio_io_socket.hpp).
#include "concur/detail/asyncio_io_socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace concur::asyncio::detail {

void throw_errno(int err, const char* what) { throw std::system_error(err, std::generic_category(), what); }

std::string SocketAddress::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET: {
      auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
      ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
      return buf;
    }
    case AF_INET6: {
      auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
      return buf;
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
      const auto off = offsetof(sockaddr_un, sun_path);
      if (length <= off) return {};
      std::size_t n = length - off;
      if (un->sun_path[0] != '\0') n = ::strnlen(un->sun_path, n);
      return std::string(un->sun_path, n);
    }
    default:
      return {};
  }
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

void SocketAddress::set_port(std::uint16_t p) noexcept {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(p);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(p);
}

std::string format_host_port(int family, const std::string& host, std::uint16_t port) {
  if (family != AF_INET && family != AF_INET6) return host;
  std::string out;
  out.reserve(host.size() + 8);
  if (family == AF_INET6) out.push_back('[');
  out.append(host);
  if (family == AF_INET6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

std::string SocketAddress::to_string() const { return format_host_port(family(), host(), port()); }

SocketAddress SocketAddress::unix_path(std::string_view path) {
  SocketAddress a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage);
  un->sun_family = AF_UNIX;
  if (path.size() >= sizeof un->sun_path)
    throw std::system_error(ENAMETOOLONG, std::generic_category(), "AF_UNIX path too long");
  std::memcpy(un->sun_path, path.data(), path.size());
  a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                    (path.empty() || path[0] != '\0' ? 1 : 0));
  return a;
}

namespace {

class ResolverCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int ev) const override { return ::gai_strerror(ev); }
};

ResolvedAddress make_v4(const in_addr& addr, std::uint16_t port) {
  ResolvedAddress r;
  r.family = AF_INET;
  r.protocol = IPPROTO_TCP;
  auto* in = reinterpret_cast<sockaddr_in*>(&r.address.storage);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr = addr;
  r.address.length = sizeof(sockaddr_in);
  return r;
}

ResolvedAddress make_v6(const in6_addr& addr, std::uint16_t port) {
  ResolvedAddress r;
  r.family = AF_INET6;
  r.protocol = IPPROTO_TCP;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&r.address.storage);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  in6->sin6_addr = addr;
  r.address.length = sizeof(sockaddr_in6);
  return r;
}

}  // namespace

const std::error_category& resolver_category() noexcept {
  static const ResolverCategory cat;
  return cat;
}

std::optional<std::vector<ResolvedAddress>> resolve_numeric(const std::string& host, std::uint16_t port,
                                                            int family, bool passive) {
  std::vector<ResolvedAddress> out;
  if (host.empty()) {
    // asyncio binds every interface for host=None; a client gets loopback.
    if (family != AF_INET6) {
      in_addr a{};
      a.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
      out.push_back(make_v4(a, port));
    }
    if (family != AF_INET) out.push_back(make_v6(passive ? in6addr_any : in6addr_loopback, port));
    return out;
  }
  in_addr a4{};
  if (family != AF_INET6 && ::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    out.push_back(make_v4(a4, port));
    return out;
  }
  std::string h6 = host;
  if (h6.size() > 2 && h6.front() == '[' && h6.back() == ']') h6 = h6.substr(1, h6.size() - 2);
  in6_addr a6{};
  if (family != AF_INET && h6.find('%') == std::string::npos && ::inet_pton(AF_INET6, h6.c_str(), &a6) == 1) {
    out.push_back(make_v6(a6, port));
    return out;
  }
  return std::nullopt;
}

std::vector<ResolvedAddress> resolve(const std::string& host, std::uint16_t port, int family, bool passive) {
  if (auto fast = resolve_numeric(host, port, family, passive)) return std::move(*fast);
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc == EAI_SYSTEM) throw_errno(errno, "getaddrinfo");
  if (rc != 0) throw std::system_error(rc, resolver_category(), "getaddrinfo(" + host + ")");
  std::vector<ResolvedAddress> out;
  for (addrinfo* p = res; p; p = p->ai_next) {
    if (p->ai_family != AF_INET && p->ai_family != AF_INET6) continue;
    ResolvedAddress r;
    r.family = p->ai_family;
    r.socktype = p->ai_socktype;
    r.protocol = p->ai_protocol;
    std::memcpy(&r.address.storage, p->ai_addr, p->ai_addrlen);
    r.address.length = p->ai_addrlen;
    out.push_back(r);
  }
  ::freeaddrinfo(res);
  if (out.empty()) throw std::system_error(EAI_NONAME, resolver_category(), "getaddrinfo(" + host + ")");
  return out;
}

UniqueFd make_socket(int family, int type, int protocol) {
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw_errno(errno, "socket");
  return UniqueFd(fd);
}

UniqueFd listen_on(const ResolvedAddress& a, int backlog, bool reuse_address, bool reuse_port) {
  UniqueFd fd = make_socket(a.family, SOCK_STREAM, a.protocol);
  int one = 1;
  if (a.family != AF_UNIX && reuse_address)
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw_errno(errno, "setsockopt(SO_REUSEPORT)");
  if (a.family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), a.address.get(), a.address.length) != 0) {
    int err = errno;
    throw std::system_error(err, std::generic_category(), "bind(" + a.address.to_string() + ")");
  }
  if (::listen(fd.get(), backlog) != 0) throw_errno(errno, "listen");
  return fd;
}

int start_connect(int fd, const SocketAddress& a) {
  for (;;) {
    if (::connect(fd, a.get(), a.length) == 0) return 0;
    int err = errno;
    if (err == EINTR) continue;
    if (err == EINPROGRESS || err == EAGAIN) return EINPROGRESS;  // EAGAIN: Unix socket backlog full
    throw std::system_error(err, std::generic_category(), "connect(" + a.to_string() + ")");
  }
}

int finish_connect(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

int accept_connection(int listen_fd, SocketAddress* peer) noexcept {
  for (;;) {
    SocketAddress tmp;
    tmp.length = sizeof tmp.storage;
    int fd = ::accept4(listen_fd, tmp.get(), &tmp.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (peer) *peer = tmp;
      return fd;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    return -1;
  }
}

void set_nodelay(int fd) noexcept {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on AF_UNIX
}

SocketAddress local_address(int fd) noexcept {
  SocketAddress a;
  a.length = sizeof a.storage;
  if (::getsockname(fd, a.get(), &a.length) != 0) a.length = 0;
  return a;
}

SocketAddress peer_address(int fd) noexcept {
  SocketAddress a;
  a.length = sizeof a.storage;
  if (::getpeername(fd, a.get(), &a.length) != 0) a.length = 0;
  return a;
}

}  // namespace concur::asyncio::detail
