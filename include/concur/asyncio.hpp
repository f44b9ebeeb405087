// concur/asyncio.hpp — Python's asyncio in C++20: coroutines (Task<T>) on an epoll event loop.
// The umbrella header: includes every public header of concur::asyncio.
#pragma once

#include "concur/asyncio/event_loop.hpp"
#include "concur/asyncio/locks.hpp"
#include "concur/asyncio/queues.hpp"
#include "concur/asyncio/streams.hpp"
#include "concur/asyncio/subprocess.hpp"
#include "concur/asyncio/task.hpp"
#include "concur/asyncio/taskgroups.hpp"
#include "concur/asyncio/tasks.hpp"
#include "concur/asyncio/threads.hpp"
