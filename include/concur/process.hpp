// concur/process.hpp — the process layer: named tasks, cereal serialization and the frame
// protocol shared by concur's process-based executors (ProcessPoolExecutor, the MPI executor).
// The executor itself is concur/futures/process_pool.hpp (Python: concurrent.futures).
#pragma once

#include "concur/process/frame.hpp"
#include "concur/process/protocol.hpp"
#include "concur/process/registry.hpp"
