// The work of the seeds' process experiments, shared by examples/process/{gcd,rc4,sha256}.cpp and
// bench/process/raw_scaling.cpp (which runs the same work with no pool at all).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#ifdef SEED_WORK_WITH_SHA
#include <openssl/evp.h>

#include <stdexcept>
#endif

namespace seed_work {

/// Effective Python §64's naive gcd: count down from the smaller number.
inline long gcd(std::pair<long, long> pair) {
  const auto [a, b] = pair;
  const long low = std::min(a, b);
  for (long i = low; i > 0; --i) {
    if (a % i == 0 && b % i == 0) return i;
  }
  std::abort();  // unreachable: 1 divides everything
}

/// One work item: gcd(pair) computed `rounds` times (the result must not be optimized away).
inline long gcd_task(std::pair<long, long> pair, int rounds) {
  long r = 0;
  for (int i = 0; i < rounds; ++i) {
    volatile long a = pair.first;  // defeat hoisting the loop-invariant call
    r = gcd({a, pair.second});
  }
  return r;
}

/// arcfour_futures.py's arcfour(key, in): RC4 encryption (and decryption) of `in`.
inline std::vector<std::uint8_t> arcfour(const std::string& key,
                                         const std::vector<std::uint8_t>& in) {
  std::uint8_t s[256];
  for (int i = 0; i < 256; ++i) s[i] = static_cast<std::uint8_t>(i);
  for (int i = 0, j = 0; i < 256; ++i) {
    j = (j + s[i] + static_cast<std::uint8_t>(key[i % key.size()])) & 0xff;
    std::swap(s[i], s[j]);
  }
  std::vector<std::uint8_t> out(in.size());
  std::uint8_t i = 0, j = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    i = static_cast<std::uint8_t>(i + 1);
    j = static_cast<std::uint8_t>(j + s[i]);
    std::swap(s[i], s[j]);
    out[k] = in[k] ^ s[static_cast<std::uint8_t>(s[i] + s[j])];
  }
  return out;
}

/// arcfour_futures.py's crypto_process(size, key): make the data, encrypt, decrypt, check
/// (`rounds` times). Returns the size when the round trip is correct, -1 otherwise.
inline long crypto_process(long size, const std::string& key, int rounds) {
  std::mt19937 rng(static_cast<unsigned>(size));
  std::vector<std::uint8_t> in(static_cast<std::size_t>(size));
  for (auto& b : in) b = static_cast<std::uint8_t>(rng());
  for (int r = 0; r < rounds; ++r) {
    const auto cypher = arcfour(key, in);
    const auto out = arcfour(key, cypher);
    if (out != in || cypher == in) return -1;
  }
  return size;
}

#ifdef SEED_WORK_WITH_SHA
/// sha_futures.py's sha(size): random bytes, then their SHA-256 hex digest (`rounds` times).
inline std::string sha(long size, int seed, int rounds) {
  static const char* digits = "0123456789abcdef";
  std::string digest;
  std::mt19937_64 rng(static_cast<unsigned>(seed));
  std::vector<std::uint64_t> data(static_cast<std::size_t>(size) / 8);
  for (int r = 0; r < rounds; ++r) {
    for (auto& w : data) w = rng();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(data.data(), data.size() * 8, md, &len, EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("EVP_Digest failed");
    }
    digest.clear();
    for (unsigned i = 0; i < len; ++i) {
      digest.push_back(digits[md[i] >> 4]);
      digest.push_back(digits[md[i] & 15]);
    }
  }
  return digest;
}
#endif

}  // namespace seed_work
