// The Runtime guard and the worker ranks' serve loop (see concur/mpi/runtime.hpp).
#include "concur/mpi/runtime.hpp"

#include <cstdlib>
#include <deque>
#include <string>

#include "concur/error.hpp"
#include "concur/process/protocol.hpp"
#include "concur/process/registry.hpp"
#include "wire.hpp"

namespace concur::mpi {
namespace detail {

// Answers a Hello: checks the protocol, the data model and the task names, runs the initializer.
std::string hello_reply(const process::Frame& hello) {
  const BuildIdentity mine = local_identity();
  std::string out;
  const auto at = process::begin_frame(out, process::FrameKind::hello, hello.id);
  process::PayloadWriter w(out);
  w.u32(mine.protocol);
  auto status = [&](HelloStatus s) { w.u8(static_cast<std::uint8_t>(s)); };
  try {
    process::PayloadReader r(hello.payload);
    std::string init;
    const BuildIdentity root = read_hello(r, init);
    if (root.protocol != mine.protocol) {
      status(HelloStatus::mismatch);
      w.str("protocol version " + std::to_string(mine.protocol) + " (the root speaks " +
            std::to_string(root.protocol) + ")");
    } else if (root.model != mine.model) {
      status(HelloStatus::mismatch);
      w.str("a different data model: " + describe_data_model(mine.model) + " (the root: " +
            describe_data_model(root.model) + ")");
    } else if (root.hash != mine.hash || root.tasks != mine.tasks) {
      status(HelloStatus::other_tasks);
      for (const auto* names : {&root.tasks, &mine.tasks}) {
        const auto only = names == &root.tasks ? names_missing(root.tasks, mine.tasks)
                                               : names_missing(mine.tasks, root.tasks);
        w.u32(static_cast<std::uint32_t>(only.size()));
        for (const auto& n : only) w.str(n);
      }
    } else if (!init.empty() && !process::find_task(init)) {
      status(HelloStatus::no_initializer);
      w.str("the initializer '" + init + "' is not registered here");
    } else {
      bool ok = true;
      process::RemoteException err;
      if (!init.empty()) {
        const process::TaskEntry* t = process::find_task(init);
        std::string ignored;
        try {
          t->invoke(t->fn, {}, ignored);
        } catch (...) {
          ok = false;
          err = process::describe_current_exception();
        }
      }
      if (ok) {
        status(HelloStatus::ok);
      } else {
        status(HelloStatus::init_failed);
        process::write_exception(w, err);
      }
    }
  } catch (const process::ProtocolError& e) {
    status(HelloStatus::mismatch);
    w.str(std::string("an unreadable handshake: ") + e.what());
  }
  process::finish_frame(out, at);
  return out;
}

// Serves the root's executors until an End (one_session) or an Exit arrives.
void serve_loop(MPI_Comm comm, int root, bool one_session) {
  FineTimerSlack slack;
  std::deque<Outgoing> sending;
  Backoff backoff;
  auto flush = [&] {
    while (!sending.empty() && test_send(sending.front())) sending.pop_front();
  };
  for (;;) {
    std::optional<Incoming> in = try_receive(comm, root, MPI_ANY_TAG);
    flush();
    if (!in) {
      backoff.pause();
      continue;
    }
    backoff.reset();
    switch (in->tag) {
      case kTagHello:
        sending.push_back(start_send(std::make_shared<const std::string>(hello_reply(in->frame)), root,
                                     kTagHelloReply, comm));
        break;
      case kTagCall: {
        auto out = std::make_shared<std::string>();
        // A result is usually about as large as its call (one tag + length + value per call):
        // reserving once saves the string's repeated regrowth over a chunk.
        out->reserve(in->frame.payload.size() + process::kFrameHeaderSize + 64);
        process::execute_call_frame(in->frame, *out);
        sending.push_back(start_send(std::move(out), root, kTagResult, comm));
        break;
      }
      case kTagEnd:
        if (!one_session) break;
        [[fallthrough]];
      case kTagExit:
        while (!sending.empty()) {
          flush();
          if (!sending.empty()) backoff.pause();
        }
        return;
      default:
        break;  // not ours: ignored
    }
  }
}

}  // namespace detail

Runtime::Runtime(int& argc, char**& argv, RuntimeOptions options) : options_(options) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = 0;
  if (!initialized) {
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    owns_mpi_ = true;
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    throw RuntimeError("concur::mpi: this MPI provides less than MPI_THREAD_SERIALIZED");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (options_.serve && rank_ != options_.root) {
    detail::serve_loop(MPI_COMM_WORLD, options_.root, /*one_session=*/false);
    if (owns_mpi_) MPI_Finalize();
    std::exit(0);
  }
}

Runtime::~Runtime() {
  if (options_.serve && rank_ == options_.root) {
    auto bye = detail::empty_frame(process::FrameKind::shutdown);
    std::vector<detail::Outgoing> out;
    for (int r = 0; r < size_; ++r) {
      if (r != rank_) out.push_back(detail::start_send(bye, r, detail::kTagExit, MPI_COMM_WORLD));
    }
    detail::Backoff b;
    for (auto& o : out) {
      while (!detail::test_send(o)) b.pause();
    }
  }
  if (owns_mpi_) {
    std::lock_guard lock(mpi_lock());
    MPI_Finalize();
  }
}

void serve(MPI_Comm comm, int root) { detail::serve_loop(comm, root, /*one_session=*/true); }

}  // namespace concur::mpi
