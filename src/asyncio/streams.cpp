// asyncio streams: StreamTransport (the state under StreamReader/StreamWriter), open_connection,
// start_server and their Unix-domain twins.
#include "concur/asyncio/streams.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <concepts>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <thread>

#include "concur/detail/asyncio_io_transport.hpp"

namespace concur::asyncio {

IncompleteReadError::IncompleteReadError(std::string partial_bytes, std::optional<std::size_t> expected_bytes)
    : Error(std::to_string(partial_bytes.size()) + " bytes read on a total of " +
            (expected_bytes ? std::to_string(*expected_bytes) : std::string("undefined")) + " expected bytes"),
      partial(std::move(partial_bytes)),
      expected(expected_bytes) {}

LimitOverrunError::LimitOverrunError(const std::string& message, std::size_t consumed_bytes)
    : Error(message), consumed(consumed_bytes) {}

std::string Address::to_string() const { return detail::format_host_port(family, host, port); }

namespace detail {

namespace {

Address to_public(const SocketAddress& a) {
  Address out;
  if (a.length == 0) return out;
  out.family = a.family();
  out.host = a.host();
  out.port = a.port();
  return out;
}

// Per-thread overflow area for reads: one readv() takes whatever the kernel holds without the
// per-connection buffer having to be large (10,000 idle connections cost little memory).
constexpr std::size_t kScratchSize = 64 * 1024;
constexpr std::size_t kMinReadRoom = 2 * 1024;
thread_local char t_scratch[kScratchSize];

std::exception_ptr make_errno(int err, const char* what) {
  return std::make_exception_ptr(std::system_error(err, std::generic_category(), what));
}

void ignore_sigpipe_once() {
  // Python ignores SIGPIPE at start-up; pipes need the same (sockets use MSG_NOSIGNAL instead).
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction old{};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  });
}

/// True when the watch can tell that EPOLLRDHUP/EPOLLHUP/EPOLLERR was seen; true (unknown: be
/// safe) when FdWatch has no such accessor.
template <class W>
bool watch_read_closed(const W& w) noexcept {
  if constexpr (requires { { w.read_closed() } -> std::convertible_to<bool>; }) {
    return w.read_closed();
  } else {
    return true;
  }
}

/// Counts a waiter on the watch for the duration of a co_await (so close() knows whether it may
/// release the fd now or must let the waiter do it).
struct WaitingGuard {
  int& n;
  explicit WaitingGuard(int& c) : n(c) { ++n; }
  ~WaitingGuard() { --n; }
};

}  // namespace

StreamTransport::StreamTransport(UniqueFd fd, Kind kind, std::size_t limit)
    : fd_(std::move(fd)), kind_(kind), limit_(limit == 0 ? DEFAULT_STREAM_LIMIT : limit) {
  watch_.emplace(fd_.get());
  drain_ok_.set();
  if (kind_ == Kind::write_pipe) ignore_sigpipe_once();
}

StreamTransport::~StreamTransport() { release_fd(); }

std::pair<StreamReader, StreamWriter> StreamTransport::make_pair(UniqueFd fd, std::size_t limit) {
  auto t = std::make_shared<StreamTransport>(std::move(fd), Kind::socket, limit);
  return {StreamReader(t), StreamWriter(t)};
}

StreamReader StreamTransport::make_reader(UniqueFd fd, std::size_t limit) {
  return StreamReader(std::make_shared<StreamTransport>(std::move(fd), Kind::read_pipe, limit));
}

StreamWriter StreamTransport::make_writer(UniqueFd fd) {
  return StreamWriter(std::make_shared<StreamTransport>(std::move(fd), Kind::write_pipe, DEFAULT_STREAM_LIMIT));
}

void StreamTransport::maybe_release() {
  if (closing_ && lost_ && waiting_ == 0) release_fd();
}

void StreamTransport::release_fd() {
  if (released_) return;
  released_ = true;
  watch_.reset();
  fd_.reset();
}

// ---------------------------------------------------------------------------------------------
// Reading

