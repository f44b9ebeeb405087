// concur/detail/process_worker.hpp — what the pool and its workers agree on outside the frames:
// how a worker is recognized and configured at exec time. Internal.
#pragma once

namespace concur::detail::process_worker {

/// argv[1] of a worker process; the options follow as key=value arguments.
inline constexpr const char* kArgvMarker = "--concur-process-worker";
/// Set in a worker's environment so that a main() that forgot process_worker_main() is caught as
/// soon as it builds a pool (instead of spawning workers recursively).
inline constexpr const char* kEnvMarker = "CONCUR_PROCESS_WORKER";
/// The worker's end of its socketpair.
inline constexpr int kChannelFd = 3;
/// Exit status of a worker whose main() did not call process_worker_main().
inline constexpr int kForgotMainStatus = 121;
/// Exit status of a worker that hit its memory limit.
inline constexpr int kMemoryLimitStatus = 122;

}  // namespace concur::detail::process_worker
