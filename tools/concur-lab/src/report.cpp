#include "report.hpp"

#include <sys/utsname.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace lab {

Machine describe_machine(const Config& cfg) {
  Machine m;
  m.cores = cpu_count();
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      auto c = line.find(':');
      m.cpu = line.substr(c + 2);
      break;
    }
  utsname u{};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
#ifdef __VERSION__
  m.compiler = std::string("g++ ") + __VERSION__;
#endif
  m.openssl = OpenSSL_version(OPENSSL_VERSION);
  if (!cfg.python_exe.empty()) {
    try {
      auto r = run_child({cfg.python_exe, "--version"}, 10);
      std::string v = r.out.empty() ? r.err : r.out;
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
      m.python = v;
    } catch (...) {
    }
  }
  if (m.python.empty()) m.python = "not found";
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  m.date = buf;
  return m;
}

static std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

static std::string seconds_text(const Side& s) {
  if (!s.measured()) return "—";
  if (s.seconds < 0.001) return fmt("%.2f ms", s.seconds * 1e3);
  if (s.seconds < 1) return fmt("%.1f ms", s.seconds * 1e3);
  return fmt("%.2f s", s.seconds);
}

static std::string speedup_text(double v) { return v > 0 ? fmt(v >= 100 ? "%.0fx" : "%.2fx", v) : "—"; }

static std::string mem_text(const Side& s) {
  std::string t;
  if (s.peak_rss_kb >= 0) t += fmt("rss %.1f MB", s.peak_rss_kb / 1024.0);
  if (s.peak_vm_kb >= 0) t += (t.empty() ? "" : ", ") + fmt("vm %.0f MB", s.peak_vm_kb / 1024.0);
  return t;
}

static std::string check_text(const Row& r) {
  auto one = [](const Side& s, const char* who) -> std::string {
    if (s.state == Side::State::failed) return std::string(who) + " FAILED: " + s.note;
    return "";
  };
  std::string a = one(r.cpp, "concur"), b = one(r.py, "CPython");
  if (a.empty() && b.empty()) {
    if (r.cpp.state == Side::State::ok || r.py.state == Side::State::ok) return "ok";
    return "—";
  }
  return a + (a.empty() || b.empty() ? "" : "; ") + b;
}

static std::string side_remark(const Side& s, const char* who) {
  std::string t;
  if (s.state == Side::State::skipped) t = s.note;
  else if (s.state == Side::State::ok && !s.note.empty()) t = s.note;
  std::string m = mem_text(s);
  if (!m.empty()) t += (t.empty() ? "" : "; ") + m;
  return t.empty() ? "" : std::string(who) + ": " + t;
}

static std::string remarks(const Row& r) {
  std::string a = side_remark(r.cpp, "concur"), b = side_remark(r.py, "CPython");
  return a + (a.empty() || b.empty() ? "" : " · ") + b;
}

static std::string pad(const std::string& s, std::size_t w) {
  // Count UTF-8 code points so "—" pads right.
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n >= w ? s + " " : s + std::string(w - n, ' ');
}

static std::string workers_text(unsigned w) { return w ? std::to_string(w) : ""; }

std::string format_text(const std::vector<ExperimentResult>& results, const Machine& m, const Config& cfg) {
  std::ostringstream o;
  o << "concur-lab — the seeds' experiments, concur (C++20) beside CPython, on " << m.cores << " cores ("
    << m.cpu << "); " << m.python << "; repeat " << cfg.repeat << " (median)" << (cfg.quick ? "; --quick sizes" : "")
    << "\n";
  for (auto& e : results) {
    o << "\n== " << e.name << " — " << e.summary << "\n";
    if (!e.seeds_figure.empty()) o << "   seeds: " << e.seeds_figure << "\n";
    if (!e.error.empty()) o << "   FAILED: " << e.error << "\n";
    if (e.rows.empty()) continue;
    o << "   " << pad("strategy", 42) << pad("workers", 8) << pad("concur", 11) << pad("speedup", 9)
      << pad("CPython", 11) << pad("speedup", 9) << pad("CPy/concur", 11) << "check\n";
    for (auto& r : e.rows) {
      o << "   " << pad(r.strategy, 42) << pad(workers_text(r.workers), 8) << pad(seconds_text(r.cpp), 11)
        << pad(speedup_text(r.cpp_speedup), 9) << pad(seconds_text(r.py), 11) << pad(speedup_text(r.py_speedup), 9)
        << pad(speedup_text(r.ratio), 11) << check_text(r) << "\n";
      std::string rm = remarks(r);
      if (!rm.empty()) o << "      " << rm << "\n";
    }
    for (auto& n : e.notes) o << "   note: " << n << "\n";
  }
  std::size_t failed = std::count_if(results.begin(), results.end(), [](auto& e) { return !e.ok(); });
  o << "\n" << results.size() - failed << "/" << results.size() << " experiments passed every check"
    << (failed ? " — SOME FAILED" : "") << "\n";
  return o.str();
}

