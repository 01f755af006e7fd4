// `jpki-tool register` / `unregister`: the module in p11-kit's user config, in the user's NSS
// database (Chromium, Chrome) and in Firefox profiles (clients-and-peers.md §3.5, §4).
#include <fstream>
#include <ostream>

#include "commands.h"
#include "consumers.h"
#include "json.h"
#include "util.h"

namespace jpki::tool {

namespace {

constexpr const char* kRegisterUsage =
    "Usage: jpki-tool register [--p11-kit] [--nss] [--firefox] [--module PATH] [--force]\n"
    "\n"
    "Registers the PKCS#11 module for the current user (no root needed). Without a target\n"
    "option, all three:\n"
    "  --p11-kit   writes ~/.config/pkcs11/modules/jpki.module (p11-kit consumers: GnuTLS,\n"
    "              p11tool, OpenSSL through p11-kit-proxy, ...); skipped when a system-wide\n"
    "              p11-kit config already names the module (unless --force)\n"
    "  --nss       adds it to ~/.pki/nssdb (Chromium, Chrome) with modutil, creating the database\n"
    "              (empty password) with certutil when needed\n"
    "  --firefox   adds it to every Firefox profile with modutil (close Firefox first)\n"
    "  --module PATH  the module to register (default: the installed libjpki-pkcs11.so)\n"
    "\n"
    "Browsers and the signature password: NSS cannot pass a per-registration setting to the\n"
    "module, so the browser registrations load the same module as every other program. Browsers\n"
    "log in to every token before they list certificates, so to keep them from asking for the\n"
    "signature password set `tokens = auth-only` in /etc/jpki-pkcs11/jpki-pkcs11.conf (all\n"
    "programs), or start the browser with JPKI_PKCS11_TOKENS=auth-only (that browser only).\n"
    "`jpki-tool doctor` warns while browsers are registered without it. modutil and certutil\n"
    "come with the package libnss3-tools.\n";

constexpr const char* kUnregisterUsage =
    "Usage: jpki-tool unregister [--p11-kit] [--nss] [--firefox]\n"
    "\n"
    "Removes what `jpki-tool register` added for the current user: the p11-kit user config\n"
    "file, and the module from the user's NSS database and from every Firefox profile (close\n"
    "Firefox first). Without a target option, all three. System-wide configuration (files under\n"
    "/usr/share/p11-kit, /etc/pkcs11, Firefox policies) is reported, not changed.\n";

struct Targets {
  bool p11kit = false, nss = false, firefox = false;
};

Targets targetsOf(const ParsedArgs& p) {
  Targets t{p.has("p11-kit"), p.has("nss"), p.has("firefox")};
  if (!t.p11kit && !t.nss && !t.firefox) t = {true, true, true};
  return t;
}

struct Outcome {
  std::string consumer, location, action, detail;
  bool ok = true;
};

void requireNssTools() {
  if (!haveProgram("modutil") || !haveProgram("certutil")) {
    throw ToolError(Exit::Error, "modutil/certutil not found: sudo apt install libnss3-tools");
  }
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
    if (r.status != 0) {
      o.action = "failed";
      o.detail = "certutil -N: " + trim(r.output);
      o.ok = false;
      return o;
    }
  }
  const CommandResult r = runCommand({"modutil", "-force", "-dbdir", "sql:" + db.string(), "-add",
                                      kNssModuleName, "-libfile", module});
  o.action = r.status == 0 ? "registered" : "failed";
  if (r.status != 0) {
    o.detail = "modutil -add: " + trim(r.output);
    o.ok = false;
  }
  return o;
}

Outcome nssRemove(const std::string& consumer, const fs::path& db) {
  Outcome o{consumer, db.string(), "not registered", "", true};
  for (const auto& name : nssModuleNames(db)) {
    const CommandResult r =
        runCommand({"modutil", "-force", "-dbdir", "sql:" + db.string(), "-delete", name});
    if (r.status == 0) {
      o.action = "removed";
    } else {
      o.action = "failed";
      o.detail = "modutil -delete: " + trim(r.output);
      o.ok = false;
    }
  }
  return o;
}

Exit report(const Context& ctx, const std::vector<Outcome>& outcomes,
            const std::vector<std::string>& notes) {
  bool ok = true;
  Json list = Json::array();
  for (const auto& o : outcomes) {
    ok = ok && o.ok;
    list.push(Json::object()
                  .set("consumer", o.consumer)
                  .set("location", o.location)
                  .set("action", o.action)
                  .set("ok", o.ok)
                  .set("detail", o.detail));
  }
  if (ctx.json) {
    Json n = Json::array();
    for (const auto& s : notes) n.push(s);
    *ctx.out << Json::object().set("results", list).set("notes", n).dump() << "\n";
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
  const ParsedArgs p = parseArgs(args, withCommon({{"p11-kit", 0, false},
                                                   {"nss", 0, false},
                                                   {"firefox", 0, false},
                                                   {"module", 'm', true},
                                                   {"force", 0, false}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kRegisterUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty()) throw ToolError(Exit::Usage, "register takes no positional arguments");
  const Targets t = targetsOf(p);
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
  if (t.nss || t.firefox) requireNssTools();
  if (t.nss) outcomes.push_back(nssAdd("chromium", chromiumNssDb(), module, true));
  if (t.firefox) {
    const auto profiles = firefoxProfiles();
    if (profiles.empty()) notes.push_back("no Firefox profile found (start Firefox once first)");
    for (const auto& prof : profiles) outcomes.push_back(nssAdd("firefox", prof, module, false));
  }
  if (t.nss || t.firefox) {
    std::string source;
    if (effectiveTokens(&source) != "auth-only") {
      notes.push_back(
          "browsers will also show the signature token: add `tokens = auth-only` to "
          "/etc/jpki-pkcs11/jpki-pkcs11.conf or start the browser with "
          "JPKI_PKCS11_TOKENS=auth-only (see --help)");
    }
    notes.push_back("restart the browsers to load the module");
  }
  return report(ctx, outcomes, notes);
}

Exit cmdUnregister(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(
      args, withCommon({{"p11-kit", 0, false}, {"nss", 0, false}, {"firefox", 0, false}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kUnregisterUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty())
    throw ToolError(Exit::Usage, "unregister takes no positional arguments");
  const Targets t = targetsOf(p);
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
  if (t.nss || t.firefox) requireNssTools();
  if (t.nss) outcomes.push_back(nssRemove("chromium", chromiumNssDb()));
  if (t.firefox) {
    for (const auto& prof : firefoxProfiles()) outcomes.push_back(nssRemove("firefox", prof));
    if (auto policy = firefoxPolicyRegistration()) {
      notes.push_back("the Firefox policy " + policy->string() +
                      " still loads the module for every profile (edit it as root)");
    }
  }
  return report(ctx, outcomes, notes);
}

}  // namespace jpki::tool
