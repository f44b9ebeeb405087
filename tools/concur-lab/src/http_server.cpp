#include "http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "util.hpp"

namespace lab {

const std::vector<std::string>& flag_codes() {
  static const std::vector<std::string> v = {"CN", "IN", "US", "ID", "BR", "PK", "NG", "BD", "RU", "JP",
                                             "MX", "PH", "VN", "ET", "EG", "DE", "IR", "TR", "CD", "FR"};
  return v;
}

const std::set<std::string>& missing_flags() {
  static const std::set<std::string> s = {"CD", "IR", "VN"};
  return s;
}

std::string flag_body(const std::string& cc) {
  std::uint32_t seed = static_cast<std::uint32_t>(cc[0]) * 256u + static_cast<std::uint32_t>(cc[1]);
  std::size_t size = 2000 + seed % 1000;
  auto bytes = xorshift_bytes(seed, size);
  std::string body = "GIF89a";
  body.append(bytes.begin(), bytes.end());
  return body;
}

static std::system_error sys_error(const char* what) { return std::system_error(errno, std::generic_category(), what); }

FlagServer::FlagServer(int port, double delay_seconds) : delay_(delay_seconds) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw sys_error("socket");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 128) != 0) {
    auto e = sys_error(("flags server cannot listen on 127.0.0.1:" + std::to_string(port)).c_str());
    ::close(listen_fd_);
    throw e;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FlagServer::~FlagServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> conns;
  {
    std::lock_guard g(mu_);
    conns.swap(conns_);
  }
  for (auto& t : conns) t.join();
}

void FlagServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    if (n <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) break;
      continue;
    }
    std::lock_guard g(mu_);
    conns_.emplace_back([this, fd] { serve(fd); });
  }
}

void FlagServer::serve(int fd) {
  std::string req;
  char buf[4096];
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (req.find("\r\n\r\n") == std::string::npos && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k <= 0) break;
    req.append(buf, static_cast<std::size_t>(k));
  }
  ++requests_;
  if (delay_ > 0) slow_systemcall(delay_);
  // "GET /flags/cn/cn.gif HTTP/1.1"
  std::string status = "404 Not Found", body = "not found\n", type = "text/plain";
  auto sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
  if (req.rfind("GET ", 0) == 0 && sp2 != std::string::npos) {
    std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string prefix = "/flags/";
    if (path.rfind(prefix, 0) == 0 && path.size() == prefix.size() + 9) {  // "cn/cn.gif"
      std::string cc = path.substr(prefix.size(), 2);
      for (auto& c : cc) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      bool known = false;
      for (auto& f : flag_codes()) known = known || f == cc;
      if (known && !missing_flags().count(cc)) {
        status = "200 OK";
        body = flag_body(cc);
        type = "image/gif";
      }
    }
  }
  std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  std::size_t off = 0;
  while (off < resp.size()) {
    ssize_t k = ::send(fd, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
    if (k <= 0) break;
    off += static_cast<std::size_t>(k);
  }
  ::shutdown(fd, SHUT_WR);
  // Drain until the client closes, so the client never sees a reset.
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) break;
    if (::recv(fd, buf, sizeof buf, 0) <= 0) break;
  }
  ::close(fd);
}

HttpResult parse_http_response(const std::string& raw) {
  HttpResult r;
  auto sp = raw.find(' ');
  if (raw.rfind("HTTP/", 0) != 0 || sp == std::string::npos) throw std::runtime_error("bad HTTP response");
  r.status = std::atoi(raw.c_str() + sp + 1);
  auto hdr_end = raw.find("\r\n\r\n");
  if (hdr_end == std::string::npos) throw std::runtime_error("truncated HTTP response");
  r.body = raw.substr(hdr_end + 4);
  return r;
}

HttpResult http_get(int port, const std::string& path, double timeout_seconds) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sys_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    auto e = sys_error("connect");
    ::close(fd);
    throw e;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[8192];
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      ::close(fd);
      throw std::system_error(ETIMEDOUT, std::generic_category(), "GET " + path);
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k < 0) {
      auto e = sys_error("recv");
      ::close(fd);
      throw e;
    }
    if (k == 0) break;
    raw.append(buf, static_cast<std::size_t>(k));
  }
  ::close(fd);
  return parse_http_response(raw);
}

}  // namespace lab