static std::string md_escape(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += ' ';
    else o += c;
  }
  return o;
}

std::string format_markdown(const std::vector<ExperimentResult>& results, const Machine& m, const Config& cfg) {
  std::ostringstream o;
  o << "Machine: " << m.cores << " cores, " << md_escape(m.cpu) << ", " << m.kernel << "; " << m.compiler << "; "
    << m.python << "; " << m.openssl << "; " << m.date << "; repeat " << cfg.repeat << " (median)"
    << (cfg.quick ? ", --quick sizes" : "") << ".\n\n";
  o << "| experiment | strategy | workers | concur | speedup | CPython | speedup | CPython ÷ concur | check | remarks |\n";
  o << "|---|---|---:|---:|---:|---:|---:|---:|---|---|\n";
  for (auto& e : results) {
    if (!e.error.empty()) {
      o << "| " << e.name << " | — | | | | | | | FAILED: " << md_escape(e.error) << " | |\n";
      continue;
    }
    bool first = true;
    for (auto& r : e.rows) {
      o << "| " << (first ? "**" + e.name + "**" : "") << " | " << md_escape(r.strategy) << " | "
        << workers_text(r.workers) << " | " << seconds_text(r.cpp) << " | " << speedup_text(r.cpp_speedup) << " | "
        << seconds_text(r.py) << " | " << speedup_text(r.py_speedup) << " | " << speedup_text(r.ratio) << " | "
        << md_escape(check_text(r)) << " | " << md_escape(remarks(r)) << " |\n";
      first = false;
    }
  }
  bool any_note = false;
  for (auto& e : results)
    for (auto& n : e.notes) {
      if (!any_note) o << "\nNotes:\n";
      any_note = true;
      o << "- " << e.name << ": " << md_escape(n) << "\n";
    }
  return o.str();
}

static std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

static std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

static const char* state_name(Side::State s) {
  switch (s) {
    case Side::State::ok: return "ok";
    case Side::State::failed: return "failed";
    case Side::State::skipped: return "skipped";
    default: return "not_run";
  }
}

static std::string json_side(const Side& s, double speedup) {
  std::ostringstream o;
  o << "{\"state\": " << json_str(state_name(s.state)) << ", \"seconds\": " << (s.measured() ? json_num(s.seconds) : "null")
    << ", \"runs\": [";
  for (std::size_t i = 0; i < s.runs.size(); ++i) o << (i ? ", " : "") << json_num(s.runs[i]);
  o << "], \"speedup\": " << (speedup > 0 ? json_num(speedup) : "null") << ", \"check\": "
    << (s.state == Side::State::ok ? "true" : s.state == Side::State::failed ? "false" : "null")
    << ", \"result\": " << json_str(s.result.size() > 400 ? s.result.substr(0, 400) + "..." : s.result)
    << ", \"note\": " << json_str(s.note) << ", \"peak_rss_kb\": " << (s.peak_rss_kb >= 0 ? std::to_string(s.peak_rss_kb) : "null")
    << ", \"peak_vm_kb\": " << (s.peak_vm_kb >= 0 ? std::to_string(s.peak_vm_kb) : "null") << "}";
  return o.str();
}

std::string format_json(const std::vector<ExperimentResult>& results, const Machine& m, const Config& cfg) {
  std::ostringstream o;
  bool all_ok = std::all_of(results.begin(), results.end(), [](auto& e) { return e.ok(); });
  o << "{\n  \"tool\": \"concur-lab\",\n  \"format\": 1,\n  \"ok\": " << (all_ok ? "true" : "false") << ",\n";
  o << "  \"machine\": {\"cores\": " << m.cores << ", \"cpu\": " << json_str(m.cpu) << ", \"kernel\": " << json_str(m.kernel)
    << ", \"compiler\": " << json_str(m.compiler) << ", \"python\": " << json_str(m.python)
    << ", \"openssl\": " << json_str(m.openssl) << ", \"date\": " << json_str(m.date) << "},\n";
  o << "  \"config\": {\"quick\": " << (cfg.quick ? "true" : "false") << ", \"seeds_size\": " << (cfg.seeds_size ? "true" : "false")
    << ", \"repeat\": " << cfg.repeat
    << ", \"workers\": " << cfg.workers << ", \"python\": " << (cfg.python && !cfg.python_exe.empty() ? "true" : "false")
    << ", \"flags_delay\": " << json_num(cfg.flags_delay) << "},\n";
  o << "  \"modules\": {";
  bool first = true;
  for (auto& [name, built] : modules_built()) {
    o << (first ? "" : ", ") << json_str(name) << ": " << (built ? "true" : "false");
    first = false;
  }
  o << "},\n  \"experiments\": [\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& e = results[i];
    o << "    {\"name\": " << json_str(e.name) << ", \"summary\": " << json_str(e.summary)
      << ", \"seeds_figure\": " << json_str(e.seeds_figure) << ", \"ok\": " << (e.ok() ? "true" : "false")
      << ", \"error\": " << (e.error.empty() ? "null" : json_str(e.error)) << ",\n     \"notes\": [";
    for (std::size_t k = 0; k < e.notes.size(); ++k) o << (k ? ", " : "") << json_str(e.notes[k]);
    o << "],\n     \"rows\": [\n";
    for (std::size_t k = 0; k < e.rows.size(); ++k) {
      auto& r = e.rows[k];
      o << "       {\"strategy\": " << json_str(r.strategy) << ", \"workers\": " << r.workers
        << ", \"baseline\": " << (r.baseline ? "true" : "false") << ", \"ratio\": " << (r.ratio > 0 ? json_num(r.ratio) : "null")
        << ",\n        \"concur\": " << json_side(r.cpp, r.cpp_speedup) << ",\n        \"cpython\": "
        << json_side(r.py, r.py_speedup) << "}" << (k + 1 < e.rows.size() ? "," : "") << "\n";
    }
    o << "     ]}" << (i + 1 < results.size() ? "," : "") << "\n";
  }
  o << "  ]\n}\n";
  return o.str();
}

