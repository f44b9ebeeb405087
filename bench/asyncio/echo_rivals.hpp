// The echo workload's rival implementations, each measured the same way by echo_bench.
#pragma once

#include <cstddef>

/// Asio coroutines, one thread: round trips per second.
double asio_echo_round_trips_per_s(int connections, int round_trips, std::size_t size);
