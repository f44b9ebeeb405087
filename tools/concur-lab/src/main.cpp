// concur-lab — re-runs every experiment of the seed documents with concur (C++20) and with
// CPython running the seeds' own Python programs, in one run, and reports both side by side.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>

#include "lab.hpp"
#include "report.hpp"

#if CONCUR_LAB_HAVE_PROCESS
#include <concur/futures/process_pool.hpp>
#endif

#ifndef CONCUR_LAB_PYTHON_DIR
#define CONCUR_LAB_PYTHON_DIR "python"
#endif

namespace lab {

std::vector<Experiment> all_experiments() {
  std::vector<Experiment> v;
  add_cpu_experiments(v);
  add_thread_experiments(v);
  add_life_experiment(v);
  add_subprocess_experiments(v);
  add_flags_experiment(v);
  return v;
}

std::vector<std::pair<std::string, bool>> modules_built() {
  return {
      {"futures", CONCUR_LAB_HAVE_FUTURES != 0},   {"queue", CONCUR_LAB_HAVE_QUEUE != 0},
      {"subprocess", CONCUR_LAB_HAVE_SUBPROCESS != 0}, {"process", CONCUR_LAB_HAVE_PROCESS != 0},
      {"asyncio", CONCUR_LAB_HAVE_ASYNCIO != 0},
  };
}

std::string missing_module(const char* module) {
  return std::string("not yet available: concur::") + module + " is not in this build";
}

int run_child_mode(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "life") return life_child({args.begin() + 1, args.end()});
  std::fprintf(stderr, "concur-lab: unknown child mode\n");
  return 2;
}

}  // namespace lab

static std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("concur-lab");
}

static std::string find_python_dir(const std::string& exe) {
  if (const char* env = std::getenv("CONCUR_LAB_PYTHON_DIR")) return env;
  std::string compiled = CONCUR_LAB_PYTHON_DIR;
  if (::access((compiled + "/common.py").c_str(), R_OK) == 0) return compiled;
  // Installed or moved: look beside the executable.
  std::string dir = exe.substr(0, exe.rfind('/'));
  for (std::string cand : {dir + "/python", dir + "/../share/concur-lab/python"})
    if (::access((cand + "/common.py").c_str(), R_OK) == 0) return cand;
  return compiled;
}

