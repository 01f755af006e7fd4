// SPDX-License-Identifier: MIT
// `jpki-tool register` / `unregister`: the module in p11-kit's user config, in the user's NSS
// database (Chromium, Chrome), in Firefox profiles, in any NSS database, and in the system-wide
// Firefox enterprise policy (clients-and-peers.md §3.5, §4). The package's only registration
// tool: packaging/BROWSERS.md documents it.
#include <unistd.h>

#include <fstream>
#include <ostream>

#include "commands.h"
#include "consumers.h"
#include "json.h"
#include "util.h"

namespace jpki::tool {

namespace {

constexpr const char* kRegisterUsage =
    "Usage: jpki-tool register [--p11-kit] [--nss] [--firefox] [--firefox-policy]\n"
    "                          [--nssdb DIR]... [--module PATH] [--force]\n"
    "\n"
    "Registers the PKCS#11 module. Without a target option: --p11-kit, --nss and --firefox (the\n"
    "current user, no root needed).\n"
    "  --p11-kit   writes ~/.config/pkcs11/modules/jpki.module (p11-kit consumers: GnuTLS,\n"
    "              p11tool, OpenSSL through p11-kit-proxy, ...); skipped when a system-wide\n"
    "              p11-kit config already names the module (unless --force)\n"
    "  --nss       adds it to ~/.pki/nssdb (Chromium, Chrome) with modutil, creating the database\n"
    "              (empty password) with certutil when needed\n"
    "  --firefox   adds it to every Firefox profile with modutil (close Firefox first)\n"
    "  --firefox-policy  adds it to the Firefox enterprise policy\n"
    "              /etc/firefox/policies/policies.json (SecurityDevices; every user and profile;\n"
    "              merged with what the file holds; needs root)\n"
    "  --nssdb DIR adds it to the NSS database in DIR, creating the database when needed\n"
    "  --module PATH  the module to register (default: the installed libjpki-pkcs11.so)\n"
    "\n"
    "Web browsers (Firefox, Chromium, Chrome, ...) see only the card's authentication token, so\n"
    "they never ask for the signature password; other programs see both tokens. The module\n"
    "decides this by itself: the setting is `browser-tokens` in /etc/jpki-pkcs11/jpki-pkcs11.conf\n"
    "(default auth-only; see jpki-pkcs11.conf(5)). modutil and certutil come with the package\n"
    "libnss3-tools.\n";

constexpr const char* kUnregisterUsage =
    "Usage: jpki-tool unregister [--p11-kit] [--nss] [--firefox] [--firefox-policy]\n"
    "                            [--nssdb DIR]...\n"
    "\n"
    "Removes what `jpki-tool register` added, with the same target options: the p11-kit user\n"
    "config file, the module in the user's NSS database, in every Firefox profile (close Firefox\n"
    "first), in the NSS database DIR, and its entry in the Firefox policy file (root). Without a\n"
    "target option: --p11-kit, --nss and --firefox. Other system-wide configuration (files under\n"
    "/usr/share/p11-kit, /etc/pkcs11) is reported, not changed.\n";

// The target options, shared by register and unregister.
std::vector<OptionSpec> targetOptions() {
  return {{"p11-kit", 0, false},
          {"nss", 0, false},
          {"firefox", 0, false},
          {"firefox-policy", 0, false},
          {"nssdb", 0, true}};
}

struct Targets {
  bool p11kit = false, nss = false, firefox = false, firefoxPolicy = false;
  std::vector<std::string> nssdbs;

