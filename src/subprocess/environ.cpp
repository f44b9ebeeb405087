#include "concur/subprocess/environ.hpp"

#include <unistd.h>

#include <cstring>

extern char** environ;  // NOLINT

namespace concur::subprocess {

Environment copy_environ() {
  Environment env;
  for (char** e = ::environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    env.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

Environment environ_with(const Environment& overrides) {
  Environment env = copy_environ();
  for (const auto& [k, v] : overrides) env[k] = v;
  return env;
}

}  // namespace concur::subprocess
