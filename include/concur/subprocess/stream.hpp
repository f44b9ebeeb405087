// concur/subprocess/stream.hpp — a Popen's pipe end (Python's proc.stdin / proc.stdout /
// proc.stderr file objects).
//
//   Python                                   concur
//   proc.stdin.write(data); proc.stdin.flush()   proc.stdin_.write(data);  // unbuffered: no flush needed
//   proc.stdin.close()                       proc.stdin_.close();
//   proc.stdout.read()                       proc.stdout_.read();          // until EOF
//   proc.stdout.readline()                   proc.stdout_.readline();      // "" at EOF
//   Popen(b, stdin=a.stdout); a.stdout.close()   Popen b(args, {.stdin_ = std::move(a.stdout_)});
//
// A Stream is bytes either way (std::string holds arbitrary bytes); `text` mode does not change
// it. Writing to a pipe whose reader has gone throws std::system_error(EPIPE) (Python's
// BrokenPipeError) and never raises SIGPIPE in this process. Move-only; the fd is O_CLOEXEC and
// closed on destruction. Thread-safety: like a Python file object — one thread at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace concur::subprocess {

class Stream {
 public:
  /// A closed stream (Python: None).
  Stream() noexcept = default;
  /// Takes ownership of `fd`.
  explicit Stream(int fd) noexcept : fd_(fd) {}
  Stream(Stream&& o) noexcept;
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  /// The fd, or -1 when closed.
  int fileno() const noexcept { return fd_; }
  bool closed() const noexcept { return fd_ < 0; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  /// Closes the fd (idempotent). Closing the read end of a pipe lets the writer get SIGPIPE /
  /// EPIPE; closing the write end gives the reader EOF.
  void close() noexcept;
  /// Gives up the fd without closing it (any buffered read data is dropped).
  int release() noexcept;

  /// Writes all of `data`, blocking as needed. Throws std::system_error (EPIPE when the reader is
  /// gone, EBADF when closed).
  void write(std::string_view data);
  /// Nothing is buffered on the write side: a no-op kept for Python's `flush()`.
  void flush() noexcept {}

  /// Reads until EOF (n empty) or until n bytes or EOF. Blocks. Throws std::system_error.
  std::string read(std::optional<std::size_t> n = std::nullopt);
  /// Reads one line including its '\n'; the rest at EOF; "" once at EOF. Blocks.
  std::string readline();

  /// Bytes already read from the fd but not yet returned (readline's look-ahead). Popen's
  /// communicate() takes them first, so mixing readline() and communicate() loses nothing.
  std::string take_buffered() noexcept;

 private:
  std::size_t fill();  // one read(2) into buf_; returns bytes read (0 at EOF)

  int fd_ = -1;
  std::string buf_;
};

}  // namespace concur::subprocess
