// concur-lab — the framework: experiments, rows (one strategy, C++ beside CPython), checks.
#pragma once

// Rows and samples are written with designated initializers that name only what matters.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util.hpp"

namespace lab {

/// What the command line chose.
struct Config {
  bool quick = false;
  bool seeds_size = false;    ///< RC4 and SHA-256 at the seeds' full sizes (slow in CPython)
  int repeat = 1;             ///< runs per strategy; the median is reported
  unsigned workers = 0;       ///< pool size for the CPU experiments (default: the core count)
  bool python = true;         ///< run CPython beside concur
  std::string python_exe;     ///< python3 found in PATH (empty: not found)
  std::string python_dir;     ///< the seeds' Python programs
  std::string self_exe;       ///< this program (re-run as a child to measure peak memory)
  double flags_delay = -1;    ///< the flags server's per-request delay (s); <0: 0.1, 0.02 with --quick
  int flags_port = 0;         ///< 0: any free loopback port
  bool tty = false;           ///< stderr is a terminal: draw a progress bar
};

/// One measured run of one side.
struct Sample {
  double seconds = 0;
  std::string result;          ///< canonical result, compared with the experiment's reference
  bool ok = true;              ///< the strategy's own check passed
  std::string note;
  long peak_rss_kb = -1;       ///< peak resident memory (child-process strategies only)
  long peak_vm_kb = -1;        ///< peak virtual memory (thread stacks show here)
};

/// One side (concur or CPython) of one row, after the repeats.
struct Side {
  enum class State { not_run, skipped, ok, failed } state = State::not_run;
  double seconds = 0;             ///< median
  std::vector<double> runs;
  std::string result;
  std::string note;               ///< why skipped / failed / remarks
  long peak_rss_kb = -1, peak_vm_kb = -1;
  bool measured() const { return state == State::ok || state == State::failed; }
};

/// One strategy of one experiment.
struct Row {
  std::string strategy;
  unsigned workers = 0;           ///< 0: not applicable
  bool baseline = false;          ///< speedups are relative to this row
  bool with_speedup = true;       ///< false: a row whose time is not comparable (a demonstration)
  Side cpp, py;
  double cpp_speedup = 0, py_speedup = 0;  ///< baseline.seconds / seconds (0: n/a)
  double ratio = 0;               ///< CPython seconds / concur seconds (0: n/a)
};

struct ExperimentResult {
  std::string name, summary, seeds_figure;
  std::vector<Row> rows;
  std::string error;              ///< the experiment could not run at all
  std::vector<std::string> notes;
  bool ok() const;
};

/// How a row is specified by an experiment.
struct RowSpec {
  std::string strategy;
  unsigned workers = 0;
  bool baseline = false;
  std::function<Sample()> cpp;          ///< empty: not available (see cpp_missing)
  std::string cpp_missing;              ///< e.g. "needs concur::queue (module not built yet)"
  std::vector<std::string> py;          ///< script + arguments in python_dir; empty: no CPython run
  bool compare_reference = true;        ///< results must equal the experiment's reference
  bool speedup = true;                  ///< false: no speedup column (not the same workload)
  double py_timeout = 120;
};

class Reporter;

/// Handed to an experiment's run(): runs rows with repeats and checks, reports progress.
class Ctx {
 public:
  Ctx(const Config& cfg, ExperimentResult& out, Reporter& rep) : cfg(cfg), out_(out), rep_(rep) {}
  const Config& cfg;

  /// The canonical result every strategy (both languages) must produce.
  void reference(std::string r) { reference_ = std::move(r); }
  const std::string& reference() const { return reference_; }
  /// Runs one row (concur side then CPython side, `repeat` times each) and records it.
  void row(const RowSpec& spec);
  /// Adds a note under the experiment's table.
  void note(std::string n) { out_.notes.push_back(std::move(n)); }
  /// Sub-progress inside a long row (e.g. flags downloaded so far).
  void progress(std::size_t done, std::size_t total);
  /// Parses key=value lines printed by a Python program or a child run of this program.
  static std::map<std::string, std::string> parse_kv(const std::string& text);

 private:
  Side run_cpp(const RowSpec& spec);
  Side run_py(const RowSpec& spec);
  std::string reference_;
  ExperimentResult& out_;
  Reporter& rep_;
};

/// One experiment of the seeds.
struct Experiment {
  std::string name;
  std::string summary;        ///< one sentence for --help and the table
  std::string seeds_figure;   ///< what the seeds measured
  std::function<void(Ctx&)> run;
};

/// All experiments, in the order of SEEDS.md.
std::vector<Experiment> all_experiments();

// Registration functions, one per source file.
void add_cpu_experiments(std::vector<Experiment>& v);
void add_thread_experiments(std::vector<Experiment>& v);
void add_life_experiment(std::vector<Experiment>& v);
void add_subprocess_experiments(std::vector<Experiment>& v);
void add_flags_experiment(std::vector<Experiment>& v);

/// Child-mode entry points (`concur-lab __child NAME args...`), used to measure peak memory of
/// one strategy in a fresh process. Returns the exit code.
int run_child_mode(const std::vector<std::string>& args);
int life_child(const std::vector<std::string>& args);

/// Which concur modules this build has (from CMake).
std::vector<std::pair<std::string, bool>> modules_built();
std::string missing_module(const char* module);

/// Progress reporting on stderr: a bar on a terminal, plain lines otherwise.
class Reporter {
 public:
  Reporter(bool tty, std::size_t total_rows) : tty_(tty), total_(total_rows) {}
  void begin_experiment(const std::string& name);
  void begin_side(const std::string& strategy, const char* side);
  void end_row(const Row& row);
  void sub(std::size_t done, std::size_t total);
  void end_experiment(const ExperimentResult& r);
  void finish();
  void add_total(std::size_t n) { total_ += n; }

 private:
  void draw(const std::string& label);
  bool tty_;
  std::size_t total_, done_ = 0;
  std::string exp_, label_;
};

}  // namespace lab