void StreamTransport::check_reader() const {
  if (reading_) throw RuntimeError("read() called while another coroutine is already waiting for incoming data");
}

std::string StreamTransport::take(std::size_t n) {
  std::string out(rbuf_.data() + rbeg_, n);
  rbeg_ += n;
  if (rbeg_ == rend_) rbeg_ = rend_ = 0;
  return out;
}

bool StreamTransport::fill_once() {
  if (eof_) return true;
  if (released_) {  // closed locally: behave as EOF, as Python's feed_eof() on connection_lost
    eof_ = true;
    return true;
  }
  // Make room: compact, then grow so at least kMinReadRoom is free.
  if (rbeg_ > 0 && (rbeg_ == rend_ || rbeg_ > rbuf_.size() / 2)) {
    std::memmove(rbuf_.data(), rbuf_.data() + rbeg_, rend_ - rbeg_);
    rend_ -= rbeg_;
    rbeg_ = 0;
  }
  if (rbuf_.size() - rend_ < kMinReadRoom) rbuf_.resize(std::max(rbuf_.size() * 2, rend_ + kMinReadRoom));
  const std::size_t room = rbuf_.size() - rend_;
  iovec iov[2] = {{rbuf_.data() + rend_, room}, {t_scratch, kScratchSize}};
  ssize_t n;
  do {
    n = ::readv(fd_.get(), iov, 2);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    const auto got = static_cast<std::size_t>(n);
    if (got <= room) {
      rend_ += got;
    } else {
      rend_ += room;
      const std::size_t extra = got - room;
      rbuf_.resize(rend_ + extra);
      std::memcpy(rbuf_.data() + rend_, t_scratch, extra);
      rend_ += extra;
    }
    // A short read means the kernel queue is empty now: the next read can wait for the next
    // edge instead of spending a syscall to learn EAGAIN -- unless the peer's FIN/HUP was folded
    // into the edge that woke us (no further edge would come). That takes the watch telling us
    // it saw EPOLLRDHUP/EPOLLHUP; without such an accessor we always try the syscall first.
    if (got < room + kScratchSize && !watch_read_closed(*watch_)) read_ready_ = false;
    return true;
  }
  if (n == 0) {
    eof_ = true;
    return true;
  }
  const int err = errno;
  if (err == EAGAIN || err == EWOULDBLOCK) {
    read_ready_ = false;
    return false;
  }
  read_error_ = make_errno(err, err == ECONNRESET ? "Connection reset by peer" : "read");
  eof_ = true;
  std::rethrow_exception(read_error_);
}

Task<void> StreamTransport::fill() {
  if (read_error_) std::rethrow_exception(read_error_);
  for (;;) {
    if (read_ready_ || eof_ || released_) {
      if (fill_once()) co_return;
    }
    {
      WaitingGuard g(waiting_);
      co_await watch_->readable();
    }
    read_ready_ = true;
    maybe_release();
  }
}

struct ReadingGuard {
  bool& flag;
  explicit ReadingGuard(bool& f) : flag(f) { flag = true; }
  ~ReadingGuard() { flag = false; }
};

Task<std::string> StreamTransport::read(std::ptrdiff_t n) {
  if (n == 0) co_return std::string();
  check_reader();
  ReadingGuard rg(reading_);
  if (n < 0) {
    // Read until EOF.
    while (!eof_) co_await fill();
    if (read_error_) std::rethrow_exception(read_error_);
    co_return take(buffered());
  }
  if (buffered() == 0 && !eof_) co_await fill();
  if (buffered() == 0 && read_error_) std::rethrow_exception(read_error_);
  co_return take(std::min(buffered(), static_cast<std::size_t>(n)));
}

Task<std::size_t> StreamTransport::read_into(char* out, std::size_t size) {
  if (size == 0) co_return 0;
  check_reader();
  ReadingGuard rg(reading_);
  if (buffered() == 0 && !eof_) co_await fill();
  const std::size_t k = std::min(buffered(), size);
  if (k == 0 && read_error_) std::rethrow_exception(read_error_);
  std::memcpy(out, rbuf_.data() + rbeg_, k);
  rbeg_ += k;
  if (rbeg_ == rend_) rbeg_ = rend_ = 0;
  co_return k;
}

