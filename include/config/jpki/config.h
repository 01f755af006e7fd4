// SPDX-License-Identifier: MIT
// The module's typed configuration: a small "key = value" file whose path can be overridden by the
// JPKI_PKCS11_CONF environment variable, with [program NAME] sections for single programs, plus
// built-in settings for programs known to need them and a few environment overrides. Documented
// example: config/jpki-pkcs11.conf.example; manual: packaging/jpki-pkcs11.conf.5.
//
// Precedence, most specific first (each layer overrides the ones below it, key by key):
//   1. the environment (JPKI_PKCS11_TOKENS, JPKI_PKCS11_LOG_LEVEL, …)
//   2. the file's [program PATTERN] sections matching the running program, in file order
//   3. the built-in settings of that program (builtInProgramSettings())
//   4. the browser rule: a web browser gets browser-tokens as its tokens
//   5. the file's global settings (before any section, or after [global])
//   6. the defaults of struct Config
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jpki::config {

enum class Tokens { Both, AuthOnly, SignOnly };
enum class LogLevel { Off, Error, Warning, Info, Debug };

struct Config {
  // Shell-style glob patterns (fnmatch) on the PC/SC reader name; empty include = all readers.
  std::vector<std::string> readerInclude;
  std::vector<std::string> readerExclude;
  Tokens tokens = Tokens::Both;
  // What a web browser sees (see isBrowserProgram). A browser logs in to every token that needs a
  // login while it lists certificates, so with the signature token visible it would ask for the
  // signature password just to show the certificate chooser.
  Tokens browserTokens = Tokens::AuthOnly;
  bool signAlwaysAuthenticate = true;  // CKA_ALWAYS_AUTHENTICATE on the signature key
  LogLevel logLevel = LogLevel::Warning;
  std::string logFile;        // empty: standard error
  bool apduTrace = false;     // APDU trace into the log (PIN bytes never printed)
  std::string apduTraceFile;  // JPKI_APDU_TRACE (environment only): trace to this file or "stderr"
  // How long one exchange with the card (or the PC/SC service) may take before the call gives up
  // with a device error; 0 = wait forever. A card that never answers would otherwise hang the
  // calling application until the card is pulled.
  unsigned cardTimeoutSeconds = 15;
  // Public certificates (authentication certificate and both CA certificates, never the signature
  // certificate) kept on disk between processes, checked against the card before each use.
  bool certificateCache = true;
  // parse(): as written, empty when not set. load() fills in the default when it is still empty:
  // $XDG_CACHE_HOME/jpki-pkcs11 when XDG_CACHE_HOME is an absolute path, else
  // $HOME/.cache/jpki-pkcs11; it stays empty (no cache) when neither is known.
  std::string cacheDir;
};

inline constexpr unsigned kMaxCardTimeoutSeconds = 600;

// Settings that a program gets without any configuration because it cannot use the card with the
// global defaults (layer 3 above). The one table is builtInProgramSettings().
struct ProgramSettings {
  std::string_view pattern;   // fnmatch pattern on the program name, as in [program PATTERN]
  std::string_view settings;  // "key = value" lines, in the syntax of a [program] section
  std::string_view reason;    // why the program needs them, in a few words
};

struct LoadResult {
  Config config;
  std::vector<std::string> warnings;  // unknown keys, bad values (the default is kept for those)
  std::filesystem::path source;       // the file read, empty when none was found
  // The program is a web browser and JPKI_PKCS11_TOKENS is not set: its tokens come from
  // browser-tokens (or from a [program] section for it, see programRules).
  bool browser = false;
  std::string program;                    // the program name the settings were chosen for
  std::vector<std::string> programRules;  // the per-program layers applied, most general first
};

inline constexpr const char* kDefaultPath = "/etc/jpki-pkcs11/jpki-pkcs11.conf";
inline constexpr const char* kPathEnv = "JPKI_PKCS11_CONF";

// The settings that file text gives programName (layers 2 to 6 above; no environment). With an
// empty programName only the global settings apply. Every line is checked whichever program runs,
// so a mistake in any section is reported everywhere. Never throws on bad content: every problem
// becomes a warning naming the line.
LoadResult parse(std::string_view text, std::string_view programName = {});
// Reads $JPKI_PKCS11_CONF, else kDefaultPath (a missing default file is not a warning; a missing
// file named by the variable is), resolves it for the program (parse), then applies the
// environment overrides: JPKI_PKCS11_TOKENS, JPKI_PKCS11_LOG_LEVEL, JPKI_PKCS11_LOG_FILE,
// JPKI_PKCS11_CACHE_DIR, JPKI_APDU_TRACE, and the default cacheDir (XDG_CACHE_HOME, HOME).
LoadResult load();
LoadResult load(std::string_view programName);

// The built-in per-program settings (pdfsig: the signature token only, no per-signature login).
std::span<const ProgramSettings> builtInProgramSettings();
// Whether a [program PATTERN] section (or a built-in entry) applies to programName: a shell-style
// pattern (*, ?, [...]) matched against the whole name, ignoring case.
bool programMatches(std::string_view pattern, std::string_view programName);

// Web browsers by executable name (firefox, firefox-esr, chromium, chrome, msedge, brave, …).
// Mail clients are not browsers: they sign mail with the signature key.
bool isBrowserProgram(std::string_view programName);
// The basename of /proc/self/exe ("" when unknown).
std::string currentProgramName();

bool readerSelected(const Config& config, const std::string& readerName);
const char* name(Tokens tokens);
const char* name(LogLevel level);

}  // namespace jpki::config
