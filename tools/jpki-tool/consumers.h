// The PKCS#11 consumers the tool knows (clients-and-peers.md §3.5, §4): p11-kit module configs,
// the user's NSS database (Chromium/Chrome), Firefox profiles and Firefox policies; where the
// module is installed; and running modutil/certutil.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace jpki::tool {

namespace fs = std::filesystem;

inline constexpr const char* kNssModuleName = "JPKI (My Number Card)";

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
// /etc/firefox/policies/policies.json (and the distribution copy) naming the module, if any.
std::optional<fs::path> firefoxPolicyRegistration();

// The module's `tokens` setting as the browsers will see it: from $JPKI_PKCS11_TOKENS, the file in
// $JPKI_PKCS11_CONF or /etc/jpki-pkcs11/jpki-pkcs11.conf; "both" when unset.
std::string effectiveTokens(std::string* source);

struct CommandResult {
  int status = -1;  // exit status, or -1 when it could not run
  std::string output;
};
CommandResult runCommand(const std::vector<std::string>& argv);
bool haveProgram(const std::string& name);

}  // namespace jpki::tool
