// concur/detail/asyncio_io_transport.hpp — the shared state behind one StreamReader/StreamWriter
// pair: a non-blocking fd (socket or pipe) registered once with the loop (edge-triggered), a read
// buffer and a write buffer. Internal to src/asyncio/streams.cpp and subprocess.cpp.
//
// Readiness: `read_ready_` / `write_ready_` are cleared when a syscall says EAGAIN (or a read comes
// back short, which on a stream means the kernel queue is empty) and set again when the loop
// reports an edge; while cleared, an operation suspends at once instead of wasting a syscall.
// Loop-thread only: no locking.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concur/asyncio/event_loop.hpp"
#include "concur/asyncio/streams.hpp"
#include "concur/asyncio/task.hpp"
#include "concur/detail/asyncio_io_event.hpp"
#include "concur/detail/asyncio_io_socket.hpp"

namespace concur::asyncio::detail {

class StreamTransport : public std::enable_shared_from_this<StreamTransport> {
 public:
  enum class Kind { socket, read_pipe, write_pipe };

  /// Takes ownership of a non-blocking fd and registers it with the running loop.
  StreamTransport(UniqueFd fd, Kind kind, std::size_t limit);
  ~StreamTransport();
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  static std::pair<StreamReader, StreamWriter> make_pair(UniqueFd fd, std::size_t limit);
  static StreamReader make_reader(UniqueFd fd, std::size_t limit);  // a pipe's read end
  static StreamWriter make_writer(UniqueFd fd);                     // a pipe's write end

  // Reader side.
  Task<std::string> read(std::ptrdiff_t n);
  Task<std::string> readexactly(std::size_t n);
  Task<std::string> readuntil(std::string sep);
  Task<std::string> readline();
  Task<std::size_t> read_into(char* out, std::size_t size);
  bool at_eof() const noexcept { return eof_ && rbeg_ == rend_; }
  std::exception_ptr exception() const noexcept { return read_error_; }

  // Writer side.
  void write(std::string_view data);
  Task<void> drain();
  void write_eof();
  void close();
  bool is_closing() const noexcept { return closing_ || lost_; }
  Task<void> wait_closed();
  std::size_t write_buffer_size() const noexcept { return wbuf_.size() - wbeg_; }
  void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low);
  int fileno() const noexcept { return fd_.get(); }

 private:
  std::size_t buffered() const noexcept { return rend_ - rbeg_; }
  std::string take(std::size_t n);
  /// One receive into the buffer. Returns false when the fd would block (after waiting is
  /// needed); sets eof_ at EOF; throws on an error.
  bool fill_once();
  /// Waits for readability then fills; returns after at least one attempt made progress (data or
  /// EOF). Throws CancelledError / the connection's error.
  Task<void> fill();
  void check_reader() const;

  /// Sends from the write buffer until empty or EAGAIN. Returns true when the buffer is empty.
  bool flush_once();
  Task<void> flush_in_background(std::shared_ptr<StreamTransport> self);
  void start_flusher();
  void connection_lost(int err);
  void finish_close();  // all bytes out (or lost): shut down and release the fd
  void release_fd();
  void maybe_release();  // after a wait: release the fd if close() happened meanwhile
  void update_drain_event();

  UniqueFd fd_;
  Kind kind_;
  std::optional<FdWatch> watch_;

  // Read buffer: bytes [rbeg_, rend_) of rbuf_. Grows only while a readuntil() needs more.
  std::vector<char> rbuf_;
  std::size_t rbeg_ = 0;
  std::size_t rend_ = 0;
  std::size_t limit_;
  bool eof_ = false;
  bool read_ready_ = true;
  bool reading_ = false;
  std::exception_ptr read_error_;

  // Write buffer: bytes [wbeg_, end) of wbuf_.
  std::vector<char> wbuf_;
  std::size_t wbeg_ = 0;
  std::size_t high_water_ = 64 * 1024;
  std::size_t low_water_ = 16 * 1024;
  bool write_ready_ = true;
  bool flushing_ = false;
  bool eof_requested_ = false;
  bool eof_sent_ = false;
  bool closing_ = false;
  bool lost_ = false;       // the connection failed, or close() finished
  bool released_ = false;   // fd closed
  int write_errno_ = 0;
  int waiting_ = 0;         // coroutines suspended on watch_
  IoEvent drain_ok_;          // set while the write buffer is at or below the low-water mark
  IoEvent closed_;            // set once the fd is shut down for good
};

}  // namespace concur::asyncio::detail
