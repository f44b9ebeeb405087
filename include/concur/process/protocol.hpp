// concur/process/protocol.hpp — calls and results as frames: the piece a pool's client side and
// its worker side share (ProcessPoolExecutor over a socketpair; the MPI executor over messages).
//
//   client                                   worker
//   append_call_frame(out, id, name, args)   ──Call──▶   execute_call_frame(frame, out)
//   parse_result(frame.payload) ◀──Result──              (runs each call; exceptions are captured)
//
// A Call frame holds one or more calls of the same function (map's chunksize); the Result frame,
// with the same id, holds one CallOutcome per call, in order. See frame.hpp for the byte layout.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "concur/process/frame.hpp"
#include "concur/process/registry.hpp"

namespace concur::process {

/// One call's result in a Result frame: the encoded return value, or the exception it threw.
struct CallOutcome {
  bool ok = false;
  std::string_view value; ///< serialize_into() of the result (empty for void); a view into the
                          ///< Result payload passed to parse_result(), valid while it lives
  RemoteException error;  ///< when !ok
};

/// Client side: appends a Call frame running task `name` once per element of `args` (each the
/// serialize_into() encoding of the argument tuple).
void append_call_frame(std::string& out, std::uint64_t id, std::string_view name,
                       const std::vector<std::string>& args);

/// A decoded Call frame; the views point into the frame's payload.
struct CallRequest {
  std::string_view name;
  std::vector<std::string_view> args;
};
/// Throws ProtocolError on a malformed payload.
CallRequest parse_call(std::string_view payload);

/// Worker side: runs every call of `call` (a FrameKind::call frame) through the registry and
/// appends the Result frame to `out`. An exception thrown by a call becomes that call's outcome;
/// an unknown task name becomes a concur::RemoteError outcome. If `rethrow_bad_alloc`, a
/// std::bad_alloc is not captured but propagates (a memory-capped worker treats it as fatal).
/// Throws ProtocolError when the frame is malformed.
void execute_call_frame(const Frame& call, std::string& out, bool rethrow_bad_alloc = false);

/// Client side: the outcomes of a Result frame's payload. Throws ProtocolError when malformed.
std::vector<CallOutcome> parse_result(std::string_view payload);

/// Encodes / decodes a RemoteException inside a payload (three strings).
void write_exception(PayloadWriter& w, const RemoteException& e);
RemoteException read_exception(PayloadReader& r);

}  // namespace concur::process
