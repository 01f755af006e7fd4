// SPDX-License-Identifier: MIT
// The typed configuration: parsing of the "key = value" file with its [program NAME] sections, the
// per-program layers (browser rule, built-in program settings, sections), the environment
// overrides and the reader selection. Nothing here throws on bad content; every problem becomes a
// warning and the default is kept, because a typo in a configuration file must never make the
// module unloadable. The layers and their order are described in include/config/jpki/config.h.
#include "jpki/config.h"

#include <fnmatch.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <variant>

namespace jpki::config {
namespace {

constexpr std::string_view kSpaces = " \t\r\f\v";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kSpaces);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kSpaces);
  return s.substr(first, last - first + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// Drops a trailing comment: a '#' at the start of the value or preceded by white space. A '#'
// inside a word (e.g. a reader name glob "Reader#1") is kept.
std::string_view stripComment(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) return s.substr(0, i);
  }
  return s;
}

// The names of an enum's values, read by parsing (any case) and by name(); a value's first row
// is its name, later rows are accepted aliases.
template <typename E>
struct Named {
  E value;
  const char* name;
};
constexpr Named<Tokens> kTokens[] = {
    {Tokens::Both, "both"},
    {Tokens::AuthOnly, "auth-only"},
    {Tokens::SignOnly, "sign-only"},
};
constexpr Named<LogLevel> kLogLevels[] = {
    {LogLevel::Off, "off"},
    {LogLevel::Error, "error"},
    {LogLevel::Warning, "warning"},
    {LogLevel::Info, "info"},
    {LogLevel::Debug, "debug"},
    // aliases, accepted when parsing
    {LogLevel::Off, "none"},
    {LogLevel::Warning, "warn"},
};