int main(int argc, char** argv) {
#if CONCUR_LAB_HAVE_PROCESS
  concur::futures::process_worker_main(argc, argv);  // a ProcessPoolExecutor worker never returns
#endif
  if (argc >= 2 && std::string(argv[1]) == "__child")
    return lab::run_child_mode(std::vector<std::string>(argv + 2, argv + argc));

  auto experiments = lab::all_experiments();
  lab::Config cfg;
  cfg.workers = lab::cpu_count();

  std::string footer = "\nExperiments (from the seed documents; each checks its results):\n";
  for (auto& e : experiments) footer += "  " + e.name + std::string(e.name.size() < 14 ? 14 - e.name.size() : 1, ' ') + e.summary + "\n";
  footer +=
      "\nEvery strategy runs in C++ with concur and, beside it, in CPython running the seeds' Python programs\n"
      "(tools/concur-lab/python/); speedups are relative to each side's sequential run. Exit status 0 means every\n"
      "experiment ran and every result check passed.\n";

  CLI::App app{"concur-lab: the seeds' concurrency experiments, concur (C++20) beside CPython, in one run."};
  app.footer(footer);
  std::string json_file, svg_file;
  bool markdown = false, no_python = false;
  std::string python_exe;
  app.add_option("--workers", cfg.workers, "Pool size for the CPU-bound experiments; RC4/SHA-256 tables go 1..N (default: core count)")
      ->check(CLI::Range(1u, 256u));
  app.add_option("--repeat", cfg.repeat, "Runs per strategy; the median is reported")->check(CLI::Range(1, 100));
  app.add_flag("--quick", cfg.quick, "Small sizes (what the CTest test runs)");
  app.add_flag("--seeds-size", cfg.seeds_size,
               "RC4 arrays of 149..384 KB and SHA-256 of 1 MB as in the seeds (default: 1/4 of that; ~5 min of CPython)");
  app.add_option("--json", json_file, "Write machine-readable results (with the machine's description) to FILE")
      ->option_text("FILE");
  app.add_flag("--markdown", markdown, "Print the results as a Markdown table instead of the text table");
  app.add_option("--svg", svg_file, "Write a chart of speedup per strategy, concur beside CPython, to FILE")->option_text("FILE");
  app.add_flag("--no-python", no_python, "Do not run CPython");
  app.add_option("--python", python_exe, "The Python interpreter (default: python3 in PATH)")->option_text("PATH");
  app.add_option("--flags-delay", cfg.flags_delay, "Per-request delay of the local flags HTTP server, seconds (default 0.1; 0.02 with --quick)")
      ->check(CLI::Range(-1.0, 5.0));
  app.add_option("--port", cfg.flags_port, "Port of the local flags HTTP server (default: any free port)");
  app.require_subcommand(0, 1);
  auto* list_cmd = app.add_subcommand("list", "List the experiments");
  auto* run_cmd = app.add_subcommand("run", "Run only the named experiments");
  std::vector<std::string> names;
  run_cmd->add_option("names", names, "Experiment names (see `list`)")->required();
  app.fallthrough();

  CLI11_PARSE(app, argc, argv);

  if (*list_cmd) {
    for (auto& e : experiments) std::printf("%-14s %s\n", e.name.c_str(), e.summary.c_str());
    return 0;
  }

  cfg.self_exe = self_exe();
  cfg.python = !no_python;
  cfg.python_exe = lab::which(python_exe.empty() ? "python3" : python_exe);
  cfg.python_dir = find_python_dir(cfg.self_exe);
  cfg.tty = ::isatty(2);
  if (cfg.python && !cfg.python_exe.empty() && ::access((cfg.python_dir + "/common.py").c_str(), R_OK) != 0) {
    std::fprintf(stderr, "concur-lab: the seeds' Python programs are not in %s; CPython skipped\n", cfg.python_dir.c_str());
    cfg.python_exe.clear();
  }

  std::vector<lab::Experiment> chosen;
  if (*run_cmd) {
    for (auto& n : names) {
      auto it = std::find_if(experiments.begin(), experiments.end(), [&](auto& e) { return e.name == n; });
      if (it == experiments.end()) {
        std::fprintf(stderr, "concur-lab: no experiment named '%s' (try `concur-lab list`)\n", n.c_str());
        return 2;
      }
      chosen.push_back(*it);
    }
  } else {
    chosen = experiments;
  }

  lab::Reporter rep(cfg.tty, chosen.size());
  std::vector<lab::ExperimentResult> results;
  for (auto& e : chosen) {
    lab::ExperimentResult r;
    r.name = e.name;
    r.summary = e.summary;
    r.seeds_figure = e.seeds_figure;
    rep.begin_experiment(e.name);
    lab::Ctx ctx(cfg, r, rep);
    try {
      e.run(ctx);
    } catch (const std::exception& ex) {
      r.error = ex.what();
    }
    rep.end_experiment(r);
    results.push_back(std::move(r));
  }
  rep.finish();

  auto machine = lab::describe_machine(cfg);
  std::string out = markdown ? lab::format_markdown(results, machine, cfg) : lab::format_text(results, machine, cfg);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  int rc = std::all_of(results.begin(), results.end(), [](auto& e) { return e.ok(); }) ? 0 : 1;
  if (!json_file.empty()) {
    std::ofstream f(json_file);
    f << lab::format_json(results, machine, cfg);
    if (!f) {
      std::fprintf(stderr, "concur-lab: cannot write %s\n", json_file.c_str());
      rc = 1;
    }
  }
  if (!svg_file.empty()) {
    std::ofstream f(svg_file);
    f << lab::format_svg(results, machine);
    if (!f) {
      std::fprintf(stderr, "concur-lab: cannot write %s\n", svg_file.c_str());
      rc = 1;
    }
  }
  return rc;
}
