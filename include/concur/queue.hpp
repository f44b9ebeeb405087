// concur/queue.hpp — Python's `queue` module (with 3.13's shutdown()) as concur::queue.
//
//   Queue<T>(maxsize), LifoQueue<T>, PriorityQueue<T, Compare>, SimpleQueue<T>;
//   Full, Empty, ShutDown; PutOptions/GetOptions ({.block, .timeout}); Status for try_put/try_get.
#pragma once

#include "concur/queue/basic_queue.hpp"
#include "concur/queue/errors.hpp"
#include "concur/queue/lifo_queue.hpp"
#include "concur/queue/options.hpp"
#include "concur/queue/priority_queue.hpp"
#include "concur/queue/queue.hpp"
#include "concur/queue/simple_queue.hpp"
