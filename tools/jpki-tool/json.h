// SPDX-License-Identifier: MIT
// JSON for --json output and for editing JSON files (Firefox's policies.json): nlohmann's
// ordered_json, whose objects keep their insertion order. What is ours is the one output format
// and a parse that reports its error as text.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace jpki::tool {

using Json = nlohmann::ordered_json;

// Two-space indentation, or one line with indent -1; bytes that are not UTF-8 become U+FFFD
// (nlohmann would throw).
std::string dumpJson(const Json& j, int indent = 2);

// RFC 8259 text to a value; nullopt on a syntax error or on nesting deeper than 200 levels (the
// writer recurses), with the reason in `error`.
std::optional<Json> parseJson(std::string_view text, std::string* error);

}  // namespace jpki::tool
