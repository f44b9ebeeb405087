// The CPU experiments on concur::futures::ProcessPoolExecutor: the functions are registered by
// name (CONCUR_TASK) because C++ cannot pickle code; arguments and results travel serialized.
#include "process_jobs.hpp"

#include <concur/futures.hpp>
#include <concur/futures/process_pool.hpp>

#include "http_server.hpp"
#include "jobs.hpp"

namespace lab::tasks {

std::vector<long> factorize(long number) {
  std::vector<long> out;
  for (long i = 1; i <= number; ++i)
    if (number % i == 0) out.push_back(i);
  return out;
}

long gcd(std::pair<long, long> pair) {
  long low = std::min(pair.first, pair.second);
  for (long i = low; i > 0; --i)
    if (pair.first % i == 0 && pair.second % i == 0) return i;
  return 1;
}

std::string arcfour_test(std::pair<int, std::size_t> job) { return rc4_job(job.first, job.second); }

std::string sha(std::pair<int, std::size_t> job) { return sha_job(job.first, job.second); }

std::pair<int, std::string> download_flag(std::pair<int, std::string> job) {
  std::string lower = job.second;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  try {
    auto r = http_get(job.first, "/flags/" + lower + "/" + lower + ".gif");
    return {r.status, std::move(r.body)};
  } catch (const std::exception&) {
    return {-1, {}};
  }
}

}  // namespace lab::tasks

CONCUR_TASK(lab::tasks::factorize);
CONCUR_TASK(lab::tasks::gcd);
CONCUR_TASK(lab::tasks::arcfour_test);
CONCUR_TASK(lab::tasks::sha);
CONCUR_TASK(lab::tasks::download_flag);

namespace lab {

using concur::futures::ProcessPoolExecutor;

std::vector<std::vector<long>> process_factorize(const std::vector<long>& numbers, unsigned workers) {
  ProcessPoolExecutor pool({.max_workers = workers});
  std::vector<std::vector<long>> out;
  for (auto d : pool.map(tasks::factorize, numbers)) out.push_back(std::move(d));
  return out;
}

std::vector<long> process_gcd(const std::vector<std::pair<long, long>>& pairs, unsigned workers) {
  ProcessPoolExecutor pool({.max_workers = workers});
  std::vector<long> out;
  for (long g : pool.map(tasks::gcd, pairs)) out.push_back(g);
  return out;
}

std::vector<std::string> process_rc4(const std::vector<std::size_t>& sizes, unsigned workers) {
  ProcessPoolExecutor pool({.max_workers = workers});
  std::vector<concur::futures::Future<std::string>> fs;
  for (std::size_t j = 0; j < sizes.size(); ++j)
    fs.push_back(pool.submit(tasks::arcfour_test, std::pair<int, std::size_t>{static_cast<int>(j), sizes[j]}));
  std::vector<std::string> out;
  for (auto& f : fs) out.push_back(f.result());
  return out;
}

std::vector<std::string> process_sha(std::size_t jobs, std::size_t size, unsigned workers) {
  ProcessPoolExecutor pool({.max_workers = workers});
  std::vector<concur::futures::Future<std::string>> fs;
  for (std::size_t j = 0; j < jobs; ++j)
    fs.push_back(pool.submit(tasks::sha, std::pair<int, std::size_t>{static_cast<int>(j), size}));
  std::vector<std::string> out;
  for (auto& f : fs) out.push_back(f.result());
  return out;
}

std::vector<std::pair<int, std::string>> process_flags(int port, const std::vector<std::string>& codes, unsigned workers,
                                                       const std::function<void(std::size_t)>& progress) {
  ProcessPoolExecutor pool({.max_workers = workers});
  std::vector<concur::futures::Future<std::pair<int, std::string>>> fs;
  for (auto& cc : codes) fs.push_back(pool.submit(tasks::download_flag, std::pair<int, std::string>{port, cc}));
  std::size_t done = 0;
  for (auto& f : concur::futures::as_completed(fs)) {
    (void)f;
    progress(++done);
  }
  std::vector<std::pair<int, std::string>> out;
  for (auto& f : fs) out.push_back(f.result());
  return out;
}

}  // namespace lab
