// concur-lab — strategies that need a concur module beyond futures, compiled only when the
// module is in the build (see CMakeLists.txt).
#pragma once

#include <cstdint>
#include <map>
#include <vector>
#include <string>

#include "lab.hpp"
#include "life.hpp"

namespace lab {

/// "17 ok, 3 not found, 0 errors, N bytes, sha ..." for downloaded flags (sorted by code).
std::string flags_text(const std::map<std::string, std::string>& got, int not_found, int errors);

#if CONCUR_LAB_HAVE_QUEUE
/// The 1,000-item download -> resize -> upload pipeline on concur::queue::Queue.
Sample queue_pipeline(long items);
/// p.generations Life steps through in_queue -> 5 game_logic worker threads -> out_queue.
life::Grid life_queue_run(const life::Grid& g, const life::Params& p);
#endif

#if CONCUR_LAB_HAVE_SUBPROCESS
/// 10 x Popen(["sleep", d]) then communicate() each; checks every return code.
Sample subprocess_fanout(int children, double seconds);
/// `jobs` pipelines openssl enc -des3 | openssl dgst -sha512 -binary fed through pipes; returns
/// the digests (hex), in order.
std::vector<std::string> subprocess_openssl(const std::vector<std::vector<std::uint8_t>>& inputs);
#endif

#if CONCUR_LAB_HAVE_ASYNCIO
/// 5 x slow_systemcall gathered as coroutines (asyncio.to_thread).
Sample asyncio_blocking_io(int calls, double seconds);
/// One Life generation with a coroutine per cell (asyncio.sleep as the I/O), gathered.
life::Grid life_asyncio_step(const life::Grid& g, const life::Params& p);
/// The 20 flags with a coroutine per flag (open_connection), gathered, progress on ctx.
Sample asyncio_flags(int port, Ctx& ctx);
#endif

}  // namespace lab
