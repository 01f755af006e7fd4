// A small JSON value for --json output: objects keep their insertion order.
#pragma once

#include <cstdint>
#include <string>
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

  [[nodiscard]] std::string dump(int indent = 2) const;

 private:
  void write(std::string& out, int indent, int depth) const;
  std::variant<std::nullptr_t, bool, long long, std::string, Array, Object> v_{nullptr};
};

std::string jsonQuote(const std::string& s);

}  // namespace jpki::tool