static std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string format_svg(const std::vector<ExperimentResult>& results, const Machine& m) {
  // One panel per experiment: for each strategy, a concur bar beside a CPython bar, length =
  // speedup over that side's sequential run (log scale), with the core count marked.
  const int width = 900, label_w = 260, bar_h = 9, row_h = 24, panel_gap = 34;
  const double max_log = std::log2(512.0), min_log = std::log2(1.0 / 8);
  auto x_of = [&](double speedup) {
    double l = std::clamp(std::log2(speedup), min_log, max_log);
    return label_w + (l - min_log) / (max_log - min_log) * (width - label_w - 70);
  };
  std::ostringstream body;
  int y = 60;
  for (auto& e : results) {
    std::vector<const Row*> rows;
    for (auto& r : e.rows)
      if (r.cpp_speedup > 0 || r.py_speedup > 0) rows.push_back(&r);
    if (rows.empty()) continue;
    body << "<text x='10' y='" << y << "' font-weight='bold'>" << xml_escape(e.name) << "</text>\n";
    body << "<text x='" << label_w << "' y='" << y << "' font-size='11' fill='#555'>" << xml_escape(e.summary)
         << "</text>\n";
    y += 10;
    int top = y;
    for (auto* r : rows) {
      std::string label = r->strategy + (r->workers ? " (" + std::to_string(r->workers) + ")" : "");
      body << "<text x='10' y='" << y + 15 << "' font-size='12'>" << xml_escape(label) << "</text>\n";
      auto bar = [&](double s, int yy, const char* color, const char* who) {
        if (s <= 0) return;
        double x0 = x_of(1.0), x1 = x_of(s);
        double a = std::min(x0, x1), w = std::max(1.0, std::abs(x1 - x0));
        body << "<rect x='" << a << "' y='" << yy << "' width='" << w << "' height='" << bar_h << "' fill='" << color
             << "'><title>" << who << " " << fmt("%.2fx", s) << "</title></rect>\n";
        body << "<text x='" << std::max(x0, x1) + 4 << "' y='" << yy + 8 << "' font-size='9'>" << fmt("%.2fx", s)
             << "</text>\n";
      };
      bar(r->cpp_speedup, y + 2, "#1f77b4", "concur");
      bar(r->py_speedup, y + 2 + bar_h + 1, "#ff7f0e", "CPython");
      y += row_h;
    }
    // Axis lines: 1x and the core count.
    body << "<line x1='" << x_of(1) << "' y1='" << top << "' x2='" << x_of(1) << "' y2='" << y
         << "' stroke='#333'/>\n";
    body << "<line x1='" << x_of(m.cores) << "' y1='" << top << "' x2='" << x_of(m.cores) << "' y2='" << y
         << "' stroke='#c00' stroke-dasharray='4 3'/>\n";
    y += panel_gap;
  }
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << y + 30
    << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
  o << "<text x='10' y='22' font-size='16' font-weight='bold'>concur-lab: speedup over each side's sequential run "
       "(log scale)</text>\n";
  o << "<text x='10' y='40' font-size='12'>" << m.cores << " cores (" << xml_escape(m.cpu) << "), "
    << xml_escape(m.python) << ". </text>\n";
  o << "<rect x='560' y='30' width='12' height='10' fill='#1f77b4'/><text x='576' y='39' font-size='12'>concur "
       "(C++)</text>\n";
  o << "<rect x='660' y='30' width='12' height='10' fill='#ff7f0e'/><text x='676' y='39' font-size='12'>CPython</text>\n";
  o << "<line x1='750' y1='35' x2='770' y2='35' stroke='#c00' stroke-dasharray='4 3'/><text x='774' y='39' "
       "font-size='12'>core count</text>\n";
  o << body.str() << "</svg>\n";
  return o.str();
}

}  // namespace lab
