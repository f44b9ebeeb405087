#include "concur/subprocess/stream.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "io.hpp"

namespace concur::subprocess {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

[[noreturn]] void throw_errno(int err, const char* what) {
  throw std::system_error(err, std::generic_category(), what);
}

void wait_fd(int fd, short events) {
  pollfd p{fd, events, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

}  // namespace

Stream::Stream(Stream&& o) noexcept : fd_(std::exchange(o.fd_, -1)), buf_(std::move(o.buf_)) {}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    buf_ = std::move(o.buf_);
  }
  return *this;
}

Stream::~Stream() { close(); }

void Stream::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

int Stream::release() noexcept {
  buf_.clear();
  return std::exchange(fd_, -1);
}

void Stream::write(std::string_view data) {
  if (fd_ < 0) throw_errno(EBADF, "write to a closed stream");
  detail::SigpipeGuard guard;
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN) {
      wait_fd(fd_, POLLOUT);  // communicate() may have left the fd non-blocking
    } else if (errno != EINTR) {
      throw_errno(errno, "write");
    }
  }
}

std::size_t Stream::fill() {
  if (fd_ < 0) throw_errno(EBADF, "read from a closed stream");
  const std::size_t old = buf_.size();
  buf_.resize(old + kChunk);
  while (true) {
    const ssize_t n = ::read(fd_, buf_.data() + old, kChunk);
    if (n >= 0) {
      buf_.resize(old + static_cast<std::size_t>(n));
      return static_cast<std::size_t>(n);
    }
    if (errno == EAGAIN) {
      wait_fd(fd_, POLLIN);
    } else if (errno != EINTR) {
      buf_.resize(old);
      throw_errno(errno, "read");
    }
  }
}

std::string Stream::read(std::optional<std::size_t> n) {
  while (!n || buf_.size() < *n) {
    if (fill() == 0) break;
  }
  std::string out;
  if (!n || *n >= buf_.size()) {
    out.swap(buf_);
  } else {
    out = buf_.substr(0, *n);
    buf_.erase(0, *n);
  }
  return out;
}

std::string Stream::readline() {
  std::size_t searched = 0;
  while (true) {
    const std::size_t nl = buf_.find('\n', searched);
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl + 1);
      buf_.erase(0, nl + 1);
      return line;
    }
    searched = buf_.size();
    if (fill() == 0) {
      std::string rest;
      rest.swap(buf_);
      return rest;
    }
  }
}

std::string Stream::take_buffered() noexcept {
  std::string out;
  out.swap(buf_);
  return out;
}

}  // namespace concur::subprocess
