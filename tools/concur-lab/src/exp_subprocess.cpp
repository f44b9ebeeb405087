// Child processes (seed 004 §52): 10 x `sleep 1` at once, and openssl enc | openssl dgst
// pipelines fed through pipes. (Debian's OpenSSL 3 default provider has no whirlpool: the
// pipeline uses dgst -sha512; enc -des3 is still there.)
#include <openssl/evp.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "lab.hpp"
#include "modules.hpp"

namespace lab {

/// What `openssl enc -des3 -pbkdf2 -nosalt -pass pass:PW` then `dgst -sha512` produce, computed
/// in-process with EVP (PBKDF2-HMAC-SHA256, 10,000 iterations, no salt -> key + IV) — the
/// reference the child processes must match.
std::string openssl_reference_digest(const std::vector<std::uint8_t>& data);

/// The seeds' password.
const char* kOpensslPassword = "0&dU%2ccu}9}pa/x|U%20H:dLrXTNR";

std::string openssl_reference_digest(const std::vector<std::uint8_t>& data) {
  const EVP_CIPHER* cipher = EVP_des_ede3_cbc();
  const int klen = EVP_CIPHER_key_length(cipher), ivlen = EVP_CIPHER_iv_length(cipher);
  std::vector<unsigned char> keyiv(static_cast<std::size_t>(klen + ivlen));
  std::string pw = kOpensslPassword;
  if (PKCS5_PBKDF2_HMAC(pw.data(), static_cast<int>(pw.size()), nullptr, 0, 10000, EVP_sha256(), klen + ivlen,
                        keyiv.data()) != 1)
    throw std::runtime_error("PBKDF2 failed");
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  std::vector<unsigned char> out(data.size() + 16);
  int n1 = 0, n2 = 0;
  bool ok = EVP_EncryptInit_ex(c, cipher, nullptr, keyiv.data(), keyiv.data() + klen) == 1 &&
            EVP_EncryptUpdate(c, out.data(), &n1, data.data(), static_cast<int>(data.size())) == 1 &&
            EVP_EncryptFinal_ex(c, out.data() + n1, &n2) == 1;
  EVP_CIPHER_CTX_free(c);
  if (!ok) throw std::runtime_error("DES-EDE3-CBC is not available in this OpenSSL");
  return hex(digest("SHA512", out.data(), static_cast<std::size_t>(n1 + n2)));
}

namespace {

std::string digests_text(const std::vector<std::string>& d) {
  std::string s;
  for (std::size_t k = 0; k < d.size(); ++k) s += (k ? "," : "") + d[k].substr(0, 16);
  return s;
}

std::vector<std::vector<std::uint8_t>> openssl_inputs(bool quick) {
  std::vector<std::vector<std::uint8_t>> v;
  for (std::uint32_t j = 0; j < 3; ++j) v.push_back(xorshift_bytes(3000 + j, quick ? 4096 : 1 << 20));
  return v;
}

void run_fanout(Ctx& ctx) {
  const int children = 10;
  const double secs = ctx.cfg.quick ? 0.2 : 1.0;
  ctx.reference("10 children exited 0, in parallel");
  char d[16];
  std::snprintf(d, sizeof d, "%g", secs);
  RowSpec r{.strategy = "Popen x10, then communicate() each", .workers = 10, .baseline = true,
            .py = {"subproc.py", "fanout", "--seconds", d}};
#if CONCUR_LAB_HAVE_SUBPROCESS
  r.cpp = [=] { return subprocess_fanout(children, secs); };
#else
  r.cpp_missing = missing_module("subprocess");
#endif
  ctx.row(r);
  char note[160];
  std::snprintf(note, sizeof note, "%d x `sleep %g` started at once: the check is that all exit 0 and the whole "
                "takes less than half of %g s (they ran in parallel).", children, secs, children * secs);
  ctx.note(note);
}

void run_openssl(Ctx& ctx) {
  if (which("openssl").empty()) throw std::runtime_error("the openssl command is not installed");
  auto inputs = openssl_inputs(ctx.cfg.quick);
  std::vector<std::string> ref;
  for (auto& in : inputs) ref.push_back(openssl_reference_digest(in));
  ctx.reference(digests_text(ref));
  RowSpec r{.strategy = "3 x (enc -des3 | dgst -sha512) via pipes", .workers = 3, .baseline = true,
            .py = {"subproc.py", "openssl"}};
#if CONCUR_LAB_HAVE_SUBPROCESS
  r.cpp = [inputs] {
    auto t0 = Clock::now();
    auto d = subprocess_openssl(inputs);
    return Sample{.seconds = since(t0), .result = digests_text(d)};
  };
#else
  r.cpp_missing = missing_module("subprocess");
#endif
  ctx.row(r);
  ctx.note(std::string("3 pipelines over ") + (ctx.cfg.quick ? "4 KB" : "1 MB") +
           " of data each; the digests must equal OpenSSL's EVP DES-EDE3-CBC + SHA-512 computed in-process. "
           "whirlpool (the seeds' digest) is only in OpenSSL 3's legacy provider, hence sha512; -pbkdf2 -nosalt "
           "make the output deterministic.");
}

}  // namespace

void add_subprocess_experiments(std::vector<Experiment>& v) {
  v.push_back({"fanout", "10 child processes `sleep 1` started with Popen at once, then communicate(): ~1 s, not 10.",
               "~1 s", run_fanout});
  v.push_back({"openssl", "Chained child processes: openssl enc -des3 | openssl dgst, 3 in parallel, fed through pipes.",
               "— (no figure)", run_openssl});
}

}  // namespace lab
