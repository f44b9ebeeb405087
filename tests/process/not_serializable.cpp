// Must NOT compile: a task whose argument type cannot be serialized. CTest compiles this file and
// expects the static_assert's message (see tests/process/CMakeLists.txt). With
// -DCONCUR_EXPECT_OK it is the same program with a serializable type, which must compile (so the
// failure is proven to come from the type, not from the build line).
#include "concur/futures/process_pool.hpp"

struct Opaque {
  int handle = 0;
#ifdef CONCUR_EXPECT_OK
  template <class Archive>
  void serialize(Archive& ar) {
    ar(handle);
  }
#endif
};

int use(Opaque o) { return o.handle; }

int main(int argc, char** argv) {
  concur::futures::process_worker_main(argc, argv);
  concur::futures::ProcessPoolExecutor pool({.max_workers = 1});
  return pool.submit(use, Opaque{}).result();
}
