// A small JSON value for --json output and for editing JSON files (Firefox's policies.json):
// objects keep their insertion order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace jpki::tool {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : v_(b) {}
  Json(int n) : v_(static_cast<long long>(n)) {}
  Json(long n) : v_(static_cast<long long>(n)) {}
  Json(long long n) : v_(n) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}

  static Json object() {
    Json j;
    j.v_ = Object{};
    return j;
  }
  static Json array() {
    Json j;
    j.v_ = Array{};
    return j;
  }

  // Object: adds or replaces `key`. Array: appends. Both return *this for chaining.
  Json& set(const std::string& key, Json value);
  Json& push(Json value);
  // Object member (null when absent or not an object).
  [[nodiscard]] const Json* find(const std::string& key) const;
  [[nodiscard]] Json* find(const std::string& key);
  // Object: removes `key`; false when it was not there.
  bool erase(const std::string& key);
  [[nodiscard]] bool isObject() const { return std::holds_alternative<Object>(v_); }
  [[nodiscard]] const std::string* str() const { return std::get_if<std::string>(&v_); }
  // Member names of an object, in order (empty for anything else).
  [[nodiscard]] std::vector<std::string> keys() const;
  // Members of an object or elements of an array; 0 for anything else.
  [[nodiscard]] std::size_t size() const;

  // RFC 8259 text to a value; nullopt on a syntax error (`error`, when given, says where).
  // Numbers that are not integers keep their text.
  static std::optional<Json> parse(std::string_view text, std::string* error = nullptr);

  [[nodiscard]] std::string dump(int indent = 2) const;

 private:
  struct Number {  // a number read from text that is not a long long (1.5, 1e3, ...)
    std::string text;
  };
  friend class JsonParser;
  void write(std::string& out, int indent, int depth) const;
  std::variant<std::nullptr_t, bool, long long, std::string, Array, Object, Number> v_{nullptr};
};

std::string jsonQuote(const std::string& s);

}  // namespace jpki::tool
