// SPDX-License-Identifier: MIT
#include "args.h"

#include <getopt.h>

#include <algorithm>
#include <string_view>

#include "exit_codes.h"

namespace jpki::tool {

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

ParsedArgs parseArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec,
                     bool stopAtOperand) {
  // Long options are numbered from kLong up, so every code getopt_long returns names its spec.
  constexpr int kLong = 0x100;
  // '-' returns operands in order (as code 1) whatever POSIXLY_CORRECT says, '+' stops at the
  // first operand; ':' reports a missing value as ':' instead of printing.
  std::string shortOpts = stopAtOperand ? "+:" : "-:";
  std::vector<option> longOpts;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    const OptionSpec& o = spec[i];
    longOpts.push_back({o.name.c_str(), o.takesValue ? required_argument : no_argument, nullptr,
                        kLong + static_cast<int>(i)});
    if (o.shortName != 0) shortOpts += std::string(1, o.shortName) + (o.takesValue ? ":" : "");
  }
  longOpts.push_back({});
  std::vector<char*> argv{const_cast<char*>("jpki-tool")};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int argc = static_cast<int>(argv.size()) - 1;

  ParsedArgs parsed;
  optind = 0;  // glibc: start afresh
  opterr = 0;
  for (;;) {
    const int at = optind == 0 ? 1 : optind;  // the element a long option is read from
    const int c = getopt_long(argc, argv.data(), shortOpts.c_str(), longOpts.data(), nullptr);
    if (c == -1) break;
    if (c == 1) {
      parsed.positional.emplace_back(optarg);
      continue;
    }
    const int code = c == '?' || c == ':' ? optopt : c;  // the option concerned; 0: unknown long
    const OptionSpec* o = nullptr;
    std::string shown;
    if (code >= kLong) {
      o = &spec[static_cast<std::size_t>(code - kLong)];
      shown = "--" + o->name;
    } else if (code != 0) {
      shown = std::string{'-', static_cast<char>(code)};
      const auto it = std::find_if(spec.begin(), spec.end(),
                                   [&](const OptionSpec& s) { return s.shortName == code; });
      if (it != spec.end()) o = &*it;
    }
    if (code == 0 || code >= kLong) {
      // getopt_long also takes a prefix (--pin for --pin-env): only the whole name is accepted,
      // and an unknown option is shown as typed.
      const std::string_view typed(argv[static_cast<std::size_t>(at)]);
      if (typed.substr(0, typed.find('=')) != shown) {
        o = nullptr;
        shown = typed.substr(0, typed.find('='));
      }
    }
    if (o == nullptr) throw ToolError(Exit::Usage, "unknown option " + shown + " (see --help)");
    if (c == '?') throw ToolError(Exit::Usage, "option " + shown + " takes no value");
    if (c == ':') throw ToolError(Exit::Usage, "option " + shown + " needs a value");
    parsed.values[o->name].push_back(o->takesValue ? optarg : "");
  }
  parsed.positional.insert(parsed.positional.end(), args.begin() + (optind - 1), args.end());
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
