// Strategies on concur::subprocess (seed 004 §52).
#include <concur/subprocess.hpp>

#include <chrono>
#include <cstdio>

#include "modules.hpp"

namespace lab {

namespace sp = concur::subprocess;
using namespace std::chrono_literals;

extern const char* kOpensslPassword;

Sample subprocess_fanout(int children, double seconds) {
  char d[32];
  std::snprintf(d, sizeof d, "%g", seconds);
  auto t0 = Clock::now();
  std::vector<sp::Popen> sleep_procs;
  for (int i = 0; i < children; ++i) sleep_procs.emplace_back(std::vector<std::string>{"sleep", d});
  for (auto& proc : sleep_procs) proc.communicate();
  double delta = since(t0);
  bool all_zero = true;
  for (auto& proc : sleep_procs) all_zero = all_zero && proc.returncode() == 0;
  bool parallel = delta < children * seconds * 0.5;
  Sample s{.seconds = delta, .result = all_zero && parallel ? "10 children exited 0, in parallel"
                                                            : "children failed or ran in sequence"};
  s.ok = all_zero && parallel;
  return s;
}

std::vector<std::string> subprocess_openssl(const std::vector<std::vector<std::uint8_t>>& inputs) {
  auto env = sp::environ_with({{"password", kOpensslPassword}});
  std::vector<sp::Popen> encrypt_procs, hash_procs;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    // run_encrypt(data): openssl enc reading the data from a pipe.
    encrypt_procs.emplace_back(
        std::vector<std::string>{"openssl", "enc", "-des3", "-pbkdf2", "-nosalt", "-pass", "env:password"},
        sp::PopenOptions{.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .env = env});
    // run_hash(encrypt_proc.stdout): the next child reads the first one's output directly;
    // moving the Stream closes the parent's copy, so EOF and SIGPIPE propagate.
    hash_procs.emplace_back(std::vector<std::string>{"openssl", "dgst", "-sha512", "-binary"},
                            sp::PopenOptions{.stdin_ = std::move(encrypt_procs.back().stdout_), .stdout_ = sp::PIPE});
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    std::string data(inputs[k].begin(), inputs[k].end());
    encrypt_procs[k].communicate(data, 60s);  // the seeds' advice: a timeout against hangs
    if (encrypt_procs[k].returncode() != 0) throw std::runtime_error("openssl enc failed");
  }
  std::vector<std::string> digests;
  for (auto& proc : hash_procs) {
    auto [out, err] = proc.communicate(std::nullopt, 60s);
    if (proc.returncode() != 0 || !out) throw std::runtime_error("openssl dgst failed");
    digests.push_back(hex(reinterpret_cast<const std::uint8_t*>(out->data()), out->size()));
  }
  return digests;
}

}  // namespace lab
