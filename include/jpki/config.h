// The module's typed configuration: a small "key = value" file whose path can be overridden by the
// JPKI_PKCS11_CONF environment variable, plus a few environment overrides. Documented example:
// config/jpki-pkcs11.conf.example.
#pragma once

#include <filesystem>
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
  bool signAlwaysAuthenticate = true;     // CKA_ALWAYS_AUTHENTICATE on the signature key
  LogLevel logLevel = LogLevel::Warning;
  std::string logFile;                    // empty: standard error
  bool apduTrace = false;                 // APDU trace into the log (PIN bytes never printed)
  // How long one exchange with the card (or the PC/SC service) may take before the call gives up
  // with a device error; 0 = wait forever. A card that never answers would otherwise hang the
  // calling application until the card is pulled.
  unsigned cardTimeoutSeconds = 15;
  // Public certificates (authentication certificate and both CA certificates, never the signature
  // certificate) kept on disk between processes, checked against the card before each use.
  bool certificateCache = true;
  std::string cacheDir;  // empty: $XDG_CACHE_HOME/jpki-pkcs11, else ~/.cache/jpki-pkcs11
};

inline constexpr unsigned kMaxCardTimeoutSeconds = 600;

struct LoadResult {
  Config config;
  std::vector<std::string> warnings;  // unknown keys, bad values (the default is kept for those)
  std::filesystem::path source;       // the file read, empty when none was found
  bool browser = false;               // the browser rule chose config.tokens
};

inline constexpr const char* kDefaultPath = "/etc/jpki-pkcs11/jpki-pkcs11.conf";
inline constexpr const char* kPathEnv = "JPKI_PKCS11_CONF";

// Parses file text. Never throws on bad content: every problem becomes a warning.
LoadResult parse(std::string_view text);
// Reads $JPKI_PKCS11_CONF, else kDefaultPath (a missing default file is not a warning; a missing
// file named by the variable is), then applies environment overrides:
// JPKI_PKCS11_TOKENS, JPKI_PKCS11_LOG_LEVEL, JPKI_PKCS11_LOG_FILE, JPKI_PKCS11_CACHE_DIR. In a web browser
// (isBrowserProgram of the running program) `tokens` becomes `browser-tokens`, unless
// JPKI_PKCS11_TOKENS names the tokens explicitly.
LoadResult load();
LoadResult load(std::string_view programName);

// Web browsers by executable name (firefox, firefox-esr, chromium, chrome, msedge, brave, …).
// Mail clients are not browsers: they sign mail with the signature key.
bool isBrowserProgram(std::string_view programName);
// The basename of /proc/self/exe ("" when unknown).
std::string currentProgramName();

bool readerSelected(const Config& config, const std::string& readerName);
const char* name(Tokens tokens);
const char* name(LogLevel level);

}  // namespace jpki::config
