// The task and exception registries (see concur/process/registry.hpp).
#include "concur/process/registry.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>

#include "concur/process/frame.hpp"

namespace concur::process {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> p(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && p ? std::string(p.get()) : std::string(mangled);
}

struct Registry {
  std::mutex mu;  // registration is static-init time; lookups may race with late dlopen()s
  std::unordered_map<std::string, TaskEntry> by_name;
  std::unordered_map<const void*, std::string> by_fn;
  std::unordered_map<std::string, ExceptionFactory> exceptions;

  Registry() {
    add_exception<std::runtime_error>();
    add_exception<std::logic_error>();
    add_exception<std::invalid_argument>();
    add_exception<std::domain_error>();
    add_exception<std::length_error>();
    add_exception<std::out_of_range>();
    add_exception<std::range_error>();
    add_exception<std::overflow_error>();
    add_exception<std::underflow_error>();
    add_exception<concur::Error>();
    add_exception<concur::TimeoutError>();
    add_exception<concur::CancelledError>();
    add_exception<concur::InvalidStateError>();
    add_exception<concur::RuntimeError>();
    add_exception<concur::ValueError>();
    add_exception<concur::futures::BrokenExecutor>();
    add_exception<concur::futures::BrokenProcessPool>();
    add_exception<ProtocolError>();
    exceptions[typeid(std::bad_alloc).name()] = [](const std::string&) {
      return std::make_exception_ptr(std::bad_alloc());
    };
  }
  template <class T>
  void add_exception() {
    exceptions[typeid(T).name()] = &detail::make_exception<T>;
  }
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: used by static registrars and at exit
  return *r;
}

}  // namespace

namespace detail {
void throw_decode_error(const char* what_type, const std::exception& e) {
  throw ProtocolError("concur::process: cannot decode a " + demangle(what_type) + ": " + e.what());
}
}  // namespace detail

void register_task(std::string_view name, const void* fn, TaskInvoker invoke) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto [it, inserted] = r.by_name.try_emplace(std::string(name), TaskEntry{std::string(name), fn, invoke});
  if (!inserted && it->second.fn != fn) it->second.fn = nullptr;  // two functions, one name
  auto [fit, finserted] = r.by_fn.try_emplace(fn, std::string(name));
  (void)fit;
  (void)finserted;  // one function under several names: the first name is used to send it
}

const TaskEntry* find_task(std::string_view name) noexcept {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_name.find(std::string(name));
  if (it == r.by_name.end() || it->second.fn == nullptr) return nullptr;
  return &it->second;  // entries are never erased; unordered_map references are stable
}

const std::string& task_name(const void* fn) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_fn.find(fn);
  if (it == r.by_fn.end()) {
    throw ValueError("concur::process: this function is not registered for process pools; add "
                     "CONCUR_TASK(<function>); at namespace scope in one .cpp file");
  }
  auto e = r.by_name.find(it->second);
  if (e->second.fn == nullptr) {
    throw ValueError("concur::process: two different functions are registered as '" + it->second +
                     "'; register one with CONCUR_TASK_NAMED(\"unique name\", &function)");
  }
  return it->second;
}

std::vector<std::string_view> registered_task_names() {
  auto& r = registry();
  std::vector<std::string_view> names;
  {
    std::lock_guard lock(r.mu);
    names.reserve(r.by_name.size());
    for (const auto& [name, entry] : r.by_name) names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

RemoteException describe_current_exception() {
  RemoteException e;
  if (const std::type_info* t = abi::__cxa_current_exception_type()) {
    e.mangled = t->name();
    e.type_name = demangle(t->name());
  } else {
    e.type_name = "<unknown exception>";
  }
  try {
    throw;
  } catch (const std::exception& x) {
    e.what = x.what();
  } catch (...) {
  }
  return e;
}

std::exception_ptr rebuild_exception(const RemoteException& e) {
  auto& r = registry();
  ExceptionFactory make = nullptr;
  {
    std::lock_guard lock(r.mu);
    auto it = r.exceptions.find(e.mangled);
    if (it != r.exceptions.end()) make = it->second;
  }
  if (make) {
    try {
      return make(e.what);
    } catch (...) {
      return std::current_exception();  // the constructor itself threw: report that
    }
  }
  return std::make_exception_ptr(RemoteError(e.type_name, e.what));
}

void register_exception(std::string_view mangled, ExceptionFactory make) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.exceptions[std::string(mangled)] = make;
}

}  // namespace concur::process
