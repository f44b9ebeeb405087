// concur-lab — the CPU experiments on concur's ProcessPoolExecutor (registered functions).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace lab {

std::vector<std::vector<long>> process_factorize(const std::vector<long>& numbers, unsigned workers);
std::vector<long> process_gcd(const std::vector<std::pair<long, long>>& pairs, unsigned workers);
/// rc4_job(j, sizes[j]) for every j, on `workers` processes; digests in job order.
std::vector<std::string> process_rc4(const std::vector<std::size_t>& sizes, unsigned workers);
/// sha_job(j, size) for j in 0..jobs-1, on `workers` processes; digests in job order.
std::vector<std::string> process_sha(std::size_t jobs, std::size_t size, unsigned workers);

/// GET every flag on `workers` processes (the seeds' flags with ProcessPoolExecutor); calls
/// `progress(done)` on the caller's thread as results arrive. (status, body) per code, in order;
/// status -1 for a connection error.
std::vector<std::pair<int, std::string>> process_flags(int port, const std::vector<std::string>& codes, unsigned workers,
                                                       const std::function<void(std::size_t)>& progress);

}  // namespace lab
