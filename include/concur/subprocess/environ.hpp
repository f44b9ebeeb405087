// concur/subprocess/environ.hpp — building a child's environment.
//
//   Python                                   concur
//   env = os.environ.copy()                  auto env = subprocess::copy_environ();
//   env["password"] = "..."                  env["password"] = "...";
//   Popen(args, env=env)                     Popen(args, {.env = env})
//   Popen(args, env={**os.environ, "A": "1"})   Popen(args, {.env = subprocess::environ_with({{"A", "1"}})})
//
// As in Python, `.env` REPLACES the child's whole environment (and its PATH is the one used to
// find the program); leave it empty to inherit the parent's.
#pragma once

#include <map>
#include <string>

namespace concur::subprocess {

/// A child's environment: NAME -> value.
using Environment = std::map<std::string, std::string>;

/// A copy of this process's environment (Python: os.environ.copy()).
/// Thread-safety: reads `environ`; like getenv, it races with a concurrent setenv/putenv.
Environment copy_environ();

/// copy_environ() with `overrides` set on top (Python: {**os.environ, **overrides}).
Environment environ_with(const Environment& overrides);

}  // namespace concur::subprocess
