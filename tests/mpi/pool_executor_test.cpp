// MPIPoolExecutor tests: a plain MPI program (no GoogleTest), run by CTest through mpiexec with 2
// and 3 ranks. Rank 0 runs the checks; the other ranks serve through concur::mpi::Runtime.
// Exits non-zero on the first failed check.
//   pool_executor_test                 every case
//   pool_executor_test --expect-mismatch   (with CONCUR_MPI_TEST_MISMATCH_RANK=1): handshake fails
//   mpiexec -n 2 pool_executor_test --expect-other-tasks : -n 1 pool_executor_test_other_build
//                                      (the other build registers other tasks): handshake fails
#include "concur/mpi/pool_executor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "concur/futures/wait.hpp"
#include "concur/mpi/runtime.hpp"
#include "mpi_check.hpp"

namespace {

int square(int x) { return x * x; }
CONCUR_TASK(square);

int add(int a, int b) { return a + b; }
CONCUR_TASK(add);

int fail_out_of_range(int x) { throw std::out_of_range("index " + std::to_string(x)); }
CONCUR_TASK(fail_out_of_range);

struct Unregistered {};  // not an std::exception and not registered
int fail_unregistered(int) { throw Unregistered{}; }
CONCUR_TASK(fail_unregistered);

int sleepy(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
CONCUR_TASK(sleepy);

std::string echo(std::string s) { return s; }
CONCUR_TASK(echo);

int initialized_value = 0;
void good_init() { initialized_value = 42; }
CONCUR_TASK(good_init);
int read_init(int) { return initialized_value; }
CONCUR_TASK(read_init);

void bad_init() { throw std::runtime_error("no database here"); }
CONCUR_TASK(bad_init);

// The two builds of this test differ by one task each (see tests/mpi/CMakeLists.txt).
int only_in_one_build(int x) { return x; }
#ifdef CONCUR_MPI_TEST_OTHER_BUILD
CONCUR_TASK_NAMED("only_in_the_other_build", &only_in_one_build);
#else
CONCUR_TASK_NAMED("only_in_this_build", &only_in_one_build);
#endif


template <class E, class F>
bool throws(F&& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const E& e) {
    if (what) *what = e.what();
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

using concur::mpi::MPIPoolExecutor;

void test_submit() {
  MPIPoolExecutor pool;
  CHECK(pool.num_workers() >= 1);
  pool.bootup();
  auto f = pool.submit(add, 2, 40);
  CHECK(f.result() == 42);
  CHECK(pool.submit(square, 9).result() == 81);
}

void test_map_in_order() {
  MPIPoolExecutor pool;
  std::vector<int> xs(1000);
  std::iota(xs.begin(), xs.end(), 0);
  for (std::size_t chunksize : {1u, 7u, 100u}) {
    std::vector<int> got;
    for (int r : pool.map(square, xs, {.chunksize = chunksize})) got.push_back(r);
    CHECK(got.size() == xs.size());
    bool ok = got.size() == xs.size();
    for (std::size_t i = 0; ok && i < got.size(); ++i) ok = got[i] == xs[i] * xs[i];
    CHECK(ok);
  }
  std::vector<int> got;
  for (int r : pool.map(square, xs, {.chunksize = 3, .buffersize = 10})) got.push_back(r);
  CHECK(got.size() == xs.size() && got.back() == 999 * 999);
  CHECK(throws<concur::ValueError>([&] { (void)pool.map(square, xs, {.chunksize = 0}); }));
}

void test_exceptions() {
  MPIPoolExecutor pool;
  std::string what;
  CHECK(throws<std::out_of_range>([&] { pool.submit(fail_out_of_range, 7).result(); }, &what));
  CHECK(what == "index 7");
  CHECK(throws<concur::RemoteError>([&] { pool.submit(fail_unregistered, 1).result(); }, &what));
  CHECK(what.find("Unregistered") != std::string::npos);
  // A failing call inside a chunk fails only its own element.
  std::vector<int> xs{1, 2, 3};
  auto results = pool.map(fail_out_of_range, xs, {.chunksize = 3});
  int n = 0;
  for (auto it = results.begin(); it != results.end(); ++it) {
    CHECK(throws<std::out_of_range>([&] { (void)*it; }));
    ++n;
  }
  CHECK(n == 3);
  CHECK(pool.submit(square, 3).result() == 9);  // still usable
}

void test_as_completed() {
  MPIPoolExecutor pool;
  std::vector<concur::futures::Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit(sleepy, (i % 4) * 5));
  std::multiset<int> seen;
  for (auto& f : concur::futures::as_completed(fs)) seen.insert(f.result());
  CHECK(seen.size() == 20);
  CHECK(seen.count(15) == 5);
}

void test_cancel_futures() {
  MPIPoolExecutor pool;
  std::vector<concur::futures::Future<int>> fs;
  for (int i = 0; i < 40; ++i) fs.push_back(pool.submit(sleepy, 50));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pool.shutdown({.wait = true, .cancel_futures = true});
  int cancelled = 0, done = 0;
  for (auto& f : fs) {
    CHECK(f.done());
    if (f.cancelled()) {
      ++cancelled;
    } else if (f.result() == 50) {
      ++done;
    }
  }
  CHECK(cancelled > 0);
  CHECK(cancelled + done == 40);
  CHECK(throws<concur::RuntimeError>([&] { pool.submit(square, 1); }));
}

void test_initializer() {
  {
    MPIPoolExecutor pool({.initializer = good_init});
    CHECK(pool.submit(read_init, 0).result() == 42);
  }
  MPIPoolExecutor pool({.initializer = bad_init});
  std::string what;
  CHECK(throws<concur::futures::BrokenExecutor>([&] { pool.bootup(); }, &what));
  CHECK(what.find("initializer failed") != std::string::npos);
  CHECK(what.find("no database here") != std::string::npos);
  CHECK(throws<concur::futures::BrokenExecutor>([&] { pool.submit(square, 2); }));
  std::printf("failing initializer: %s\n", what.c_str());
}

void test_large_message() {
  // CTest sets CONCUR_MPI_MAX_MESSAGE small, so this string crosses many MPI messages each way
  // (the path that carries > 2 GiB messages).
  MPIPoolExecutor pool;
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  CHECK(pool.submit(echo, big).result() == big);
}

// The handshake's list: every registered name once, sorted (both builds of this test differ).
void test_registered_task_names() {
  const auto names = concur::process::registered_task_names();
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(std::find(names.begin(), names.end(), "square") != names.end());
  CHECK(std::find(names.begin(), names.end(), "only_in_this_build") != names.end());
  CHECK(std::find(names.begin(), names.end(), "only_in_the_other_build") == names.end());
}

void test_options() {
  CHECK(throws<concur::ValueError>([] { MPIPoolExecutor pool({.max_workers = 0}); }));
  CHECK(throws<concur::ValueError>([] { MPIPoolExecutor pool({.max_workers = 1000}); }));
  MPIPoolExecutor one({.max_workers = 1});
  CHECK(one.num_workers() == 1);
  CHECK(one.submit(square, 5).result() == 25);
}

}  // namespace

int main(int argc, char** argv) {
  concur::mpi::Runtime mpi(argc, argv);  // ranks != 0 serve and exit here
  if (argc > 1 && !std::strcmp(argv[1], "--expect-mismatch")) {
    MPIPoolExecutor pool;
    std::string what;
    CHECK(throws<concur::futures::BrokenExecutor>([&] { pool.bootup(); }, &what));
    CHECK(what.find("protocol version") != std::string::npos);
    CHECK(what.find("same build") != std::string::npos);
    std::printf("mismatched build: %s\n", what.c_str());
  } else if (argc > 1 && !std::strcmp(argv[1], "--expect-other-tasks")) {
    MPIPoolExecutor pool;
    std::string what;
    CHECK(throws<concur::futures::BrokenExecutor>([&] { pool.bootup(); }, &what));
    CHECK(what.find("rank " + std::to_string(mpi.size() - 1)) != std::string::npos);
    CHECK(what.find("'only_in_this_build'") != std::string::npos);
    CHECK(what.find("'only_in_the_other_build'") != std::string::npos);
    CHECK(what.find("same build") != std::string::npos);
    CHECK(throws<concur::futures::BrokenExecutor>([&] { (void)pool.submit(square, 3); }));
    std::printf("other tasks: %s\n", what.c_str());
  } else {
    test_submit();
    test_map_in_order();
    test_exceptions();
    test_as_completed();
    test_cancel_futures();
    test_initializer();
    test_large_message();
    test_options();
    test_registered_task_names();
  }
  std::printf("%s (%d failures, %d ranks)\n", failures ? "FAILED" : "OK", failures, mpi.size());
  return failures ? 1 : 0;
}
