// SPDX-License-Identifier: MIT
#include "consumers.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "util.h"

extern char** environ;

namespace jpki::tool {

namespace {

fs::path xdg(const char* var, const char* fallback) {
  if (const char* v = std::getenv(var); v != nullptr && *v == '/') return v;
  return homeDir() / fallback;
}

bool pathExists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

}  // namespace

bool namesOurModule(const std::string& value) {
  return value.find("libjpki-pkcs11") != std::string::npos;
}

std::string findModule(const std::optional<std::string>& explicitPath) {
  if (explicitPath) return pathExists(*explicitPath) ? fs::absolute(*explicitPath).string() : "";
  for (const char* candidate : {
#ifdef JPKI_TOOL_INSTALLED_MODULE
           JPKI_TOOL_INSTALLED_MODULE,
#endif
           "/usr/local/lib/pkcs11/libjpki-pkcs11.so",
#ifdef JPKI_TOOL_BUILD_MODULE
           JPKI_TOOL_BUILD_MODULE,
#endif
       }) {
    if (pathExists(candidate)) return candidate;
  }
  return "";
}

std::vector<fs::path> p11kitConfigDirs() {
  return {"/usr/share/p11-kit/modules", "/etc/pkcs11/modules", userP11kitDir()};
}

fs::path userP11kitDir() { return xdg("XDG_CONFIG_HOME", ".config") / "pkcs11" / "modules"; }
fs::path userP11kitFile() { return userP11kitDir() / "jpki.module"; }

std::vector<fs::path> p11kitRegistrations() {
  std::vector<fs::path> found;
  for (const fs::path& dir : p11kitConfigDirs()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".module") continue;
      const auto text = readTextIfExists(entry.path());
      if (!text) continue;
      std::istringstream in(*text);
      for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.rfind("module:", 0) == 0 && namesOurModule(line)) {
          found.push_back(entry.path());
          break;
        }
      }
    }
  }
  return found;
}

fs::path chromiumNssDb() {
  fs::path legacy = homeDir() / ".pki" / "nssdb";
  if (pathExists(homeDir() / ".pki")) return legacy;
  const fs::path modern = xdg("XDG_DATA_HOME", ".local/share") / "pki" / "nssdb";
  return pathExists(modern) ? modern : legacy;
}

std::vector<fs::path> firefoxProfiles() {
  std::vector<fs::path> profiles;
  const fs::path home = homeDir();
  for (const fs::path& base :
       {home / ".mozilla" / "firefox",
        home / "snap" / "firefox" / "common" / ".mozilla" / "firefox",
        home / ".var" / "app" / "org.mozilla.firefox" / ".mozilla" / "firefox"}) {
    const auto ini = readTextIfExists(base / "profiles.ini");
    if (!ini) continue;
    std::istringstream in(*ini);
    std::string path;
    bool relative = true;
    const auto flush = [&] {
      if (!path.empty()) {
        const fs::path p = relative ? base / path : fs::path(path);
        if (pathExists(p) && std::find(profiles.begin(), profiles.end(), p) == profiles.end()) {
          profiles.push_back(p);
        }
      }
      path.clear();
      relative = true;
    };
    for (std::string line; std::getline(in, line);) {
      line = trim(line);
      if (!line.empty() && line[0] == '[') flush();
      if (line.rfind("Path=", 0) == 0) path = line.substr(5);
      if (line.rfind("IsRelative=", 0) == 0) relative = line.substr(11) != "0";
    }
    flush();
  }
  return profiles;
}

std::vector<std::string> nssModuleNames(const fs::path& db) {
  std::vector<std::string> names;
  const auto text = readTextIfExists(db / "pkcs11.txt");
  if (!text) return names;
  // Blocks of "key=value" lines separated by blank lines; name= may be quoted.
  std::istringstream in(*text + "\n\n");
  std::string name;
  bool ours = false;
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (line.empty()) {
      if (ours) names.push_back(name);
      name.clear();
      ours = false;
    } else if (line.rfind("library=", 0) == 0) {
      ours = namesOurModule(line);
    } else if (line.rfind("name=", 0) == 0) {
      name = line.substr(5);
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
        name = name.substr(1, name.size() - 2);
      }
    }
  }
  return names;
}

std::optional<fs::path> firefoxPolicyRegistration() {
  for (const fs::path& p :
       {fs::path(kFirefoxPolicyFile), fs::path("/usr/lib/firefox/distribution/policies.json"),
        fs::path("/usr/lib/firefox-esr/distribution/policies.json")}) {
    const auto text = readTextIfExists(p);
    if (text && text->find("SecurityDevices") != std::string::npos && namesOurModule(*text)) {
      return p;
    }
  }
  return std::nullopt;
}

BrowserTokens browserTokens() {
  const config::LoadResult r = config::load("firefox");
  BrowserTokens b;
  b.tokens = r.config.tokens;
  b.warnings = r.warnings;
  if (!r.browser) {
    b.setBy = "JPKI_PKCS11_TOKENS";  // an explicit JPKI_PKCS11_TOKENS wins over the browser rule
  } else {
    b.setBy = r.source.empty() ? "default" : r.source.string();
  }
  return b;
}

std::string BrowserTokens::describe() const {
  const std::string value = config::name(tokens);
  const std::string why =
      setBy == "JPKI_PKCS11_TOKENS" ? " (JPKI_PKCS11_TOKENS=" + value + " in this environment)"
      : setBy == "default"          ? " (browser-tokens = " + value + ", the default)"
                                    : " (browser-tokens = " + value + ", read from " + setBy + ")";
  switch (tokens) {
    case config::Tokens::AuthOnly:
      return "web browsers see the authentication token only" + why +
             ": they never ask for the signature password";
    case config::Tokens::Both:
      return "web browsers also see the signature token" + why +
             ": they ask for the signature password just to list certificates";
    case config::Tokens::SignOnly:
      return "web browsers see the signature token only" + why +
             ": logging in to web sites with the card will not work";
  }
  return "";
}

CommandResult runCommand(const std::vector<std::string>& argv) {
  CommandResult result;
  char tmpl[] = "/tmp/jpki-tool-cmd.XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return result;
  unlink(tmpl);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fd, 1);
  posix_spawn_file_actions_adddup2(&actions, fd, 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
      result.output.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return result;
}

bool haveProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream in(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(in, dir, ':');) {
    if (!dir.empty() && access((fs::path(dir) / name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace jpki::tool
