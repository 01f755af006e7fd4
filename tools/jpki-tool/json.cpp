// SPDX-License-Identifier: MIT
#include "json.h"

#include <stdexcept>

namespace jpki::tool {

std::string dumpJson(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::optional<Json> parseJson(std::string_view text, std::string* error) {
  constexpr int kMaxDepth = 200;
  const auto limitDepth = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxDepth) throw std::length_error("nesting too deep");
    return true;
  };
  try {
    return Json::parse(text, limitDepth);
  } catch (const Json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ...": the text after
    // the tag.
    const std::string what = e.what();
    const auto tagEnd = what.find("] ");
    *error = tagEnd == std::string::npos ? what : what.substr(tagEnd + 2);
  } catch (const std::length_error& e) {
    *error = e.what();
  }
  return std::nullopt;
}

}  // namespace jpki::tool
