// The Runtime guard and the worker ranks' serve loop (see concur/mpi/runtime.hpp).
#include "concur/mpi/runtime.hpp"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <deque>
#include <string>
#include <utility>
#include <vector>

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

namespace {

// The command line the Runtime saw (after MPI_Init): spawn_workers()' default command and args.
std::vector<std::string>& runtime_argv() {
  static std::vector<std::string> v;
  return v;
}

// MPI's text for an error code. An MPI may return codes that are not valid error codes (Open MPI
// 4.1's spawn returns its internal ones), and MPI_Error_string raises those on MPI_COMM_WORLD:
// asked with MPI_ERRORS_RETURN there, so that it does not abort the job. Hold mpi_lock().
std::string mpi_error_string(int code) {
  MPI_Errhandler previous;
  MPI_Comm_get_errhandler(MPI_COMM_WORLD, &previous);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  const int rc = MPI_Error_string(code, text, &len);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, previous);
  MPI_Errhandler_free(&previous);
  if (rc != MPI_SUCCESS || len <= 0) return "MPI error code " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(len));
}

// Sends Exit to ranks first..last of `comm` but `skip`, and waits until the sends complete.
void send_exit(MPI_Comm comm, int first, int last, int skip) {
  auto bye = empty_frame(process::FrameKind::shutdown);
  std::vector<Outgoing> out;
  for (int r = first; r <= last; ++r) {
    if (r != skip) out.push_back(start_send(bye, r, kTagExit, comm));
  }
  Backoff b;
  for (auto& o : out) {
    while (!test_send(o)) b.pause();
  }
}

}  // namespace

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
  {
    auto& args = detail::runtime_argv();
    args.assign(argv, argv + argc);
  }
  MPI_Comm parent = MPI_COMM_NULL;
  MPI_Comm_get_parent(&parent);
  if (options_.serve && parent != MPI_COMM_NULL) {
    // Started by spawn_workers(): serve the parent (rank 0 of the merged communicator; the
    // spawned processes take the high ranks) until it releases us, then leave quietly.
    MPI_Comm merged = MPI_COMM_NULL;
    MPI_Intercomm_merge(parent, /*high=*/1, &merged);
    detail::serve_loop(merged, 0, /*one_session=*/false);
    MPI_Comm_free(&merged);
    MPI_Comm_disconnect(&parent);
    if (owns_mpi_) MPI_Finalize();
    std::exit(0);
  }
  if (options_.serve && rank_ != options_.root) {
    detail::serve_loop(MPI_COMM_WORLD, options_.root, /*one_session=*/false);
    if (owns_mpi_) MPI_Finalize();
    std::exit(0);
  }
}

Runtime::~Runtime() {
  if (options_.serve && rank_ == options_.root) detail::send_exit(MPI_COMM_WORLD, 0, size_ - 1, rank_);
  if (owns_mpi_) {
    std::lock_guard lock(mpi_lock());
    MPI_Finalize();
  }
}

SpawnedWorkers::SpawnedWorkers(SpawnedWorkers&& other) noexcept
    : inter_(std::exchange(other.inter_, MPI_COMM_NULL)),
      merged_(std::exchange(other.merged_, MPI_COMM_NULL)),
      size_(std::exchange(other.size_, 0)) {}

