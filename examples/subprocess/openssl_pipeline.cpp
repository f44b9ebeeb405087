// Seed 004 §52, last programs: pipe data into `openssl enc` children, then chain each one's
// stdout into an `openssl dgst` child, 3 pipelines at a time.
//
// The seed used `-des3` and `-whirlpool`, which OpenSSL 3 only has in its legacy provider; Debian's
// default provider has AES and SHA-256, so this port uses `-aes-256-cbc -pbkdf2` and `-sha256`.
//
//   def run_encrypt(data):
//       env = os.environ.copy()
//       env["password"] = "..."
//       proc = subprocess.Popen(["openssl", "enc", "-des3", "-pass", "env:password"],
//                               env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
//       proc.stdin.write(data); proc.stdin.flush()
//       return proc
//
//   def run_hash(input_stdin):
//       return subprocess.Popen(["openssl", "dgst", "-whirlpool", "-binary"],
//                               stdin=input_stdin, stdout=subprocess.PIPE)
//
//   for _ in range(3):
//       encrypt_proc = run_encrypt(os.urandom(100))
//       hash_proc = run_hash(encrypt_proc.stdout)
//       encrypt_proc.stdout.close()    # let SIGPIPE/EOF propagate; don't steal dgst's input
//       encrypt_proc.stdout = None
//   ... communicate() each, print out[-10:], assert returncode == 0
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "concur/subprocess.hpp"

namespace subprocess = concur::subprocess;

namespace {

std::string random_bytes(std::size_t n) {
  static std::random_device rd;
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rd());
  return s;
}

subprocess::Popen run_encrypt(const std::string& data) {
  auto env = subprocess::copy_environ();
  env["password"] = "0&dU%2ccu}9}pa/x|U%20H:dLrXTNR";
  subprocess::Popen proc({"openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-pass", "env:password"},
                         {.stdin_ = subprocess::PIPE, .stdout_ = subprocess::PIPE, .env = env});
  proc.stdin_.write(data);  // unbuffered: no flush needed (flush() exists as a no-op)
  proc.stdin_.flush();
  return proc;
}

subprocess::Popen run_hash(subprocess::Stream input_stdin) {
  // Taking the Stream by value (moved in) closes the parent's copy once dgst has it, which is
  // exactly the seed's `encrypt_proc.stdout.close(); encrypt_proc.stdout = None`.
  return subprocess::Popen({"openssl", "dgst", "-sha256", "-binary"},
                           {.stdin_ = std::move(input_stdin), .stdout_ = subprocess::PIPE});
}

std::string hex(const std::string& s) {
  std::string out;
  char buf[3];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

}  // namespace

int main() {
  int failures = 0;

  // Part 1: three encryptions in parallel.
  std::vector<subprocess::Popen> procs;
  for (int i = 0; i < 3; ++i) procs.push_back(run_encrypt(random_bytes(10)));
  for (auto& proc : procs) {
    auto [out, err] = proc.communicate();
    std::printf("encrypted: ...%s\n", hex(out->substr(out->size() - 10)).c_str());
    failures += proc.returncode() != 0;
  }

  // Part 2: three `enc | dgst` pipelines in parallel.
  std::vector<subprocess::Popen> encrypt_procs;
  std::vector<subprocess::Popen> hash_procs;
  for (int i = 0; i < 3; ++i) {
    encrypt_procs.push_back(run_encrypt(random_bytes(100)));
    hash_procs.push_back(run_hash(std::move(encrypt_procs.back().stdout_)));
  }
  for (auto& proc : encrypt_procs) {
    proc.communicate();  // closes stdin so enc sees EOF; its stdout now belongs to dgst alone
    failures += proc.returncode() != 0;
  }
  for (auto& proc : hash_procs) {
    auto [out, err] = proc.communicate();
    std::printf("sha256 tail: %s\n", hex(out->substr(out->size() - 10)).c_str());
    failures += proc.returncode() != 0 || out->size() != 32;
  }
  return failures == 0 ? 0 : 1;
}
