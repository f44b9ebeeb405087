// concur/subprocess/redirect.hpp — what a child's stdin/stdout/stderr is connected to.
//
//   Python                         concur (any of these converts to a Redirect)
//   None (inherit)                 {} / std::nullopt
//   subprocess.PIPE                subprocess::PIPE
//   subprocess.DEVNULL             subprocess::DEVNULL
//   subprocess.STDOUT (stderr)     subprocess::STDOUT
//   an fd / open file              an int fd (the parent keeps it open and owns it)
//   open("f", "wb") / open("f")    a std::filesystem::path (opened by concur: read-only for stdin,
//                                  created/truncated for stdout and stderr; closed after spawn)
//   other_proc.stdout              other_proc.stdout_ (a Stream; the parent's copy stays open) or
//                                  std::move(other_proc.stdout_) (the parent's copy is closed
//                                  once the child has it, so EOF and SIGPIPE propagate in a pipeline)
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "concur/subprocess/stream.hpp"

namespace concur::subprocess {

/// Tag types of the constants below.
struct PipeTag {};
struct DevnullTag {};
struct StdoutTag {};

/// A new pipe; the parent's end appears as the Popen's stdin_/stdout_/stderr_.
inline constexpr PipeTag PIPE{};
/// /dev/null.
inline constexpr DevnullTag DEVNULL{};
/// For stderr only: the same file as the child's stdout.
inline constexpr StdoutTag STDOUT{};

/// One of the choices above. Copyable; a Redirect made from std::move(stream) shares ownership of
/// that stream among its copies and closes it when the last copy goes.
class Redirect {
 public:
  enum class Kind { inherit, pipe, devnull, stdout_, fd, path };

  Redirect() noexcept = default;
  Redirect(std::nullopt_t) noexcept {}                       // NOLINT(implicit)
  Redirect(PipeTag) noexcept : kind_(Kind::pipe) {}          // NOLINT(implicit)
  Redirect(DevnullTag) noexcept : kind_(Kind::devnull) {}    // NOLINT(implicit)
  Redirect(StdoutTag) noexcept : kind_(Kind::stdout_) {}     // NOLINT(implicit)
  Redirect(int fd) noexcept : kind_(Kind::fd), fd_(fd) {}    // NOLINT(implicit)
  Redirect(std::filesystem::path p) : kind_(Kind::path), path_(std::move(p)) {}  // NOLINT(implicit)
  Redirect(const char* p) : Redirect(std::filesystem::path(p)) {}               // NOLINT(implicit)
  Redirect(const std::string& p) : Redirect(std::filesystem::path(p)) {}        // NOLINT(implicit)
  /// The stream's fd; the parent keeps its copy (close it yourself, as in Python).
  Redirect(const Stream& s) noexcept : kind_(Kind::fd), fd_(s.fileno()) {}  // NOLINT(implicit)
  /// Takes the stream: the parent's copy is closed once no Redirect refers to it.
  Redirect(Stream&& s)  // NOLINT(implicit)
      : kind_(Kind::fd), fd_(s.fileno()), owned_(std::make_shared<Stream>(std::move(s))) {}

  Kind kind() const noexcept { return kind_; }
  /// For Kind::fd.
  int fd() const noexcept { return fd_; }
  /// For Kind::path.
  const std::filesystem::path& path() const noexcept { return path_; }
  /// True for Kind::inherit (Python's None).
  bool is_inherit() const noexcept { return kind_ == Kind::inherit; }

 private:
  Kind kind_ = Kind::inherit;
  int fd_ = -1;
  std::filesystem::path path_;
  std::shared_ptr<Stream> owned_;
};

}  // namespace concur::subprocess