  [[nodiscard]] bool browsers() const { return nss || firefox || firefoxPolicy || !nssdbs.empty(); }
  [[nodiscard]] bool nssTools() const { return nss || firefox || !nssdbs.empty(); }
};

Targets targetsOf(const ParsedArgs& p, const char* command) {
  if (!p.positional.empty()) {
    throw ToolError(Exit::Usage, std::string(command) + " takes no positional arguments");
  }
  Targets t{p.has("p11-kit"), p.has("nss"), p.has("firefox"), p.has("firefox-policy"), {}};
  if (auto it = p.values.find("nssdb"); it != p.values.end()) {
    for (const auto& dir : it->second) {
      if (dir.empty()) throw ToolError(Exit::Usage, "--nssdb needs a directory");
      t.nssdbs.push_back(fs::absolute(dir).string());
    }
  }
  if (!t.p11kit && !t.nss && !t.firefox && !t.firefoxPolicy && t.nssdbs.empty()) {
    t.p11kit = t.nss = t.firefox = true;
  }
  // Checked before anything is changed, so a plain user gets the error, not half a registration.
  if (t.firefoxPolicy && geteuid() != 0) {
    throw ToolError(Exit::Error, std::string("--firefox-policy edits ") + kFirefoxPolicyFile +
                                     " for every user: run it as root (sudo jpki-tool " + command +
                                     " --firefox-policy)");
  }
  if (t.nssTools() && (!haveProgram("modutil") || !haveProgram("certutil"))) {
    throw ToolError(Exit::Error, "modutil/certutil not found: sudo apt install libnss3-tools");
  }
  return t;
}

struct Outcome {
  std::string consumer, location, action, detail;
  bool ok = true;
};

Outcome failed(Outcome o, std::string detail) {
  o.action = "failed";
  o.detail = std::move(detail);
  o.ok = false;
  return o;
}

Outcome nssAdd(const std::string& consumer, const fs::path& db, const std::string& module,
               bool create) {
  Outcome o{consumer, db.string(), "", "", true};
  if (!nssModuleNames(db).empty()) {
    o.action = "already registered";
    return o;
  }
  std::error_code ec;
  if (!fs::exists(db / "cert9.db", ec)) {
    if (!create) {
      o.action = "skipped";
      o.detail = "no cert9.db (start Firefox once to create the profile)";
      o.ok = false;
      return o;
    }
    fs::create_directories(db, ec);
    const CommandResult r =
        runCommand({"certutil", "-N", "-d", "sql:" + db.string(), "--empty-password"});
    if (r.status != 0) return failed(o, "certutil -N: " + trim(r.output));
  }
  const CommandResult r = runCommand({"modutil", "-force", "-dbdir", "sql:" + db.string(), "-add",
                                      kNssModuleName, "-libfile", module});
  if (r.status != 0) return failed(o, "modutil -add: " + trim(r.output));
  o.action = "registered";
  return o;
}

Outcome nssRemove(const std::string& consumer, const fs::path& db) {
  Outcome o{consumer, db.string(), "not registered", "", true};
  for (const auto& name : nssModuleNames(db)) {
    const CommandResult r =
        runCommand({"modutil", "-force", "-dbdir", "sql:" + db.string(), "-delete", name});
    if (r.status != 0) return failed(o, "modutil -delete: " + trim(r.output));
    o.action = "removed";
  }
  return o;
}

// policies.json: {"policies": {"SecurityDevices": {NAME: LIBRARY}}}, or with the newer
// {"SecurityDevices": {"Add": {NAME: LIBRARY}, "Delete": [...]}} form when the file uses it.
// Everything else in the file is kept. `module` empty: remove our entry (by name, or any entry
// whose library is libjpki-pkcs11), then the containers left empty, and the file when nothing
// else remains.
Outcome editFirefoxPolicy(const std::string& module) {
  const bool add = !module.empty();
  const fs::path file = kFirefoxPolicyFile;
  Outcome o{"firefox-policy", file.string(), add ? "registered" : "not registered", "", true};
  const auto text = readTextIfExists(file);
  if (!text && !add) return o;
  std::string error;
  std::optional<Json> doc = text ? parseJson(*text, &error) : Json::object();
  if (!doc || !doc->is_object()) {
    return failed(o, (doc ? std::string("not a JSON object") : "not valid JSON: " + error) +
                         "; fix the file by hand");
  }
  if (!doc->contains("policies")) (*doc)["policies"] = Json::object();
  Json& policies = (*doc)["policies"];
  if (!policies.is_object()) {
    return failed(o, "\"policies\" is not an object; fix the file by hand");
  }
  if (!policies.contains("SecurityDevices")) policies["SecurityDevices"] = Json::object();
  Json& devicesPolicy = policies["SecurityDevices"];
  const bool addForm = devicesPolicy.is_object() && devicesPolicy.contains("Add");
  Json& devices = addForm ? devicesPolicy["Add"] : devicesPolicy;
  if (!devicesPolicy.is_object() || !devices.is_object()) {
    return failed(o, "\"SecurityDevices\" is not an object; fix the file by hand");
  }

  if (add) {
    const auto current = devices.find(kNssModuleName);
    if (current != devices.end() && current->is_string() && *current == module) {
      o.action = "already registered";
      return o;
    }
    devices[kNssModuleName] = module;
  } else {
    for (auto it = devices.begin(); it != devices.end();) {
      if (it.key() == kNssModuleName ||
          (it->is_string() && namesOurModule(it->get_ref<const std::string&>()))) {
        it = devices.erase(it);
        o.action = "removed";
      } else {
        ++it;
      }
    }
    if (o.action != "removed") return o;
    if (addForm && devices.empty()) devicesPolicy.erase("Add");
    if (devicesPolicy.empty()) policies.erase("SecurityDevices");
    if (policies.empty() && doc->size() == 1) {
      std::error_code ec;
      fs::remove(file, ec);
      return ec ? failed(o, "cannot remove the file: " + ec.message()) : o;
    }
  }

  // Written next to the file, then renamed over it: Firefox never reads half a file.
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = file.string() + ".jpki-tool.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << dumpJson(*doc) << "\n";
    if (!out.flush()) return failed(o, "cannot write " + tmp.string());
  }
  fs::permissions(tmp,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  ec);
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return failed(o, "cannot replace the file");
  }
  return o;
}

