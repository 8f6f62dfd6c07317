// The one shape of a failure a caller handles at run time: result<T, E> holds either the
// value a call produced or the error E that says why there is none, never both. It is
// std::expected (C++23) in the subset we use, with the same spelling and the same rules
// for what converts implicitly: construct the value directly and the error as
// unexpected(e); ask has_value() or the bool; read value() or *r, and error(). Moving to
// C++23 is then a matter of names, except for the one difference below.
//
// The difference, on purpose: every read is checked. value(), *r and r-> on an error, and
// error() on a value, throw bad_result_access (std::expected makes the last three undefined
// behaviour). A wrong read is a programming error; the catch-alls at the request edges
// then answer it as an errored review or a failed read, never as an allowed pod, instead
// of going on with garbage.
//
// E is whatever the caller needs to act: a named struct, with a kind where callers branch
// on one (kube::transport_failure, admission::decode_error), or a plain std::string message
// where all a caller can do is report it. Where a call has more outcomes than "done" and
// "failed because", it returns a type of its own that names them (guard::setting_read, the
// supervisor's attempt_outcome); see the README's layout section for the whole rule.
//
// Like std::variant, which holds the two sides, a result whose assignment threw halfway
// holds neither (has_value() is false and error() throws); the types kept in one here
// move without throwing.
#pragma once

#include <concepts>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace lug {

template <typename T, typename E>
class [[nodiscard]] result;

// Reading the side of a result that it does not hold.
struct bad_result_access : std::logic_error {
  using std::logic_error::logic_error;
};

// The error side of a result, spelled where it is made (as std::unexpected): with it,
// result<std::string, std::string> is unambiguous, and a return statement says which
// side it fills.
template <typename E>
class unexpected {
 public:
  constexpr explicit unexpected(E error) : error_(std::move(error)) {}

  constexpr E& error() & noexcept { return error_; }
  constexpr const E& error() const& noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

template <typename E>
unexpected(E) -> unexpected<E>;

namespace detail {

template <typename U>
inline constexpr bool is_unexpected = false;
template <typename E>
inline constexpr bool is_unexpected<unexpected<E>> = true;

template <typename U>
inline constexpr bool is_result = false;
template <typename T, typename E>
inline constexpr bool is_result<result<T, E>> = true;

[[noreturn]] inline void throw_bad_result_access(bool wanted_value) {
  throw bad_result_access(wanted_value ? "result read as a value holds an error"
                                       : "result read as an error holds a value");
}

// What result<T, E> and result<void, E> share: the two sides (V is T, or std::monostate
// for void), reading the error, and the check on every read. The constructors are the
// results' own: GCC 12 drops explicit(bool) from an inherited constructor.
template <typename V, typename E>
class result_base {
  static_assert(!std::is_reference_v<V> && !std::is_reference_v<E>, "result holds values, not references");

 public:
  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr E& error() & { return checked<1>(*this); }
  constexpr const E& error() const& { return checked<1>(*this); }
  constexpr E&& error() && { return std::move(checked<1>(*this)); }

 protected:
  template <std::size_t side, typename... A>
  constexpr explicit result_base(std::in_place_index_t<side> which, A&&... made_of)
      : v_(which, std::forward<A>(made_of)...) {}

  template <std::size_t side, typename Self>
  static constexpr auto& checked(Self& self) {
    if (self.v_.index() != side) throw_bad_result_access(side == 0);
    return *std::get_if<side>(&self.v_);
  }

 private:
  std::variant<V, E> v_;
};

}  // namespace detail

template <typename T, typename E>
class [[nodiscard]] result : public detail::result_base<T, E> {
  static_assert(!detail::is_unexpected<std::remove_cv_t<T>>, "the value of a result cannot be an unexpected");
  using base = detail::result_base<T, E>;

 public:
  using value_type = T;
  using error_type = E;

  // As std::expected: a default-made result holds a value-initialized T.
  constexpr result()
    requires std::default_initializable<T>
      : base(std::in_place_index<0>) {}

  // The value, from anything T can be made of (explicit where T's own conversion is). A
  // result<bool> is not made from another result through its explicit operator bool.
  template <typename U = T>
    requires(!std::same_as<std::remove_cvref_t<U>, result> && !detail::is_unexpected<std::remove_cvref_t<U>> &&
             !(std::same_as<std::remove_cv_t<T>, bool> && detail::is_result<std::remove_cvref_t<U>>) &&
             std::constructible_from<T, U>)
  constexpr explicit(!std::convertible_to<U, T>) result(U&& value)
      : base(std::in_place_index<0>, std::forward<U>(value)) {}

  // The error (explicit where E's own conversion is, as for the value).
  template <typename G>
    requires std::constructible_from<E, G>
  constexpr explicit(!std::convertible_to<G, E>) result(unexpected<G> error)
      : base(std::in_place_index<1>, std::move(error).error()) {}

  constexpr T& value() & { return base::template checked<0>(*this); }
  constexpr const T& value() const& { return base::template checked<0>(*this); }
  constexpr T&& value() && { return std::move(base::template checked<0>(*this)); }

  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T&& operator*() && { return std::move(*this).value(); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }

  // As std::expected: equal to a value when it holds one equal to it; an error never is.
  // (Not a template over the other side, unlike std::expected's: a constraint naming an
  // arbitrary U is checked for every == that finds this friend, iterators' included, and
  // recurses.)
  friend constexpr bool operator==(const result& r, const T& value)
    requires std::equality_comparable<T>
  {
    return r.has_value() && *r == value;
  }
};

// A call that produces nothing but can fail: a default-made result<void, E> is success.
template <typename E>
class [[nodiscard]] result<void, E> : public detail::result_base<std::monostate, E> {
  using base = detail::result_base<std::monostate, E>;

 public:
  using value_type = void;
  using error_type = E;

  constexpr result() noexcept : base(std::in_place_index<0>) {}

  template <typename G>
    requires std::constructible_from<E, G>
  constexpr explicit(!std::convertible_to<G, E>) result(unexpected<G> error)
      : base(std::in_place_index<1>, std::move(error).error()) {}

  // Checks, as the value() of a result with a value does: throws when this holds an error.
  constexpr void value() const { (void)base::template checked<0>(*this); }
};

}  // namespace lug
