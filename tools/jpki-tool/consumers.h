// SPDX-License-Identifier: MIT
// The PKCS#11 consumers the tool knows (clients-and-peers.md §3.5, §4): p11-kit module configs,
// the user's NSS database (Chromium/Chrome), Firefox profiles and Firefox policies; where the
// module is installed; what browsers see of the card; and running modutil/certutil.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jpki/config.h"

namespace jpki::tool {

namespace fs = std::filesystem;

inline constexpr const char* kNssModuleName = "JPKI (My Number Card)";

// A path or config line that names libjpki-pkcs11 (whatever its directory).
bool namesOurModule(const std::string& value);

// --module, else the installed module, else the build tree's; empty when none exists.
std::string findModule(const std::optional<std::string>& explicitPath);

// p11-kit: module config directories (system, admin, user) and the user file we write.
std::vector<fs::path> p11kitConfigDirs();
fs::path userP11kitDir();
fs::path userP11kitFile();  // <user dir>/jpki.module
// Config files (*.module) whose module: line names libjpki-pkcs11.
std::vector<fs::path> p11kitRegistrations();

// NSS databases: Chromium's user database (~/.pki/nssdb, or the XDG location Chrome M146+ uses
// when ~/.pki is missing) and every Firefox profile (profiles.ini, also the snap/flatpak homes).
fs::path chromiumNssDb();
std::vector<fs::path> firefoxProfiles();
// Names of the modules in `db`'s pkcs11.txt whose library is libjpki-pkcs11 (empty: none).
std::vector<std::string> nssModuleNames(const fs::path& db);
// The system-wide Firefox policy file `register --firefox-policy` edits (it wins over the copy
// in Firefox's installation directory).
inline constexpr const char* kFirefoxPolicyFile = "/etc/firefox/policies/policies.json";
// kFirefoxPolicyFile (and the distribution copies) naming the module, if any.
std::optional<fs::path> firefoxPolicyRegistration();

// What a web browser sees of the card, by the module's own rules (jpki::config::load as Firefox
// would run it: `browser-tokens`, unless JPKI_PKCS11_TOKENS is set in this environment).
struct BrowserTokens {
  config::Tokens tokens = config::Tokens::AuthOnly;
  std::string setBy;                  // "JPKI_PKCS11_TOKENS", the configuration file, or "default"
  std::vector<std::string> warnings;  // problems in the configuration file
  // One sentence for register and doctor: which tokens browsers see and why.
  [[nodiscard]] std::string describe() const;
  [[nodiscard]] bool signVisible() const { return tokens != config::Tokens::AuthOnly; }
};
BrowserTokens browserTokens();

struct CommandResult {
  int status = -1;  // exit status, or -1 when it could not run
  std::string output;
};
CommandResult runCommand(const std::vector<std::string>& argv);
bool haveProgram(const std::string& name);

}  // namespace jpki::tool
