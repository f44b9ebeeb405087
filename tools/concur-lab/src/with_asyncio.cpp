// Strategies on concur::asyncio (seed 004 §60-§62): coroutines gathered on one event loop.
#include <concur/asyncio.hpp>

#include <map>

#include "http_server.hpp"
#include "modules.hpp"

namespace lab {

namespace aio = concur::asyncio;
using aio::Task;

namespace {

double timed_systemcall(double seconds) {
  auto t0 = Clock::now();
  slow_systemcall(seconds);
  return since(t0);
}

Task<double> timed_call(double seconds) { co_return co_await aio::to_thread(timed_systemcall, seconds); }

Task<std::vector<double>> gather_calls(int calls, double seconds) {
  std::vector<Task<double>> tasks;
  for (int i = 0; i < calls; ++i) tasks.push_back(timed_call(seconds));
  co_return co_await aio::gather(std::move(tasks));
}

/// The seeds' async step_cell: the I/O is awaited, so the loop runs every other cell meanwhile.
Task<void> step_cell(int y, int x, const life::Grid& grid, life::Grid& next, double io_seconds) {
  char state = grid.get(y, x);
  int neighbors = life::count_neighbors(y, x, [&](int a, int b) { return grid.get(a, b); });
  co_await aio::sleep(io_seconds);  // the seeds' await my_socket.read(50)
  next.set(y, x, life::rule(state, neighbors));
}

Task<life::Grid> simulate(life::Grid grid, double io_seconds) {
  life::Grid next(grid.height, grid.width);
  std::vector<Task<void>> tasks;
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x) tasks.push_back(step_cell(y, x, grid, next, io_seconds));
  co_await aio::gather(std::move(tasks));  // fan-in; no lock: one thread runs every cell
  co_return next;
}

struct FlagResult {
  std::string cc;
  int status = -1;  ///< -1: a connection error (counted, not fatal)
  std::string body;
};

Task<FlagResult> get_flag(int port, std::string cc) {
  std::string lower = cc;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  FlagResult out{cc, -1, {}};
  try {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", static_cast<std::uint16_t>(port));
    writer.write("GET /flags/" + lower + "/" + lower + ".gif HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    co_await writer.drain();
    std::string raw = co_await reader.read();  // to EOF
    writer.close();
    co_await writer.wait_closed();
    auto r = parse_http_response(raw);
    out.status = r.status;
    out.body = std::move(r.body);
  } catch (const std::exception&) {
    out.status = -1;
  }
  co_return out;
}

Task<FlagResult> get_flag_progress(int port, std::string cc, Ctx* ctx, std::size_t* done) {
  FlagResult r = co_await get_flag(port, std::move(cc));
  ctx->progress(++*done, flag_codes().size());  // on the loop's thread: no lock needed
  co_return r;
}

Task<std::vector<FlagResult>> download_many(int port, Ctx* ctx) {
  std::size_t done = 0;
  std::vector<Task<FlagResult>> tasks;
  for (auto& cc : flag_codes()) tasks.push_back(get_flag_progress(port, cc, ctx, &done));
  co_return co_await aio::gather(std::move(tasks));
}

}  // namespace

Sample asyncio_blocking_io(int calls, double seconds) {
  auto t0 = Clock::now();
  std::vector<double> d = aio::run(gather_calls(calls, seconds));
  double secs = since(t0);
  int blocked = 0;
  for (double x : d) blocked += x >= seconds * 0.9;
  return Sample{.seconds = secs,
                .result = blocked == calls ? std::to_string(calls) + "x0.1s"
                                           : "only " + std::to_string(blocked) + " of " + std::to_string(calls) + " calls blocked"};
}

life::Grid life_asyncio_step(const life::Grid& g, const life::Params& p) { return aio::run(simulate(g, p.io_seconds)); }

Sample asyncio_flags(int port, Ctx& ctx) {
  auto t0 = Clock::now();
  auto results = aio::run(download_many(port, &ctx));
  double secs = since(t0);
  std::map<std::string, std::string> got;
  int not_found = 0, errors = 0;
  for (auto& r : results) {
    if (r.status == 200) got[r.cc] = std::move(r.body);
    else if (r.status == 404) ++not_found;
    else ++errors;
  }
  return Sample{.seconds = secs, .result = flags_text(got, not_found, errors)};
}

}  // namespace lab