Task<std::string> StreamTransport::readexactly(std::size_t n) {
  if (n == 0) co_return std::string();
  check_reader();
  ReadingGuard rg(reading_);
  while (buffered() < n) {
    if (eof_) {
      if (read_error_ && buffered() == 0) std::rethrow_exception(read_error_);
      throw IncompleteReadError(take(buffered()), n);
    }
    co_await fill();
  }
  co_return take(n);
}

Task<std::string> StreamTransport::readuntil(std::string sep) {
  if (sep.empty()) throw ValueError("Separator should be at least one-byte string");
  check_reader();
  ReadingGuard rg(reading_);
  std::size_t offset = 0;  // where to resume searching
  for (;;) {
    const std::size_t len = buffered();
    if (len - offset >= sep.size()) {
      const std::string_view hay(rbuf_.data() + rbeg_, len);
      const std::size_t isep = hay.find(sep, offset);
      if (isep != std::string_view::npos) {
        if (isep > limit_) throw LimitOverrunError("Separator is found, but chunk is longer than limit", isep);
        co_return take(isep + sep.size());
      }
      offset = len + 1 - sep.size();
      if (offset > limit_) throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
    }
    if (eof_) {
      if (read_error_ && len == 0) std::rethrow_exception(read_error_);
      throw IncompleteReadError(take(len), std::nullopt);
    }
    co_await fill();
  }
}

Task<std::string> StreamTransport::readline() {
  try {
    co_return co_await readuntil("\n");
  } catch (IncompleteReadError& e) {
    co_return std::move(e.partial);
  } catch (LimitOverrunError& e) {
    const std::string_view rest(rbuf_.data() + rbeg_, buffered());
    if (rest.substr(e.consumed, 1) == "\n") {
      rbeg_ += e.consumed + 1;
    } else {
      rbeg_ = rend_;
    }
    if (rbeg_ == rend_) rbeg_ = rend_ = 0;
    throw ValueError(e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

void StreamTransport::write(std::string_view data) {
  if (eof_requested_) throw RuntimeError("Cannot call write() after write_eof()");
  if (data.empty() || lost_ || closing_) return;  // Python ignores writes on a lost connection
  if (write_buffer_size() == 0 && write_ready_) {
    ssize_t n;
    do {
      n = kind_ == Kind::socket ? ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL)
                                : ::write(fd_.get(), data.data(), data.size());
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      if (data.empty()) return;
      write_ready_ = false;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      write_ready_ = false;
    } else {
      connection_lost(errno);
      return;
    }
  }
  if (wbeg_ > 0 && wbeg_ == wbuf_.size()) {
    wbuf_.clear();
    wbeg_ = 0;
  }
  wbuf_.insert(wbuf_.end(), data.begin(), data.end());
  update_drain_event();
  start_flusher();
}

bool StreamTransport::flush_once() {
  while (write_buffer_size() > 0) {
    ssize_t n = kind_ == Kind::socket
                    ? ::send(fd_.get(), wbuf_.data() + wbeg_, write_buffer_size(), MSG_NOSIGNAL)
                    : ::write(fd_.get(), wbuf_.data() + wbeg_, write_buffer_size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        write_ready_ = false;
        return false;
      }
      connection_lost(errno);
      return true;
    }
    wbeg_ += static_cast<std::size_t>(n);
  }
  wbuf_.clear();
  wbeg_ = 0;
  return true;
}

void StreamTransport::start_flusher() {
  if (flushing_ || lost_) return;
  flushing_ = true;
  (void)create_task(flush_in_background(shared_from_this()));
}

Task<void> StreamTransport::flush_in_background(std::shared_ptr<StreamTransport> self) {
  try {
    while (!lost_ && !released_) {
      if (write_ready_) {
        if (flush_once()) break;
        update_drain_event();
      }
      WaitingGuard g(waiting_);
      co_await watch_->writable();
      write_ready_ = true;
    }
    maybe_release();
  } catch (...) {
    // Cancelled (the loop is shutting down): the bytes cannot go out any more.
    flushing_ = false;
    connection_lost(ECONNABORTED);
    co_return;
  }
  flushing_ = false;
  update_drain_event();
  if (!lost_) {
    if (closing_) {
      finish_close();
    } else if (eof_requested_ && !eof_sent_ && kind_ == Kind::socket) {
      eof_sent_ = true;
      ::shutdown(fd_.get(), SHUT_WR);
    }
  }
  (void)self;
}

void StreamTransport::update_drain_event() {
  const std::size_t size = write_buffer_size();
  if (lost_ || size <= low_water_) {
    drain_ok_.set();
  } else if (size > high_water_) {
    drain_ok_.clear();
  }
}

void StreamTransport::set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
  const std::size_t lo = low.value_or(high / 4);
  if (lo > high) throw ValueError("high must be >= low must be >= 0");
  high_water_ = high;
  low_water_ = lo;
  update_drain_event();
}

