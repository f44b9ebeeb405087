#include "lab.hpp"

#include <cstdio>
#include <exception>
#include <sstream>

namespace lab {

bool ExperimentResult::ok() const {
  if (!error.empty()) return false;
  for (auto& r : rows)
    if (r.cpp.state == Side::State::failed || r.py.state == Side::State::failed) return false;
  return true;
}

std::map<std::string, std::string> Ctx::parse_kv(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

static std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  auto nl = t.rfind('\n');
  t = nl == std::string::npos ? t : t.substr(nl + 1);
  if (t.size() > 160) t = t.substr(0, 160) + "...";
  return t;
}

Side Ctx::run_cpp(const RowSpec& spec) {
  Side s;
  if (!spec.cpp) {
    s.state = Side::State::skipped;
    s.note = spec.cpp_missing.empty() ? "not applicable" : spec.cpp_missing;
    return s;
  }
  rep_.begin_side(spec.strategy, "concur");
  int n = std::max(1, cfg.repeat);
  for (int i = 0; i < n; ++i) {
    Sample smp;
    try {
      smp = spec.cpp();
    } catch (const std::exception& e) {
      s.state = Side::State::failed;
      s.note = std::string("error: ") + e.what();
      return s;
    }
    s.runs.push_back(smp.seconds);
    s.result = smp.result;
    if (!smp.note.empty()) s.note = smp.note;
    if (smp.peak_rss_kb >= 0) s.peak_rss_kb = std::max(s.peak_rss_kb, smp.peak_rss_kb);
    if (smp.peak_vm_kb >= 0) s.peak_vm_kb = std::max(s.peak_vm_kb, smp.peak_vm_kb);
    if (!smp.ok) {
      s.state = Side::State::failed;
      s.note = "CHECK FAILED: " + (smp.note.empty() ? smp.result : smp.note);
      s.seconds = median(s.runs);
      return s;
    }
    if (spec.compare_reference && !reference_.empty() && smp.result != reference_) {
      s.state = Side::State::failed;
      s.note = "WRONG RESULT: got " + smp.result.substr(0, 80) + " expected " + reference_.substr(0, 80);
      s.seconds = median(s.runs);
      return s;
    }
  }
  s.seconds = median(s.runs);
  s.state = Side::State::ok;
  return s;
}

Side Ctx::run_py(const RowSpec& spec) {
  Side s;
  if (spec.py.empty()) {
    s.state = Side::State::skipped;
    s.note = "no CPython counterpart";
    return s;
  }
  if (!cfg.python) {
    s.state = Side::State::skipped;
    s.note = "CPython disabled (--no-python)";
    return s;
  }
  if (cfg.python_exe.empty()) {
    s.state = Side::State::skipped;
    s.note = "skipped: python3 not found";
    return s;
  }
  rep_.begin_side(spec.strategy, "CPython");
  int n = std::max(1, cfg.repeat);
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> argv{cfg.python_exe, "-u", cfg.python_dir + "/" + spec.py[0]};
    argv.insert(argv.end(), spec.py.begin() + 1, spec.py.end());
    if (cfg.quick) argv.push_back("--quick");
    else if (cfg.seeds_size) argv.push_back("--seeds-size");
    ChildResult r;
    try {
      r = run_child(argv, spec.py_timeout, {"PYTHONDONTWRITEBYTECODE=1"});
    } catch (const std::exception& e) {
      s.state = Side::State::failed;
      s.note = std::string("cannot run python3: ") + e.what();
      return s;
    }
    auto kv = parse_kv(r.out);
    if (r.timed_out || r.exit_code != 0 || !kv.count("seconds")) {
      s.state = Side::State::failed;
      s.note = r.timed_out ? "python timed out" : "python failed: " + last_line(r.err.empty() ? r.out : r.err);
      return s;
    }
    double secs = std::stod(kv["seconds"]);
    s.runs.push_back(secs);
    s.result = kv["result"];
    if (kv.count("note")) s.note = kv["note"];
    if (kv.count("peak_vm_kb")) {  // memory is part of this experiment
      s.peak_vm_kb = std::stol(kv["peak_vm_kb"]);
      s.peak_rss_kb = std::max(s.peak_rss_kb, r.max_rss_kb);
    }
    if (kv["ok"] != "1") {
      s.state = Side::State::failed;
      s.note = "CHECK FAILED: " + (kv.count("note") ? kv["note"] : s.result.substr(0, 80));
      s.seconds = median(s.runs);
      return s;
    }
    if (spec.compare_reference && !reference_.empty() && s.result != reference_) {
      s.state = Side::State::failed;
      s.note = "WRONG RESULT: got " + s.result.substr(0, 80) + " expected " + reference_.substr(0, 80);
      s.seconds = median(s.runs);
      return s;
    }
  }
  s.seconds = median(s.runs);
  s.state = Side::State::ok;
  return s;
}

