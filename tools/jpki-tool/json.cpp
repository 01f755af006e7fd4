#include "json.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

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

Json* Json::find(const std::string& key) {
  return const_cast<Json*>(static_cast<const Json*>(this)->find(key));
}

bool Json::erase(const std::string& key) {
  auto* obj = std::get_if<Object>(&v_);
  if (obj == nullptr) return false;
  for (auto it = obj->begin(); it != obj->end(); ++it) {
    if (it->first == key) {
      obj->erase(it);
      return true;
    }
  }
  return false;
}

std::vector<std::string> Json::keys() const {
  std::vector<std::string> names;
  if (const auto* obj = std::get_if<Object>(&v_)) {
    for (const auto& member : *obj) names.push_back(member.first);
  }
  return names;
}

std::size_t Json::size() const {
  if (const auto* obj = std::get_if<Object>(&v_)) return obj->size();
  if (const auto* arr = std::get_if<Array>(&v_)) return arr->size();
  return 0;
}

// Recursive descent over RFC 8259 text (nesting limited, so hostile input cannot exhaust the
// stack).
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  std::optional<Json> document(std::string* error) {
    std::optional<Json> v = value(0);
    skipSpace();
    if (v && pos_ != s_.size()) v = fail("unexpected text after the value");
    if (!v && error != nullptr) *error = error_;
    return v;
  }

 private:
  static constexpr int kMaxDepth = 200;

  std::nullopt_t fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(pos_);
    return std::nullopt;
  }
  void skipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::optional<Json> value(int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    skipSpace();
    if (pos_ >= s_.size()) return fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      auto str = string();
      if (!str) return std::nullopt;
      return Json(std::move(*str));
    }
    if (literal("true")) return Json(true);
    if (literal("false")) return Json(false);
    if (literal("null")) return Json(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    return fail("unexpected character");
  }

  std::optional<Json> object(int depth) {
    ++pos_;
    Json obj = Json::object();
    if (eat('}')) return obj;
    do {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
      auto key = string();
      if (!key) return std::nullopt;
      if (!eat(':')) return fail("expected ':'");
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      obj.set(*key, std::move(*v));
    } while (eat(','));
    if (!eat('}')) return fail("expected ',' or '}'");
    return obj;
  }

  std::optional<Json> array(int depth) {
    ++pos_;
    Json arr = Json::array();
    if (eat(']')) return arr;
    do {
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      arr.push(std::move(*v));
    } while (eat(','));
    if (!eat(']')) return fail("expected ',' or ']'");
    return arr;
  }

  std::optional<Json> number() {
    const std::size_t start = pos_;
    const auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    if (s_[pos_] == '-') ++pos_;
    if (!digits()) return fail("bad number");
    bool integer = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      integer = false;
      if (!digits()) return fail("bad number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      integer = false;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("bad number");
    }
    const std::string text(s_.substr(start, pos_ - start));
    Json j;
    if (integer) {
      errno = 0;
      char* end = nullptr;
      const long long n = std::strtoll(text.c_str(), &end, 10);
      if (errno == 0 && end != nullptr && *end == '\0') return Json(n);
    }
    j.v_ = Json::Number{text};
    return j;
  }

  static void appendUtf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::optional<unsigned long> hex4() {
    if (pos_ + 4 > s_.size()) return std::nullopt;
    unsigned long v = 0;
    for (const char c : s_.substr(pos_, 4)) {
      const int d = (c >= '0' && c <= '9')   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned long>(d);
    }
    pos_ += 4;
    return v;
  }

  std::optional<std::string> string() {
    ++pos_;  // the opening quote
    std::string out;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) break;
      switch (const char e = s_[pos_++]; e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          auto cp = hex4();
          if (!cp) return fail("bad \\u escape");
          if (*cp >= 0xD800 && *cp < 0xDC00 && literal("\\u")) {
            auto low = hex4();
            if (!low || *low < 0xDC00 || *low >= 0xE000) return fail("bad surrogate pair");
            cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
          }
          appendUtf8(out, *cp);
          break;
        }
        default:
          return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string error_;
};

std::optional<Json> Json::parse(std::string_view text, std::string* error) {
  return JsonParser(text).document(error);
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
  } else if (const Number* num = std::get_if<Number>(&v_)) {
    out += num->text;
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
