#include "args.h"

#include "exit_codes.h"

namespace jpki::tool {

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

namespace {
const OptionSpec* findLong(const std::vector<OptionSpec>& spec, const std::string& name) {
  for (const auto& o : spec) {
    if (o.name == name) return &o;
  }
  return nullptr;
}
const OptionSpec* findShort(const std::vector<OptionSpec>& spec, char c) {
  for (const auto& o : spec) {
    if (o.shortName == c) return &o;
  }
  return nullptr;
}
}  // namespace

ParsedArgs parseArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec) {
  ParsedArgs parsed;
  bool optionsEnded = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (optionsEnded || a.size() < 2 || a[0] != '-') {
      parsed.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      optionsEnded = true;
      continue;
    }
    const OptionSpec* o = nullptr;
    std::optional<std::string> inlineValue;
    std::string shown = a;
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inlineValue = name.substr(eq + 1);
        name.resize(eq);
        shown = "--" + name;
      }
      o = findLong(spec, name);
    } else if (a.size() == 2) {
      o = findShort(spec, a[1]);
    }
    if (o == nullptr) throw ToolError(Exit::Usage, "unknown option " + shown + " (see --help)");
    if (!o->takesValue) {
      if (inlineValue) throw ToolError(Exit::Usage, "option " + shown + " takes no value");
      parsed.values[o->name].push_back("");
      continue;
    }
    if (!inlineValue) {
      if (i + 1 >= args.size()) throw ToolError(Exit::Usage, "option " + shown + " needs a value");
      inlineValue = args[++i];
    }
    parsed.values[o->name].push_back(*inlineValue);
  }
  return parsed;
}

const std::vector<OptionSpec>& commonOptions() {
  static const std::vector<OptionSpec> common = {
      {"help", 'h', false}, {"json", 0, false}, {"reader", 'r', true}, {"pin-env", 0, true}};
  return common;
}

std::vector<OptionSpec> withCommon(std::vector<OptionSpec> own) {
  own.insert(own.end(), commonOptions().begin(), commonOptions().end());
  return own;
}

Context contextFrom(const ParsedArgs& parsed, Context base) {
  if (parsed.has("json")) base.json = true;
  if (auto r = parsed.get("reader")) base.reader = *r;
  if (auto p = parsed.get("pin-env")) {
    if (p->empty()) throw ToolError(Exit::Usage, "--pin-env needs the name of a variable");
    base.pinEnv = *p;
  }
  return base;
}

}  // namespace jpki::tool
