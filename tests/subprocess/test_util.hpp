// Helpers shared by the subprocess tests: fd and zombie accounting through /proc.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace concur_test {

/// Open fds of this process (the directory handle itself excluded).
inline int count_open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;
}

/// Zombie children of this process (state 'Z' in /proc/<pid>/stat with our pid as parent).
inline int count_zombie_children() {
  const pid_t me = ::getpid();
  int zombies = 0;
  DIR* d = ::opendir("/proc");
  if (!d) return -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == me && state == 'Z') ++zombies;
  }
  ::closedir(d);
  return zombies;
}

/// True when /proc/<pid> no longer exists (the process is gone and reaped).
inline bool process_gone(pid_t pid) { return ::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) != 0; }

/// CONCUR_STRESS_SCALE (default 1).
inline double stress_scale() {
  const char* s = std::getenv("CONCUR_STRESS_SCALE");
  return s ? std::atof(s) : 1.0;
}

}  // namespace concur_test