Exit report(const Context& ctx, const std::vector<Outcome>& outcomes,
            const std::vector<std::string>& notes) {
  bool ok = true;
  Json list = Json::array();
  for (const auto& o : outcomes) {
    ok = ok && o.ok;
    list.push_back({{"consumer", o.consumer},
                    {"location", o.location},
                    {"action", o.action},
                    {"ok", o.ok},
                    {"detail", o.detail}});
  }
  if (ctx.json) {
    *ctx.out << dumpJson({{"results", list}, {"notes", notes}}) << "\n";
  } else {
    for (const auto& o : outcomes) {
      *ctx.out << o.consumer << ": " << o.action << " (" << o.location << ")"
               << (o.detail.empty() ? "" : ": " + o.detail) << "\n";
    }
    for (const auto& s : notes) *ctx.out << "note: " << s << "\n";
  }
  return ok ? Exit::Ok : Exit::Error;
}

}  // namespace

Exit cmdRegister(Context ctx, const Args& args) {
  std::vector<OptionSpec> spec = targetOptions();
  spec.push_back({"module", 'm', true});
  spec.push_back({"force", 0, false});
  const ParsedArgs p = parseArgs(args, withCommon(spec));
  if (p.has("help")) {
    printHelp(*ctx.out, kRegisterUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  const Targets t = targetsOf(p, "register");
  const std::string module = findModule(p.get("module"));
  if (module.empty()) {
    throw ToolError(Exit::Error, "libjpki-pkcs11.so not found" +
                                     (p.get("module") ? " at " + *p.get("module") : std::string()) +
                                     ": install it or name it with --module PATH");
  }
  std::vector<Outcome> outcomes;
  std::vector<std::string> notes;
  if (t.p11kit) {
    const fs::path file = userP11kitFile();
    std::vector<fs::path> others;
    for (const auto& f : p11kitRegistrations()) {
      if (f != file) others.push_back(f);
    }
    if (!others.empty() && !p.has("force")) {
      outcomes.push_back({"p11-kit", others.front().string(), "already registered system-wide",
                          "user config not written (--force writes it anyway)", true});
    } else {
      std::error_code ec;
      fs::create_directories(file.parent_path(), ec);
      std::ofstream out(file, std::ios::trunc);
      out << "# Written by jpki-tool register; removed by jpki-tool unregister.\n"
          << "module: " << module << "\n"
          << "critical: no\n"
          << "x-description: JPKI (My Number Card) PKCS#11 module\n";
      out.close();
      outcomes.push_back({"p11-kit", file.string(), out ? "registered" : "failed",
                          out ? "" : "cannot write the file", static_cast<bool>(out)});
    }
  }
  if (t.nss) outcomes.push_back(nssAdd("chromium", chromiumNssDb(), module, true));
  if (t.firefox) {
    const auto profiles = firefoxProfiles();
    if (profiles.empty()) notes.push_back("no Firefox profile found (start Firefox once first)");
    for (const auto& prof : profiles) outcomes.push_back(nssAdd("firefox", prof, module, false));
  }
  for (const auto& dir : t.nssdbs) outcomes.push_back(nssAdd("nssdb", dir, module, true));
  if (t.firefoxPolicy) outcomes.push_back(editFirefoxPolicy(module));
  if (t.browsers()) {
    notes.push_back(browserTokens().describe());
    notes.push_back("restart the browsers to load the module");
  }
  return report(ctx, outcomes, notes);
}

Exit cmdUnregister(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon(targetOptions()));
  if (p.has("help")) {
    printHelp(*ctx.out, kUnregisterUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  const Targets t = targetsOf(p, "unregister");
  std::vector<Outcome> outcomes;
  std::vector<std::string> notes;
  if (t.p11kit) {
    const fs::path file = userP11kitFile();
    std::error_code ec;
    const bool removed = fs::remove(file, ec);
    outcomes.push_back({"p11-kit", file.string(), removed ? "removed" : "not registered",
                        ec ? ec.message() : "", !ec});
    for (const auto& f : p11kitRegistrations()) {
      notes.push_back("system-wide p11-kit config still names the module: " + f.string());
    }
  }
  if (t.nss) outcomes.push_back(nssRemove("chromium", chromiumNssDb()));
  if (t.firefox) {
    for (const auto& prof : firefoxProfiles()) outcomes.push_back(nssRemove("firefox", prof));
  }
  for (const auto& dir : t.nssdbs) outcomes.push_back(nssRemove("nssdb", dir));
  if (t.firefoxPolicy) {
    const Outcome o = editFirefoxPolicy("");
    if (o.action == "removed") {
      notes.push_back(
          "Firefox keeps the module in the profiles that loaded it through the policy: "
          "`jpki-tool unregister --firefox` removes it there (each user)");
    }
    outcomes.push_back(o);
  }
  if (auto policy = firefoxPolicyRegistration(); policy && (t.firefox || t.firefoxPolicy)) {
    notes.push_back("the Firefox policy " + policy->string() +
                    " still loads the module for every profile (sudo jpki-tool unregister "
                    "--firefox-policy, or edit it as root)");
  }
  return report(ctx, outcomes, notes);
}

}  // namespace jpki::tool