Task<void> StreamTransport::drain() {
  if (write_errno_ != 0) throw std::system_error(write_errno_, std::generic_category(), "Connection lost");
  if (lost_) throw std::system_error(ECONNRESET, std::generic_category(), "Connection lost");
  if (!drain_ok_.is_set()) co_await drain_ok_.wait();
  if (write_errno_ != 0) throw std::system_error(write_errno_, std::generic_category(), "Connection lost");
}

void StreamTransport::write_eof() {
  if (eof_requested_ || closing_) return;
  eof_requested_ = true;
  if (write_buffer_size() == 0 && !lost_) {
    eof_sent_ = true;
    if (kind_ == Kind::socket) {
      ::shutdown(fd_.get(), SHUT_WR);
    } else {
      finish_close();  // a pipe's EOF is its close
    }
  }
}

void StreamTransport::connection_lost(int err) {
  if (lost_) return;
  lost_ = true;
  if (err != 0 && write_errno_ == 0) write_errno_ = err;
  wbuf_.clear();
  wbeg_ = 0;
  drain_ok_.set();
  if (closing_) finish_close();
}

void StreamTransport::close() {
  if (closing_) return;
  closing_ = true;
  if (write_buffer_size() == 0 || lost_) finish_close();
  // else: the flusher sends the rest, then calls finish_close().
}

void StreamTransport::finish_close() {
  lost_ = true;
  if (!released_) {
    if (waiting_ == 0) {
      release_fd();  // a plain close(), as Python's transport (SO_LINGER 0 then sends RST)
    } else if (kind_ == Kind::socket) {
      ::shutdown(fd_.get(), SHUT_RDWR);  // wakes the suspended task, which then releases the fd
    }
  }
  drain_ok_.set();
  closed_.set();
}

Task<void> StreamTransport::wait_closed() {
  co_await closed_.wait();
  if (write_errno_ != 0 && write_errno_ != ECONNRESET && write_errno_ != EPIPE && write_errno_ != ECONNABORTED)
    throw std::system_error(write_errno_, std::generic_category(), "Connection lost");
}

