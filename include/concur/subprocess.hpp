// concur/subprocess.hpp — Python's subprocess module (umbrella header).
//
//   run, call, check_call, check_output, CompletedProcess   <concur/subprocess/run.hpp>
//   Popen, PopenOptions, CommunicateResult                  <concur/subprocess/popen.hpp>
//   PIPE, DEVNULL, STDOUT, Redirect                         <concur/subprocess/redirect.hpp>
//   Stream (a Popen's stdin_/stdout_/stderr_)               <concur/subprocess/stream.hpp>
//   SubprocessError, CalledProcessError, TimeoutExpired     <concur/subprocess/errors.hpp>
//   Environment, copy_environ, environ_with                 <concur/subprocess/environ.hpp>
//
// Correct in multi-threaded programs: children start with posix_spawn (no fork), every fd is
// O_CLOEXEC, other fds are closed in the child (close_fds), waits poll a pidfd, no zombie is left
// behind, and SIGPIPE never hits this process.
#pragma once

#include "concur/subprocess/environ.hpp"
#include "concur/subprocess/errors.hpp"
#include "concur/subprocess/popen.hpp"
#include "concur/subprocess/redirect.hpp"
#include "concur/subprocess/run.hpp"
#include "concur/subprocess/stream.hpp"
