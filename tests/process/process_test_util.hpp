// Helpers shared by the process tests: ways to kill a worker, and a zombie/leftover check.
#pragma once

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

namespace ptest {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

inline constexpr int kCrashKinds = 4;  // 0 SIGSEGV, 1 abort(), 2 SIGKILL (as the OOM killer), 3 exit(3)
inline constexpr int kSpin = 100;      // burn CPU forever
inline constexpr int kAllocate = 101;  // allocate until std::bad_alloc

inline void crash_worker(int how) {
  switch (how) {
    case 0: {
      ::raise(SIGSEGV);
      break;
    }
    case 1:
      std::abort();
    case 2:
      ::raise(SIGKILL);
      break;
    case 3:
      std::_Exit(3);
    case kSpin: {
      volatile unsigned long x = 0;
      for (;;) x = x + 1;
    }
    case kAllocate: {
      std::vector<char*> blocks;
      for (;;) {
        char* p = new char[16 << 20];
        p[0] = 1;  // RLIMIT_AS counts address space: no need to touch every page
        blocks.push_back(p);
      }
    }
    default:
      break;
  }
}

/// True when this process has no child process at all (none alive, no zombie).
inline bool no_children() {
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return true;
  bool none = true;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
    std::string s;
    if (std::getline(in, s) && s.find_first_not_of(' ') != std::string::npos) none = false;
  }
  ::closedir(d);
  return none;
}

}  // namespace ptest