// ---------------------------------------------------------------------------------------------
// Server

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(ClientConnectedCallback cb, std::vector<UniqueFd> fds, std::size_t limit, std::string unix_path)
      : cb_(std::move(cb)), limit_(limit), unix_path_(std::move(unix_path)) {
    for (auto& fd : fds) {
      listeners_.push_back(std::make_unique<Listener>(std::move(fd)));
    }
  }
  ~ServerCore() { close(); }

  void start_serving() {
    if (serving_ || closed_flag_) return;
    serving_ = true;
    for (auto& l : listeners_) {
      (void)create_task(accept_loop(shared_from_this(), l.get()));
    }
  }

  void close() {
    if (closed_flag_) return;
    closed_flag_ = true;
    serving_ = false;
    for (auto& l : listeners_) {
      l->closing = true;
      // Wakes a suspended accept loop (accept() then fails with EINVAL) so it can release the fd.
      ::shutdown(l->fd.get(), SHUT_RDWR);
      if (!l->accepting) l->release();
    }
    if (!unix_path_.empty() && unix_path_[0] != '\0') ::unlink(unix_path_.c_str());
    maybe_done();
  }

  // Python 3.12+: until closed *and* every connection it accepted is done.
  Task<void> wait_closed() { co_await done_.wait(); }

  bool is_serving() const noexcept { return serving_; }
  std::vector<ServerSocket> sockets() const {
    std::vector<ServerSocket> out;
    if (closed_flag_) return out;
    for (auto& l : listeners_) out.emplace_back(l->fd.get());
    return out;
  }
  std::size_t active() const noexcept { return active_; }

 private:
  struct Listener {
    explicit Listener(UniqueFd f) : fd(std::move(f)) { watch.emplace(fd.get()); }
    void release() {
      watch.reset();
      fd.reset();
    }
    UniqueFd fd;
    std::optional<FdWatch> watch;
    bool accepting = false;
    bool closing = false;
  };

  static Task<void> accept_loop(std::shared_ptr<ServerCore> self, Listener* l) {
    l->accepting = true;
    try {
      while (!l->closing) {
        SocketAddress peer;
        const int fd = accept_connection(l->fd.get(), &peer);
        if (fd >= 0) {
          if (peer.family() != AF_UNIX) set_nodelay(fd);
          self->spawn_handler(UniqueFd(fd));
          continue;
        }
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
          co_await l->watch->readable();
          continue;
        }
        if (l->closing) break;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // As asyncio: report, pause accepting for a while, keep serving.
          std::cerr << "concur.asyncio: accept() failed: " << std::strerror(err) << "; pausing 0.1 s\n";
          co_await sleep(std::chrono::milliseconds(100));
          continue;
        }
        if (err == EINVAL) break;  // shut down under us
        std::cerr << "concur.asyncio: accept() failed: " << std::strerror(err) << "\n";
        co_await sleep(std::chrono::milliseconds(100));
      }
    } catch (...) {
      // Cancelled: the loop is shutting down.
    }
    l->accepting = false;
    if (l->closing) l->release();
  }

  void spawn_handler(UniqueFd fd) {
    ++active_;
    (void)create_task(run_handler(shared_from_this(), std::move(fd)));
  }

  static Task<void> run_handler(std::shared_ptr<ServerCore> self, UniqueFd fd) {
    struct Done {
      ServerCore* s;
      ~Done() {
        --s->active_;
        s->maybe_done();
      }
    } done{self.get()};
    try {
      auto [r, w] = StreamTransport::make_pair(std::move(fd), self->limit_);
      co_await self->cb_(std::move(r), std::move(w));
    } catch (const CancelledError&) {
      // The loop is shutting down.
    } catch (const std::exception& e) {
      std::cerr << "concur.asyncio: Unhandled exception in client_connected_cb: " << e.what() << "\n";
    } catch (...) {
      std::cerr << "concur.asyncio: Unhandled exception in client_connected_cb\n";
    }
  }

  void maybe_done() {
    if (closed_flag_ && active_ == 0) done_.set();
  }

  ClientConnectedCallback cb_;
  std::size_t limit_;
  std::string unix_path_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  bool serving_ = false;
  bool closed_flag_ = false;
  std::size_t active_ = 0;
  IoEvent done_;

  friend class concur::asyncio::Server;

 public:
  static Server wrap(std::shared_ptr<ServerCore> c) { return Server(std::move(c)); }
};

// Name resolution off the loop: numeric hosts at once, names on a helper thread.
// The blocking job, built outside any coroutine: g++ 12 miscompiles a lambda that captures a
// coroutine's by-value std::string parameter (the copy keeps pointing into the frame).
std::function<std::vector<ResolvedAddress>()> resolve_job(const std::string& host, std::uint16_t port, int family,
                                                          bool passive) {
  return [host, port, family, passive] { return resolve(host, port, family, passive); };
}

