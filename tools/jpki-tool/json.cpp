#include "json.h"

#include <cstdio>

namespace jpki::tool {

Json& Json::set(const std::string& key, Json value) {
  if (!std::holds_alternative<Object>(v_)) v_ = Object{};
  auto& obj = std::get<Object>(v_);
  for (auto& [k, v] : obj) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  obj.emplace_back(key, std::move(value));
  return *this;
}

Json& Json::push(Json value) {
  if (!std::holds_alternative<Array>(v_)) v_ = Array{};
  std::get<Array>(v_).push_back(std::move(value));
  return *this;
}

const Json* Json::find(const std::string& key) const {
  if (const auto* obj = std::get_if<Object>(&v_)) {
    for (const auto& [k, v] : *obj) {
      if (k == key) return &v;
    }
  }
  return nullptr;
}

// RFC 8259 §7: quote, backslash and control characters escaped; UTF-8 passes through.
std::string jsonQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void Json::write(std::string& out, int indent, int depth) const {
  const auto newline = [&](int d) {
    if (indent > 0) {
      out += '\n';
      out.append(static_cast<std::size_t>(indent * d), ' ');
    }
  };
  if (std::holds_alternative<std::nullptr_t>(v_)) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&v_)) {
    out += *b ? "true" : "false";
  } else if (const long long* n = std::get_if<long long>(&v_)) {
    out += std::to_string(*n);
  } else if (const std::string* s = std::get_if<std::string>(&v_)) {
    out += jsonQuote(*s);
  } else if (const Array* a = std::get_if<Array>(&v_)) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i) out += ',';
      newline(depth + 1);
      (*a)[i].write(out, indent, depth + 1);
    }
    newline(depth);
    out += ']';
  } else {
    const Object& o = std::get<Object>(v_);
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    for (std::size_t i = 0; i < o.size(); ++i) {
      if (i) out += ',';
      newline(depth + 1);
      out += jsonQuote(o[i].first);
      out += indent > 0 ? ": " : ":";
      o[i].second.write(out, indent, depth + 1);
    }
    newline(depth);
    out += '}';
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  write(out, indent, 0);
  return out;
}

}  // namespace jpki::tool
