// concur/futures.hpp — Python's concurrent.futures: Future, executors, wait, as_completed.
#pragma once

#include "concur/error.hpp"
#include "concur/futures/executor.hpp"
#include "concur/futures/future.hpp"
#include "concur/futures/thread_pool.hpp"
#include "concur/futures/wait.hpp"
#include "concur/futures/process_pool.hpp"
#include "concur/timeout.hpp"