Task<std::vector<ResolvedAddress>> resolve_async(std::string host, std::uint16_t port, int family, bool passive) {
  if (auto fast = resolve_numeric(host, port, family, passive)) co_return std::move(*fast);
  auto job = resolve_job(host, port, family, passive);
  co_return co_await run_blocking<std::vector<ResolvedAddress>>(std::move(job));
}

Task<UniqueFd> connect_to(const ResolvedAddress& a, const std::optional<std::pair<std::string, std::uint16_t>>& local) {
  UniqueFd fd = make_socket(a.family, SOCK_STREAM, a.protocol);
  if (local) {
    auto addrs = co_await resolve_async(local->first, local->second, a.family, true);
    if (::bind(fd.get(), addrs.front().address.get(), addrs.front().address.length) != 0)
      throw_errno(errno, "bind(local_addr)");
  }
  if (start_connect(fd.get(), a.address) == EINPROGRESS) {
    FdWatch watch(fd.get());
    co_await watch.writable();
    if (int err = finish_connect(fd.get()); err != 0)
      throw std::system_error(err, std::generic_category(), "connect(" + a.address.to_string() + ")");
  }
  co_return fd;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Public handles

namespace {
detail::StreamTransport& tr(const std::shared_ptr<detail::StreamTransport>& t) {
  if (!t) throw InvalidStateError("use of an empty stream handle");
  return *t;
}
}  // namespace

Task<std::string> StreamReader::read(std::ptrdiff_t n) { return tr(t_).read(n); }
Task<std::string> StreamReader::readexactly(std::size_t n) { return tr(t_).readexactly(n); }
Task<std::string> StreamReader::readline() { return tr(t_).readline(); }
Task<std::string> StreamReader::readuntil(std::string separator) { return tr(t_).readuntil(std::move(separator)); }
Task<std::size_t> StreamReader::read_into(char* out, std::size_t size) { return tr(t_).read_into(out, size); }
bool StreamReader::at_eof() const noexcept { return !t_ || t_->at_eof(); }
std::exception_ptr StreamReader::exception() const noexcept { return t_ ? t_->exception() : nullptr; }

void StreamWriter::write(std::string_view data) { tr(t_).write(data); }
void StreamWriter::writelines(const std::vector<std::string>& lines) {
  for (const auto& l : lines) tr(t_).write(l);
}
Task<void> StreamWriter::drain() { return tr(t_).drain(); }
void StreamWriter::write_eof() { tr(t_).write_eof(); }
void StreamWriter::close() { tr(t_).close(); }
bool StreamWriter::is_closing() const noexcept { return !t_ || t_->is_closing(); }
Task<void> StreamWriter::wait_closed() { return tr(t_).wait_closed(); }
std::size_t StreamWriter::get_write_buffer_size() const noexcept { return t_ ? t_->write_buffer_size() : 0; }
void StreamWriter::set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
  tr(t_).set_write_buffer_limits(high, low);
}
int StreamWriter::fileno() const noexcept { return t_ ? t_->fileno() : -1; }
std::optional<Address> StreamWriter::get_extra_info(std::string_view name) const {
  if (!t_ || t_->fileno() < 0) return std::nullopt;
  detail::SocketAddress a;
  if (name == "peername") {
    a = detail::peer_address(t_->fileno());
  } else if (name == "sockname") {
    a = detail::local_address(t_->fileno());
  } else {
    return std::nullopt;
  }
  if (a.length == 0) return std::nullopt;
  return detail::to_public(a);
}

Address ServerSocket::getsockname() const { return detail::to_public(detail::local_address(fd_)); }

Server& Server::operator=(Server&& o) noexcept {
  if (this != &o) {
    if (c_) c_->close();
    c_ = std::move(o.c_);
  }
  return *this;
}
Server::~Server() {
  if (c_) c_->close();
}
void Server::close() {
  if (c_) c_->close();
}
Task<void> Server::wait_closed() {
  if (!c_) return []() -> Task<void> { co_return; }();
  return c_->wait_closed();
}
void Server::start_serving() {
  if (c_) c_->start_serving();
}
bool Server::is_serving() const noexcept { return c_ && c_->is_serving(); }
std::vector<ServerSocket> Server::sockets() const { return c_ ? c_->sockets() : std::vector<ServerSocket>{}; }
std::size_t Server::active_connections() const noexcept { return c_ ? c_->active() : 0; }

