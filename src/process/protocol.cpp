// Calls and results as frames (see concur/process/protocol.hpp).
#include "concur/process/protocol.hpp"

#include <new>

namespace concur::process {

void write_exception(PayloadWriter& w, const RemoteException& e) {
  w.str(e.mangled);
  w.str(e.type_name);
  w.str(e.what);
}

RemoteException read_exception(PayloadReader& r) {
  RemoteException e;
  e.mangled = r.str();
  e.type_name = r.str();
  e.what = r.str();
  return e;
}

void append_call_frame(std::string& out, std::uint64_t id, std::string_view name,
                       const std::vector<std::string>& args) {
  const auto at = begin_frame(out, FrameKind::call, id);
  PayloadWriter w(out);
  w.str(name);
  w.u32(static_cast<std::uint32_t>(args.size()));
  for (const auto& a : args) w.str(a);
  finish_frame(out, at);
}

CallRequest parse_call(std::string_view payload) {
  PayloadReader r(payload);
  CallRequest c;
  c.name = r.str();
  const std::uint32_t n = r.u32();
  if (n > payload.size()) throw ProtocolError("corrupt concur payload: call count larger than the payload");
  c.args.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) c.args.push_back(r.str());
  r.expect_end();
  return c;
}

void execute_call_frame(const Frame& call, std::string& out, bool rethrow_bad_alloc) {
  if (call.kind != FrameKind::call) throw ProtocolError("concur::process: expected a call frame");
  const CallRequest req = parse_call(call.payload);
  const TaskEntry* task = find_task(req.name);
  const auto at = begin_frame(out, FrameKind::result, call.id);
  PayloadWriter w(out);
  w.u32(static_cast<std::uint32_t>(req.args.size()));
  for (auto args : req.args) {
    const std::size_t mark = out.size();
    w.u8(0);
    const auto slot = w.begin_bytes();
    try {
      if (!task) {
        throw RemoteError("concur::process", "no task named '" + std::string(req.name) +
                                                 "' is registered in the worker (CONCUR_TASK missing "
                                                 "from the linked code?)");
      }
      task->invoke(task->fn, args, out);
      w.end_bytes(slot);
    } catch (const std::bad_alloc&) {
      if (rethrow_bad_alloc) throw;
      out.resize(mark);
      w.u8(1);
      write_exception(w, describe_current_exception());
    } catch (...) {
      out.resize(mark);
      w.u8(1);
      write_exception(w, describe_current_exception());
    }
  }
  finish_frame(out, at);
}

std::vector<CallOutcome> parse_result(std::string_view payload) {
  PayloadReader r(payload);
  const std::uint32_t n = r.u32();
  if (n > payload.size()) throw ProtocolError("corrupt concur payload: result count larger than the payload");
  std::vector<CallOutcome> v(n);
  for (auto& o : v) {
    const std::uint8_t tag = r.u8();
    if (tag == 0) {
      o.ok = true;
      o.value = r.str();
    } else if (tag == 1) {
      o.error = read_exception(r);
    } else {
      throw ProtocolError("corrupt concur payload: bad outcome tag");
    }
  }
  r.expect_end();
  return v;
}

}  // namespace concur::process
