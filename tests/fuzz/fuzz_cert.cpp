// SPDX-License-Identifier: MIT
// Target (ii): the module's certificate/DER handling. The in-process virtual card serves arbitrary
// bytes as one of its certificates (byte 0 chooses which: auth, auth CA, sign, sign CA); the
// module derives every object and attribute from it, logs in, signs and verifies.
#include "core/virtual_card.h"
#include "fuzz_drivers.h"

namespace {
const jpki::vcard::CardPki& basePki() {
  static const jpki::vcard::CardPki pki =
      jpki::vcard::generatePki(jpki::vcard::Profile::Normal, "JPKI FUZZ");
  return pki;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  jpki::fuzz::quietModuleEnvironment();
  basePki();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jpki;
  if (size < 1) {
    return 0;
  }
  vcard::CardPki pki = basePki();
  Bytes der(data + 1, data + size);
  switch (data[0] % 4) {
    case 0:
      pki.authCert = std::move(der);
      break;
    case 1:
      pki.authCaCert = std::move(der);
      break;
    case 2:
      pki.signCert = std::move(der);
      break;
    default:
      pki.signCaCert = std::move(der);
      break;
  }
  auto readers = std::make_shared<vcard::InProcessReaderSystem>(1);
  readers->insert(0, std::make_shared<vcard::VirtualCard>(std::move(pki), vcard::CardOptions{}));
  fuzz::withModule(readers, fuzz::driveModule);
  return 0;
}