template <typename E, std::size_t N>
std::optional<E> parseNamed(const Named<E> (&table)[N], std::string_view value) {
  const auto v = lower(value);
  for (const auto& row : table) {
    if (v == row.name) return row.value;
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
const char* nameOf(const Named<E> (&table)[N], E value) {
  for (const auto& row : table) {
    if (row.value == value) return row.name;
  }
  return "?";
}

std::optional<bool> parseBool(std::string_view value) {
  const auto v = lower(value);
  if (v == "yes" || v == "true" || v == "1" || v == "on") return true;
  if (v == "no" || v == "false" || v == "0" || v == "off") return false;
  return std::nullopt;
}

// Whole seconds 0..kMaxCardTimeoutSeconds, digits only ("15", not "15s" or "-1").
std::optional<unsigned> parseSeconds(std::string_view value) {
  if (value.empty() || value.size() > 3) return std::nullopt;
  unsigned n = 0;
  for (const char ch : value) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(ch - '0');
  }
  if (n > kMaxCardTimeoutSeconds) return std::nullopt;
  return n;
}

// Appends the comma-separated globs of one line; returns false when the value held no glob.
bool appendGlobs(std::string_view value, std::vector<std::string>& out) {
  bool any = false;
  while (true) {
    const auto comma = value.find(',');
    const auto item = trim(value.substr(0, comma));
    if (!item.empty()) {
      out.emplace_back(item);
      any = true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return any;
}

std::string lineWarning(std::size_t line, const std::string& what) {
  return "line " + std::to_string(line) + ": " + what;
}

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Applies one key/value pair; returns an empty string on success, else the problem.
std::string apply(Config& config, const std::string& key, std::string_view value) {
  if (key == "reader-include" || key == "reader-exclude") {
    auto& list = key == "reader-include" ? config.readerInclude : config.readerExclude;
    if (!appendGlobs(value, list)) return "empty value for " + key;
    return {};
  }
  if (key == "tokens" || key == "browser-tokens") {
    if (auto t = parseNamed(kTokens, value)) {
      (key == "tokens" ? config.tokens : config.browserTokens) = *t;
      return {};
    }
    return "bad value " + quote(value) + " for " + key + " (expected both, auth-only or sign-only)";
  }
  if (key == "sign-always-authenticate" || key == "apdu-trace" || key == "certificate-cache") {
    if (auto b = parseBool(value)) {
      (key == "apdu-trace"          ? config.apduTrace
       : key == "certificate-cache" ? config.certificateCache
                                    : config.signAlwaysAuthenticate) = *b;
      return {};
    }
    return "bad value " + quote(value) + " for " + key + " (expected yes or no)";
  }
  if (key == "log-level") {
    if (auto l = parseNamed(kLogLevels, value)) {
      config.logLevel = *l;
      return {};
    }
    return "bad value " + quote(value) +
           " for log-level (expected off, error, warning, info or debug)";
  }
  if (key == "card-timeout") {
    if (auto n = parseSeconds(value)) {
      config.cardTimeoutSeconds = *n;
      return {};
    }
    return "bad value " + quote(value) + " for card-timeout (expected whole seconds, 0 to " +
           std::to_string(kMaxCardTimeoutSeconds) + ")";
  }
  if (key == "cache-dir") {
    config.cacheDir = std::string(value);  // empty: the default location
    return {};
  }
  if (key == "log-file") {
    config.logFile = std::string(value);  // empty: standard error
    return {};
  }
  return "unknown key " + quote(key);
}

const char* envValue(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// The XDG base directory rule: $XDG_CACHE_HOME only when absolute, else $HOME/.cache.
std::string defaultCacheDir() {
  if (const char* xdg = envValue("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/jpki-pkcs11";
  }
  if (const char* home = envValue("HOME"); home != nullptr && home[0] == '/') {
    return std::string(home) + "/.cache/jpki-pkcs11";
  }
  return {};
}

// Applies the environment overrides (layer 1); an explicit JPKI_PKCS11_TOKENS also overrides the
// browser rule.
void applyEnvironment(LoadResult& result) {
  if (const char* v = envValue("JPKI_PKCS11_TOKENS")) {
    if (auto t = parseNamed(kTokens, trim(v))) {
      result.config.tokens = *t;
      result.browser = false;
    } else {
      result.warnings.push_back("JPKI_PKCS11_TOKENS: bad value " + quote(v) +
                                " (expected both, auth-only or sign-only)");
    }
  }
  if (const char* v = envValue("JPKI_PKCS11_LOG_LEVEL")) {
    if (auto l = parseNamed(kLogLevels, trim(v))) {
      result.config.logLevel = *l;
    } else {
      result.warnings.push_back("JPKI_PKCS11_LOG_LEVEL: bad value " + quote(v) +
                                " (expected off, error, warning, info or debug)");
    }
  }
  if (const char* v = envValue("JPKI_PKCS11_LOG_FILE")) result.config.logFile = v;
  if (const char* v = envValue("JPKI_PKCS11_CACHE_DIR")) result.config.cacheDir = v;
  if (const char* v = envValue("JPKI_APDU_TRACE")) result.config.apduTraceFile = v;
  if (result.config.cacheDir.empty()) result.config.cacheDir = defaultCacheDir();
}

// Calls fn(lineNumber, line) for every line of text that is not blank or a comment, trimmed.
template <typename Fn>
void forEachLine(std::string_view text, Fn&& fn) {
  std::size_t lineNo = 0;
  while (!text.empty()) {
    ++lineNo;
    const auto eol = text.find('\n');
    const std::string_view raw = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    const auto line = trim(raw);
    if (!line.empty() && line.front() != '#') fn(lineNo, line);
  }
}

struct Setting {
  std::string key;
  std::string value;
};

// Splits "key = value" (key lower-cased, trailing comment dropped); the problem when malformed.
std::variant<Setting, std::string> splitSetting(std::string_view line) {
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) return "expected 'key = value', got " + quote(line);
  auto key = lower(trim(line.substr(0, eq)));
  if (key.empty()) return std::string("missing key before '='");
  return Setting{std::move(key), std::string(trim(stripComment(line.substr(eq + 1))))};
}

// Keys that describe the machine rather than a program: not allowed in a [program] section.
bool globalOnly(const std::string& key) {
  return key == "reader-include" || key == "reader-exclude" || key == "browser-tokens";
}

// A [program PATTERN] section of the file: its checked settings, applied if the pattern matches.
struct Section {
  std::string pattern;
  std::size_t line = 0;
  std::vector<Setting> settings;
};

enum class Target { Global, Program, Ignored };

// A line starting with '[': "[program PATTERN]" or "[global]". Returns where the following lines
// go; a malformed or unknown header ignores them (rather than applying them to every program).
Target readHeader(std::string_view line, std::size_t lineNo, std::vector<Section>& sections,
                  std::vector<std::string>& warnings) {
  const auto warn = [&](const std::string& what) {
    warnings.push_back(
        lineWarning(lineNo, what + "; the settings up to the next section are ignored"));
    return Target::Ignored;
  };
  line = trim(stripComment(line));
  if (line.size() < 2 || line.back() != ']') {
    return warn("expected '[program NAME]' or '[global]', got " + quote(line));
  }
  const auto inner = trim(line.substr(1, line.size() - 2));
  const auto space = inner.find_first_of(kSpaces);
  const auto word = lower(inner.substr(0, space));
  const auto pattern =
      space == std::string_view::npos ? std::string_view{} : trim(inner.substr(space));
  if (word == "global" && pattern.empty()) return Target::Global;
  if (word != "program") {
    return warn("unknown section " + quote(line) + " (expected '[program NAME]' or '[global]')");
  }
  if (pattern.empty()) return warn("'[program]' without a program name");
  if (pattern.find('/') != std::string_view::npos) {
    return warn("a program is named without its directory ('pdfsig', not '/usr/bin/pdfsig'), got " +
                quote(pattern));
  }
  sections.push_back(Section{std::string(pattern), lineNo, {}});
  return Target::Program;
}

// Applies settings text in the file's syntax (the built-in table); problems become warnings.
void applyText(Config& config, std::string_view text, const std::string& where,
               std::vector<std::string>& warnings) {
  forEachLine(text, [&](std::size_t, std::string_view line) {
    auto split = splitSetting(line);
    std::string problem;
    if (auto* setting = std::get_if<Setting>(&split)) {
      problem = apply(config, setting->key, setting->value);
    } else {
      problem = std::get<std::string>(split);
    }
    if (!problem.empty()) warnings.push_back(where + ": " + problem + "; ignored");
  });
}

}  // namespace

LoadResult parse(std::string_view text, std::string_view programName) {
  LoadResult result;
  result.program = std::string(programName);
  std::vector<Section> sections;
  Target target = Target::Global;
  forEachLine(text, [&](std::size_t lineNo, std::string_view line) {
    if (line.front() == '[') {
      target = readHeader(line, lineNo, sections, result.warnings);
      return;
    }
    auto split = splitSetting(line);
    if (auto* problem = std::get_if<std::string>(&split)) {
      result.warnings.push_back(lineWarning(lineNo, *problem));
      return;
    }
    auto& setting = std::get<Setting>(split);
    if (target == Target::Ignored) return;
    if (target == Target::Program && globalOnly(setting.key)) {
      result.warnings.push_back(lineWarning(
          lineNo, quote(setting.key) + " is a global setting, not allowed in " +
                      quote("[program " + sections.back().pattern + "]") + "; ignored"));
      return;
    }
    // Global lines apply at once (layer 5); section lines are checked on a scratch copy now, so
    // that a mistake is reported whichever program runs, and applied later if they match.
    Config scratch;
    Config& into = target == Target::Global ? result.config : scratch;
    if (auto problem = apply(into, setting.key, setting.value); !problem.empty()) {
      result.warnings.push_back(lineWarning(lineNo, problem + "; ignored"));
      return;
    }
    if (target == Target::Program) sections.back().settings.push_back(std::move(setting));
  });

  if (programName.empty()) return result;
  // Layer 4: the browser rule.
  if (isBrowserProgram(programName)) {
    result.config.tokens = result.config.browserTokens;
    result.browser = true;
    result.programRules.push_back("browser-tokens (a web browser)");
  }
  // Layer 3: the built-in settings of the program.
  for (const auto& entry : builtInProgramSettings()) {
    if (!programMatches(entry.pattern, programName)) continue;
    const std::string where = "built-in settings for " + std::string(entry.pattern);
    applyText(result.config, entry.settings, where, result.warnings);
    result.programRules.push_back(where);
  }
  // Layer 2: the file's sections for the program, in file order.
  for (const auto& section : sections) {
    if (!programMatches(section.pattern, programName)) continue;
    for (const auto& setting : section.settings) apply(result.config, setting.key, setting.value);
    result.programRules.push_back(quote("[program " + section.pattern + "]") + " at line " +
                                  std::to_string(section.line));
  }
  return result;
}

LoadResult load() { return load(currentProgramName()); }

LoadResult load(std::string_view programName) {
  const char* named = envValue(kPathEnv);
  const std::filesystem::path path = named != nullptr ? named : kDefaultPath;

  LoadResult result;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  const auto cannotRead = [&](const std::string& why) {
    result.warnings.push_back(path.string() + ": cannot read: " + why + "; using defaults");
  };
  if (!exists) {
    // A missing default file is normal (no configuration); a missing named file is a mistake.
    if (named != nullptr) cannotRead("no such file");
  } else if (std::filesystem::is_directory(path, ec)) {
    cannotRead("is a directory");
  } else if (std::ifstream in(path, std::ios::binary); !in) {
    const int err = errno;
    cannotRead(err != 0 ? std::strerror(err) : "open failed");
  } else {
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
      cannotRead("read error");
    } else {
      result = parse(text.str(), programName);
      for (auto& w : result.warnings) w.insert(0, ": ").insert(0, path.string());
      result.source = path;
    }
  }
  if (result.source.empty()) {
    // No file: the per-program layers still apply, with the problems found so far kept.
    auto warnings = std::move(result.warnings);
    result = parse({}, programName);
    result.warnings.insert(result.warnings.begin(), warnings.begin(), warnings.end());
  }
  applyEnvironment(result);
  return result;
}

bool programMatches(std::string_view pattern, std::string_view programName) {
  if (pattern.empty() || programName.empty()) return false;
  const std::string p(pattern);
  const std::string n(programName);
  return ::fnmatch(p.c_str(), n.c_str(), FNM_CASEFOLD) == 0;
}

bool isBrowserProgram(std::string_view programName) {
  // Prefixes cover the variants (firefox-esr, firefox-bin, chromium-browser, chrome_crashpad…).
  static constexpr std::string_view kBrowsers[] = {
      "firefox", "chrome", "chromium",  "google-chrome", "msedge", "microsoft-edge", "brave",
      "vivaldi", "opera",  "librewolf", "waterfox",      "floorp", "epiphany"};
  const auto name = lower(programName);
  return std::any_of(std::begin(kBrowsers), std::end(kBrowsers),
                     [&](std::string_view b) { return name.rfind(b, 0) == 0; });
}

std::string currentProgramName() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.filename().string();
}

bool readerSelected(const Config& config, const std::string& readerName) {
  const auto matches = [&](const std::string& glob) {
    return ::fnmatch(glob.c_str(), readerName.c_str(), 0) == 0;
  };
  if (std::any_of(config.readerExclude.begin(), config.readerExclude.end(), matches)) return false;
  return config.readerInclude.empty() ||
         std::any_of(config.readerInclude.begin(), config.readerInclude.end(), matches);
}

const char* name(Tokens tokens) { return nameOf(kTokens, tokens); }
const char* name(LogLevel level) { return nameOf(kLogLevels, level); }

}  // namespace jpki::config
