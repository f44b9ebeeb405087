// concur/process/registry.hpp — functions and exceptions known by name in every process of a
// program, and the cereal glue that moves their arguments and results between processes.
//
// C++ cannot pickle code, so a process pool (ProcessPoolExecutor; later the MPI executor) runs
// *registered* functions: both sides run the same program, so a stable name finds the same
// function everywhere, whatever the address-space layout.
//
//   int gcd(std::pair<int, int> p);
//   CONCUR_TASK(gcd);                 // once, at namespace scope, in any translation unit
//
//   struct MyError : std::runtime_error { using std::runtime_error::runtime_error; };
//   CONCUR_EXCEPTION(MyError);        // a MyError thrown in a worker is rethrown as MyError
//
// Arguments and results travel through cereal's binary archives: arithmetic types, std::string,
// the standard containers (their cereal/types headers are included here) and any type with
// cereal's usual `template <class Archive> void serialize(Archive& ar) { ar(a, b); }` member.
// A type that cannot be serialized is a compile error (a static_assert naming the fix), at the
// CONCUR_TASK line and at the submit() call. Types must be default-constructible (cereal builds
// them, then loads them).
//
// Registration rules: the name is the spelling passed to CONCUR_TASK (`CONCUR_TASK(ns::f)` is
// "ns::f"); CONCUR_TASK_NAMED(name, &f) picks another (e.g. for overloads). Registering one
// function several times (a header included by many TUs) is harmless; two different functions
// under one name make that name unusable (submit throws ValueError saying so). Registration
// happens during static initialization, so a CONCUR_TASK inside a static library whose object
// file nothing else references can be dropped by the linker: register in a file that is linked.
//
// Thread-safety: registration happens before main(); lookups are safe from any thread.
#pragma once

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <istream>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "concur/error.hpp"
#include "concur/process/frame.hpp"  // ProtocolError

namespace concur::process {

// ---------------------------------------------------------------------------------------------
// Serialization

/// True when T can travel between processes: cereal can save and load it with binary archives
/// and it is default-constructible.
template <class T>
inline constexpr bool is_serializable_v =
    !std::is_pointer_v<T> && std::is_default_constructible_v<T> &&
    cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value &&
    cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value;

/// Fails to compile, with a message saying what to do, when T cannot be serialized.
template <class T>
constexpr void require_serializable() {
  static_assert(!std::is_pointer_v<T>,
                "concur::process: a raw pointer cannot be sent to another process; pass the value");
  static_assert(std::is_pointer_v<T> || is_serializable_v<T>,
                "concur::process: this argument/result type cannot be serialized. Give it cereal's "
                "`template <class Archive> void serialize(Archive& ar) { ar(field1, field2); }` "
                "member (and a default constructor), or include the cereal/types/<...>.hpp header "
                "for the standard type it uses.");
}

namespace detail {
/// A streambuf appending to a std::string (cereal writes through std::ostream).
class StringAppendBuf final : public std::streambuf {
 public:
  explicit StringAppendBuf(std::string& s) : s_(s) {}

 protected:
  std::streamsize xsputn(const char* p, std::streamsize n) override {
    s_.append(p, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) s_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string& s_;
};
/// A read-only streambuf over a string_view.
class ViewBuf final : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view v) {
    char* p = const_cast<char*>(v.data());
    setg(p, p, p + v.size());
  }
};
[[noreturn]] void throw_decode_error(const char* what_type, const std::exception& e);
}  // namespace detail

/// Appends the cereal binary encoding of `values...` to `out`.
template <class... T>
void serialize_into(std::string& out, const T&... values) {
  (require_serializable<T>(), ...);
  if constexpr ((std::is_arithmetic_v<T> && ...)) {
    // cereal's binary archive stores an arithmetic value as its raw bytes: same wire format,
    // without building a std::ostream per call.
    (out.append(reinterpret_cast<const char*>(&values), sizeof(T)), ...);
    return;
  }
  detail::StringAppendBuf buf(out);
  std::ostream os(&buf);
  cereal::BinaryOutputArchive ar(os);
  ar(values...);
}

/// Loads `values...` (in the order serialize_into saved them) from `bytes`. Throws ProtocolError
/// when the bytes do not decode.
template <class... T>
void deserialize_from(std::string_view bytes, T&... values) {
  (require_serializable<T>(), ...);
  if constexpr ((std::is_arithmetic_v<T> && ...)) {
    if (bytes.size() < (sizeof(T) + ... + 0)) {
      detail::throw_decode_error(typeid(std::tuple<T...>).name(), std::length_error("truncated input"));
    }
    std::size_t at = 0;
    ((std::memcpy(&values, bytes.data() + at, sizeof(T)), at += sizeof(T)), ...);
    return;
  }
  detail::ViewBuf buf(bytes);
  std::istream is(&buf);
  try {
    cereal::BinaryInputArchive ar(is);
    ar(values...);
  } catch (const cereal::Exception& e) {
    detail::throw_decode_error(typeid(std::tuple<T...>).name(), e);
  }
}

// ---------------------------------------------------------------------------------------------
// Tasks

/// Runs a registered function: decodes the argument tuple from `args`, calls the function and
/// appends the encoded result to `result` (nothing for void). Exceptions from the function, or
/// ProtocolError from decoding, propagate.
using TaskInvoker = void (*)(const void* fn, std::string_view args, std::string& result);

