// The flags download (Fluent Python ch. 17, seed 000): 20 flags from a local HTTP server that
// concur-lab starts itself, fetched sequentially, with ThreadPoolExecutor(20) and with
// coroutines; 404s and errors counted, not fatal; progress shown.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "http_server.hpp"
#include "lab.hpp"
#include "modules.hpp"
#include "process_jobs.hpp"

#if CONCUR_LAB_HAVE_FUTURES
#include <concur/futures.hpp>
#endif

namespace lab {

/// Counts and a digest of what was downloaded: "17 ok, 3 not found, 0 errors, sha 0123...".
std::string flags_text(const std::map<std::string, std::string>& got, int not_found, int errors) {
  std::string all;
  std::size_t bytes = 0;
  for (auto& [cc, body] : got) {  // sorted by code
    all += body;
    bytes += body.size();
  }
  auto d = digest("SHA256", reinterpret_cast<const std::uint8_t*>(all.data()), all.size());
  return std::to_string(got.size()) + " ok, " + std::to_string(not_found) + " not found, " + std::to_string(errors) +
         " errors, " + std::to_string(bytes) + " bytes, sha " + hex(d).substr(0, 16);
}

namespace {

/// The seeds' get_flag + save_flag in one: returns (status, body); errors throw.
HttpResult download_one(int port, const std::string& cc) {
  std::string lower = cc;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return http_get(port, "/flags/" + lower + "/" + lower + ".gif");
}

struct Tally {
  std::map<std::string, std::string> got;
  int not_found = 0, errors = 0;
  void add(const std::string& cc, const HttpResult& r) {
    if (r.status == 200) got[cc] = r.body;
    else if (r.status == 404) ++not_found;
    else ++errors;
  }
};

double flags_delay(const Config& cfg) { return cfg.flags_delay >= 0 ? cfg.flags_delay : cfg.quick ? 0.02 : 0.1; }

void run_flags(Ctx& ctx) {
  const double delay = flags_delay(ctx.cfg);
  FlagServer server(ctx.cfg.flags_port, delay);  // throws (e.g. port in use): reported in the row
  const int port = server.port();
  {
    Tally expect;
    for (auto& cc : flag_codes()) {
      if (missing_flags().count(cc)) ++expect.not_found;
      else expect.got[cc] = flag_body(cc);
    }
    ctx.reference(flags_text(expect.got, expect.not_found, 0));
  }
  const auto& codes = flag_codes();
  const std::string url = server.base_url();
  ctx.row({.strategy = "sequential", .workers = 1, .baseline = true, .cpp = [&] {
             auto t0 = Clock::now();
             Tally t;
             std::size_t done = 0;
             for (auto& cc : codes) {
               try {
                 t.add(cc, download_one(port, cc));
               } catch (const std::exception&) {
                 ++t.errors;
               }
               ctx.progress(++done, codes.size());
             }
             return Sample{.seconds = since(t0), .result = flags_text(t.got, t.not_found, t.errors)};
           },
           .py = {"flags.py", "sequential", "--url", url}});
  RowSpec pool{.strategy = "ThreadPoolExecutor(20)", .workers = 20, .py = {"flags.py", "threadpool", "--url", url}};
#if CONCUR_LAB_HAVE_FUTURES
  pool.cpp = [&] {
    auto t0 = Clock::now();
    Tally t;
    concur::futures::ThreadPoolExecutor ex({.max_workers = 20});
    std::vector<concur::futures::Future<HttpResult>> fs;
    for (auto& cc : codes) fs.push_back(ex.submit(download_one, port, cc));
    std::size_t done = 0;
    for (auto& f : concur::futures::as_completed(fs)) {  // the seeds' progress over as_completed
      auto it = std::find(fs.begin(), fs.end(), f);
      const std::string& cc = codes[static_cast<std::size_t>(it - fs.begin())];
      try {
        t.add(cc, f.result());
      } catch (const std::exception&) {
        ++t.errors;
      }
      ctx.progress(++done, codes.size());
    }
    return Sample{.seconds = since(t0), .result = flags_text(t.got, t.not_found, t.errors)};
  };
#else
  pool.cpp_missing = missing_module("futures");
#endif
  ctx.row(pool);
  RowSpec proc{.strategy = "ProcessPoolExecutor", .workers = ctx.cfg.workers,
               .py = {"flags.py", "processpool", "--url", url, "--workers", std::to_string(ctx.cfg.workers)}};
#if CONCUR_LAB_HAVE_PROCESS
  proc.cpp = [&] {
    auto t0 = Clock::now();
    auto results = process_flags(port, codes, ctx.cfg.workers, [&](std::size_t done) { ctx.progress(done, codes.size()); });
    Tally t;
    for (std::size_t k = 0; k < codes.size(); ++k) {
      if (results[k].first < 0) ++t.errors;
      else t.add(codes[k], HttpResult{results[k].first, results[k].second});
    }
    return Sample{.seconds = since(t0), .result = flags_text(t.got, t.not_found, t.errors)};
  };
#else
  proc.cpp_missing = missing_module("futures::ProcessPoolExecutor");
#endif
  ctx.row(proc);
  RowSpec co{.strategy = "coroutines (open_connection, gather)", .workers = 1, .py = {"flags.py", "asyncio", "--url", url}};
#if CONCUR_LAB_HAVE_ASYNCIO
  co.cpp = [&] { return asyncio_flags(port, ctx); };
#else
  co.cpp_missing = missing_module("asyncio");
#endif
  ctx.row(co);
  char buf[240];
  std::snprintf(buf, sizeof buf,
                "local server on 127.0.0.1:%d (thread per connection), %.0f ms delay per request, %zu of 20 flags "
                "answer 404; errors are counted, not fatal. Requests served: %ld.",
                port, delay * 1e3, missing_flags().size(), server.requests());
  ctx.note(buf);
}

}  // namespace

void add_flags_experiment(std::vector<Experiment>& v) {
  v.push_back({"flags", "Download 20 flags from a local HTTP server (delay, 3 x 404): sequential, 20 threads, coroutines.",
               "threads ~1.4 s, processes ~1.8 s on 4 cores (real network)", run_flags});
}

}  // namespace lab
