// concur-lab — the local flags HTTP server (loopback only) and a minimal blocking HTTP client.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace lab {

/// The 20 country codes of the seeds' flags programs.
const std::vector<std::string>& flag_codes();
/// The codes the server answers 404 for.
const std::set<std::string>& missing_flags();
/// The bytes the server serves for a code (deterministic, a few KB).
std::string flag_body(const std::string& cc);

/// Serves GET /flags/<cc>/<cc>.gif on 127.0.0.1 with a per-request delay, a thread per
/// connection, 404 for missing flags. The destructor stops it and joins every thread.
class FlagServer {
 public:
  /// Binds 127.0.0.1:port (0: any free port). Throws std::system_error (e.g. port in use).
  FlagServer(int port, double delay_seconds);
  ~FlagServer();
  FlagServer(const FlagServer&) = delete;
  FlagServer& operator=(const FlagServer&) = delete;
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/flags"; }
  long requests() const { return requests_.load(); }

 private:
  void accept_loop();
  void serve(int fd);
  int listen_fd_ = -1;
  int port_ = 0;
  double delay_;
  std::atomic<bool> stopping_{false};
  std::atomic<long> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
};

/// The result of one GET.
struct HttpResult {
  int status = 0;
  std::string body;
};

/// Blocking GET http://127.0.0.1:port/path (HTTP/1.0, Connection: close). Throws std::system_error.
HttpResult http_get(int port, const std::string& path, double timeout_seconds = 10);
/// Parses a raw HTTP response (status line, headers, body).
HttpResult parse_http_response(const std::string& raw);

}  // namespace lab