void Ctx::row(const RowSpec& spec) {
  Row row;
  row.strategy = spec.strategy;
  row.workers = spec.workers;
  row.baseline = spec.baseline;
  row.with_speedup = spec.speedup;
  row.cpp = run_cpp(spec);
  row.py = run_py(spec);
  if (row.cpp.measured() && row.py.measured() && row.cpp.seconds > 0)
    row.ratio = row.py.seconds / row.cpp.seconds;
  out_.rows.push_back(row);
  // Speedups relative to the baseline row (first row marked baseline).
  const Row* base = nullptr;
  for (auto& r : out_.rows)
    if (r.baseline) {
      base = &r;
      break;
    }
  if (base)
    for (auto& r : out_.rows) {
      if (!r.with_speedup) continue;
      r.cpp_speedup = base->cpp.measured() && r.cpp.measured() && r.cpp.seconds > 0 ? base->cpp.seconds / r.cpp.seconds : 0;
      r.py_speedup = base->py.measured() && r.py.measured() && r.py.seconds > 0 ? base->py.seconds / r.py.seconds : 0;
    }
  rep_.end_row(out_.rows.back());
}

void Ctx::progress(std::size_t done, std::size_t total) { rep_.sub(done, total); }

// ---- Reporter ------------------------------------------------------------------------------

void Reporter::draw(const std::string& label) {
  if (!tty_) return;
  const int width = 24;
  std::size_t filled = total_ ? done_ * width / total_ : 0;
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::string text = "\r[" + bar + "] " + std::to_string(done_) + "/" + std::to_string(total_) + " " + label;
  if (text.size() > 110) text = text.substr(0, 110);
  std::fprintf(stderr, "%s\033[K", text.c_str());
  std::fflush(stderr);
}

void Reporter::begin_experiment(const std::string& name) {
  exp_ = name;
  if (tty_) draw(exp_);
  else std::fprintf(stderr, "concur-lab: %s ...\n", name.c_str());
}

void Reporter::begin_side(const std::string& strategy, const char* side) {
  label_ = exp_ + ": " + strategy + " (" + side + ")";
  draw(label_);
}

static std::string side_text(const Side& s) {
  char buf[64];
  switch (s.state) {
    case Side::State::ok: std::snprintf(buf, sizeof buf, "%.3f s", s.seconds); return buf;
    case Side::State::failed: return "FAILED (" + s.note + ")";
    case Side::State::skipped: return "- (" + s.note + ")";
    default: return "-";
  }
}

void Reporter::end_row(const Row& row) {
  if (tty_) return;
  std::fprintf(stderr, "  %-30s concur %s | CPython %s\n", row.strategy.c_str(), side_text(row.cpp).c_str(),
               side_text(row.py).c_str());
}

void Reporter::sub(std::size_t done, std::size_t total) {
  if (!tty_) return;
  const int width = 20;
  std::size_t filled = total ? done * width / total : 0;
  draw(label_ + " " + std::string(filled, '=') + std::string(width - filled, ' ') + " " + std::to_string(done) + "/" +
       std::to_string(total));
}

void Reporter::end_experiment(const ExperimentResult& r) {
  ++done_;
  if (tty_) draw(exp_ + (r.ok() ? " ok" : " FAILED"));
  else std::fprintf(stderr, "concur-lab: %s %s\n", r.name.c_str(), r.ok() ? "ok" : ("FAILED " + r.error).c_str());
}

void Reporter::finish() {
  if (tty_) std::fprintf(stderr, "\r\033[K");
}

}  // namespace lab