/// One registered function.
struct TaskEntry {
  std::string name;
  const void* fn = nullptr;    ///< the function's address in this process (nullptr: ambiguous)
  TaskInvoker invoke = nullptr;
};

/// Registers `fn` under `name` (CONCUR_TASK does this). Idempotent for the same (name, fn).
void register_task(std::string_view name, const void* fn, TaskInvoker invoke);
/// The entry registered under `name`, or nullptr if none (or if two functions claimed it).
const TaskEntry* find_task(std::string_view name) noexcept;
/// The registered name of `fn`. Throws ValueError if fn was never registered (saying to add
/// CONCUR_TASK) or if its name is ambiguous.
const std::string& task_name(const void* fn);
/// Every name registered so far (ambiguous ones included), sorted. The views stay valid for the
/// life of the process (entries are never removed). Pools compare these lists across processes to
/// make sure every side runs a build with the same tasks.
std::vector<std::string_view> registered_task_names();

namespace detail {
template <class F>
inline const void* fn_address(F* fn) noexcept {
  return reinterpret_cast<const void*>(fn);
}

template <class R, class... P>
void invoke_task(const void* fnp, std::string_view args, std::string& result) {
  auto fn = reinterpret_cast<R (*)(P...)>(const_cast<void*>(fnp));
  std::tuple<std::decay_t<P>...> t;
  if constexpr (sizeof...(P) > 0) {
    std::apply([&](auto&... a) { deserialize_from(args, a...); }, t);
  }
  if constexpr (std::is_void_v<R>) {
    std::apply(fn, std::move(t));
  } else {
    const R r = std::apply(fn, std::move(t));
    serialize_into(result, r);
  }
}

/// Compile-time checks shared by CONCUR_TASK and submit().
template <class R, class... P>
constexpr void check_task_signature() {
  static_assert(((!std::is_lvalue_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>) && ...),
                "concur::process: a task cannot take a non-const reference: its argument is a copy "
                "living in another process (return the new value instead)");
  (require_serializable<std::decay_t<P>>(), ...);
  if constexpr (!std::is_void_v<R>) require_serializable<std::decay_t<R>>();
}

/// The static object behind CONCUR_TASK.
struct TaskRegistrar {
  template <class R, class... P>
  TaskRegistrar(std::string_view name, R (*fn)(P...)) {
    check_task_signature<R, P...>();
    register_task(name, fn_address(fn), &invoke_task<R, P...>);
  }
};
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Exceptions

/// An exception as it travels: enough to rebuild a registered type, or a RemoteError.
struct RemoteException {
  std::string mangled;    ///< typeid(T).name() of the thrown type ("" if unknown)
  std::string type_name;  ///< the demangled name, for messages
  std::string what;       ///< what(), or "" if it is not a std::exception
};

/// Inside a catch block: describes the exception being handled (any type, not only
/// std::exception).
RemoteException describe_current_exception();
/// The exception to raise locally for a remote one: the same type when registered (built from
/// what()), else concur::RemoteError(type_name, what).
std::exception_ptr rebuild_exception(const RemoteException& e);

using ExceptionFactory = std::exception_ptr (*)(const std::string& what);
/// Registers a factory for the type whose typeid(T).name() is `mangled` (CONCUR_EXCEPTION does
/// this). The standard exceptions (std::runtime_error, std::logic_error and their library
/// subclasses, std::bad_alloc) and concur's own (concur::ValueError, RuntimeError, TimeoutError,
/// ...) are registered already.
void register_exception(std::string_view mangled, ExceptionFactory make);

namespace detail {
template <class T>
std::exception_ptr make_exception(const std::string& what) {
  return std::make_exception_ptr(T(what));
}
template <class T>
struct ExceptionRegistrar {
  ExceptionRegistrar() {
    static_assert(std::is_constructible_v<T, const std::string&>,
                  "concur::process: CONCUR_EXCEPTION(T) needs T constructible from its what() "
                  "string (e.g. `using std::runtime_error::runtime_error;`)");
    register_exception(typeid(T).name(), &make_exception<T>);
  }
};
}  // namespace detail

}  // namespace concur::process

#define CONCUR_PROCESS_CAT_(a, b) a##b
#define CONCUR_PROCESS_CAT(a, b) CONCUR_PROCESS_CAT_(a, b)

/// Registers a function under the name `name` (a string) for process pools. Namespace scope.
#define CONCUR_TASK_NAMED(name, fnptr)                                                                   \
  [[maybe_unused]] static const ::concur::process::detail::TaskRegistrar CONCUR_PROCESS_CAT( \
      concur_task_registrar_, __COUNTER__) {                                                             \
    name, fnptr                                                                                          \
  }

/// Registers function `fn` (spelled as at the call site: `gcd`, `ns::gcd`) under that spelling.
/// Use once per function, at namespace scope, in any translation unit.
#define CONCUR_TASK(fn) CONCUR_TASK_NAMED(#fn, &fn)

/// Registers exception type T so that a T thrown in a worker is rethrown as a T (built from its
/// what()). T must be constructible from std::string. Namespace scope.
#define CONCUR_EXCEPTION(T)                                                                  \
  [[maybe_unused]] static const ::concur::process::detail::ExceptionRegistrar<T> CONCUR_PROCESS_CAT( \
      concur_exception_registrar_, __COUNTER__) {}
