// SPDX-License-Identifier: MIT
// The built-in per-program settings: the one table of programs that cannot use the card with the
// global defaults, and what they get instead (layer 3 of include/config/jpki/config.h). Each entry
// is written in the syntax of a [program NAME] section, parsed by the same code as the file, and is
// overridden key by key by a [program NAME] section of the file or by the environment.
// Documented in packaging/jpki-pkcs11.conf.5 (PROGRAMS) and config/jpki-pkcs11.conf.example; an
// entry belongs here only with evidence (an interoperability test), not by guess.
#include "jpki/config.h"

namespace jpki::config {
namespace {

constexpr ProgramSettings kProgramSettings[] = {
    // poppler's pdfsig (-add-signature -nss-pwd PW) logs in to every token that needs a login with
    // its one password, so the authentication token would get the signature password (the module
    // refuses it without asking the card, and pdfsig gives up); and it has no password callback
    // for the per-signature login of a CKA_ALWAYS_AUTHENTICATE key, so it would wait forever. It
    // still logs in to the signature token (one password per run).
    // tests/integration/interop/pdfsig.sh
    {"pdfsig", "tokens = sign-only\nsign-always-authenticate = no\n",
     "signs with one password per run and cannot answer a per-signature login"},
};

}  // namespace

std::span<const ProgramSettings> builtInProgramSettings() { return kProgramSettings; }

}  // namespace jpki::config
