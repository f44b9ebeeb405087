// concur-lab — the CPU jobs shared by thread and process strategies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lab {

/// RC4 (the seeds' arcfour) with `key` over `in`; encryption and decryption are the same call.
std::vector<std::uint8_t> rc4(const std::vector<std::uint8_t>& key, const std::vector<std::uint8_t>& in);
/// One RC4 job: generate `size` bytes (xorshift32, seed 2000+j), encrypt, decrypt, check the round
/// trip (throws on mismatch), return the hex SHA-256 of the ciphertext.
std::string rc4_job(int j, std::size_t size);
/// One SHA-256 job: generate `size` bytes (xorshift32, seed 1000+j), return their hex SHA-256.
std::string sha_job(int j, std::size_t size);

}  // namespace lab