Task<void> Server::serve_forever() {
  auto c = c_;
  if (!c) throw InvalidStateError("serve_forever() on an empty Server");
  c->start_serving();
  try {
    detail::IoEvent never;
    co_await never.wait();
  } catch (...) {
    c->close();
    throw;
  }
}

Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, std::uint16_t port,
                                                            OpenConnectionOptions options) {
  if (options.sock) {
    detail::UniqueFd fd(*options.sock);
    co_return detail::StreamTransport::make_pair(std::move(fd), options.limit);
  }
  auto addrs = co_await detail::resolve_async(host, port, options.family, false);
  std::exception_ptr last;
  for (const auto& a : addrs) {
    try {
      detail::UniqueFd fd = co_await detail::connect_to(a, options.local_addr);
      detail::set_nodelay(fd.get());
      co_return detail::StreamTransport::make_pair(std::move(fd), options.limit);
    } catch (const std::system_error&) {
      last = std::current_exception();
    }
  }
  std::rethrow_exception(last);
}

Task<Server> start_server(ClientConnectedCallback client_connected_cb, std::string host, std::uint16_t port,
                          StartServerOptions options) {
  std::vector<detail::UniqueFd> fds;
  if (options.sock) {
    fds.emplace_back(*options.sock);
  } else {
    auto addrs = co_await detail::resolve_async(host, port, options.family, true);
    for (const auto& a : addrs) {
      fds.push_back(detail::listen_on(a, options.backlog, options.reuse_address.value_or(true), options.reuse_port));
      if (port == 0 && fds.size() == 1 && addrs.size() > 1) {
        // Port 0 on several addresses: reuse the first pick for the others (as asyncio does not
        // guarantee, but tests expect one port).
        port = detail::local_address(fds.front().get()).port();
        for (auto& rest : addrs) {
          if (&rest != &a) {
            auto r = rest;
            r.address.set_port(port);
            fds.push_back(detail::listen_on(r, options.backlog, options.reuse_address.value_or(true),
                                            options.reuse_port));
          }
        }
        break;
      }
    }
  }
  auto core = std::make_shared<detail::ServerCore>(std::move(client_connected_cb), std::move(fds), options.limit,
                                                   std::string());
  if (options.start_serving) core->start_serving();
  co_return detail::ServerCore::wrap(std::move(core));
}

Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, OpenUnixConnectionOptions options) {
  detail::UniqueFd fd;
  if (options.sock) {
    fd.reset(*options.sock);
  } else {
    fd = detail::make_socket(AF_UNIX);
    const auto addr = detail::SocketAddress::unix_path(path);
    if (detail::start_connect(fd.get(), addr) == EINPROGRESS) {
      FdWatch watch(fd.get());
      co_await watch.writable();
      if (int err = detail::finish_connect(fd.get()); err != 0)
        throw std::system_error(err, std::generic_category(), "connect(" + path + ")");
    }
  }
  co_return detail::StreamTransport::make_pair(std::move(fd), options.limit);
}

Task<Server> start_unix_server(ClientConnectedCallback client_connected_cb, std::string path,
                               StartUnixServerOptions options) {
  std::vector<detail::UniqueFd> fds;
  if (options.sock) {
    fds.emplace_back(*options.sock);
  } else {
    if (!path.empty() && path[0] != '\0') {
      struct stat st{};
      if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());  // stale socket
    }
    detail::ResolvedAddress a;
    a.family = AF_UNIX;
    a.address = detail::SocketAddress::unix_path(path);
    fds.push_back(detail::listen_on(a, options.backlog, false, false));
  }
  auto core = std::make_shared<detail::ServerCore>(std::move(client_connected_cb), std::move(fds), options.limit,
                                                   options.cleanup_socket ? path : std::string());
  if (options.start_serving) core->start_serving();
  co_return detail::ServerCore::wrap(std::move(core));
}

}  // namespace concur::asyncio