SpawnedWorkers& SpawnedWorkers::operator=(SpawnedWorkers&& other) noexcept {
  if (this != &other) {
    release();
    inter_ = std::exchange(other.inter_, MPI_COMM_NULL);
    merged_ = std::exchange(other.merged_, MPI_COMM_NULL);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SpawnedWorkers::~SpawnedWorkers() { release(); }

void SpawnedWorkers::release() noexcept {
  if (merged_ == MPI_COMM_NULL) return;
  // The workers leave their serve loop on Exit (an executor still open over comm() would be left
  // without them: destroy executors first), then free the merged communicator and disconnect.
  detail::send_exit(merged_, 1, size_, 0);
  std::lock_guard lock(mpi_lock());
  MPI_Comm_free(&merged_);
  MPI_Comm_disconnect(&inter_);
  merged_ = inter_ = MPI_COMM_NULL;
  size_ = 0;
}

SpawnedWorkers spawn_workers(int n, SpawnOptions options) {
  if (n < 1) throw ValueError("concur::mpi::spawn_workers: n must be >= 1 (got " + std::to_string(n) + ")");
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) {
    throw RuntimeError("concur::mpi::spawn_workers: MPI is not initialized (create a concur::mpi::Runtime first)");
  }
  std::string command = options.command;
  if (command.empty()) {
    char exe[PATH_MAX];
    const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
      command.assign(exe, static_cast<std::size_t>(len));
    } else if (!detail::runtime_argv().empty()) {
      command = detail::runtime_argv().front();
    } else {
      throw RuntimeError("concur::mpi::spawn_workers: no command (no Runtime saw argv[0]; pass .command)");
    }
  }
  std::vector<std::string> args;
  if (options.args) {
    args = *options.args;
  } else if (detail::runtime_argv().size() > 1) {
    args.assign(detail::runtime_argv().begin() + 1, detail::runtime_argv().end());
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  MPI_Comm inter = MPI_COMM_NULL;
  MPI_Comm merged = MPI_COMM_NULL;
  std::vector<int> codes(static_cast<std::size_t>(n), MPI_SUCCESS);
  int rc = MPI_SUCCESS;
  int remote = 0;
  std::string universe = "unset";
  std::string reason;
  {
    std::lock_guard lock(mpi_lock());
    // Spawning is optional in MPI: a failure must come back as an error code, not abort the job.
    MPI_Errhandler previous;
    MPI_Comm_get_errhandler(MPI_COMM_SELF, &previous);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    rc = MPI_Comm_spawn(command.c_str(), args.empty() ? MPI_ARGV_NULL : argv.data(), n, options.info, 0,
                        MPI_COMM_SELF, &inter, codes.data());
    MPI_Comm_set_errhandler(MPI_COMM_SELF, previous);
    MPI_Errhandler_free(&previous);
    if (rc == MPI_SUCCESS && inter != MPI_COMM_NULL) {
      MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN);
      MPI_Comm_remote_size(inter, &remote);
      // If this fails the spawned processes are left waiting in their merge: MPI offers no way
      // back from that, and it does not happen short of a broken MPI.
      rc = MPI_Intercomm_merge(inter, /*high=*/0, &merged);
    } else if (rc == MPI_SUCCESS) {
      rc = MPI_ERR_SPAWN;
    }
    int* usize = nullptr;
    int flag = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &usize, &flag);
    if (flag && usize) universe = std::to_string(*usize);
    if (rc != MPI_SUCCESS) reason = detail::mpi_error_string(rc);
    for (int c : codes) {
      if (c != MPI_SUCCESS && c != rc) {
        reason += std::string(reason.empty() ? "" : "; ") + "the first failed process: " + detail::mpi_error_string(c);
        break;
      }
    }
  }
  if (rc == MPI_SUCCESS) {
    SpawnedWorkers workers(inter, merged, remote);
    if (remote == n) return workers;
    // Fewer than asked (an MPI may spawn part of them): release those that started.
    reason = "only " + std::to_string(remote) + " started" + (reason.empty() ? "" : "; " + reason);
  }
  throw RuntimeError("concur::mpi::spawn_workers: this MPI could not spawn " + std::to_string(n) + " worker" +
                     (n == 1 ? "" : "s") + " of '" + command + "': " + reason + " (MPI_UNIVERSE_SIZE " +
                     universe + "). Spawning is optional in MPI; launch with `mpiexec -n N+1` instead.");
}

void serve(MPI_Comm comm, int root) { detail::serve_loop(comm, root, /*one_session=*/true); }

}  // namespace concur::mpi
