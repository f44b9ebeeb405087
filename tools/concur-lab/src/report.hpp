// concur-lab — turning results into a terminal table, Markdown, JSON and an SVG chart.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lab.hpp"

namespace lab {

/// What machine and toolchain the figures come from.
struct Machine {
  unsigned cores = 0;
  std::string cpu, kernel, compiler, python, openssl, date;
};
Machine describe_machine(const Config& cfg);

std::string format_text(const std::vector<ExperimentResult>& results, const Machine& m, const Config& cfg);
std::string format_markdown(const std::vector<ExperimentResult>& results, const Machine& m, const Config& cfg);
std::string format_json(const std::vector<ExperimentResult>& results, const Machine& m, const Config& cfg);
std::string format_svg(const std::vector<ExperimentResult>& results, const Machine& m);

}  // namespace lab
