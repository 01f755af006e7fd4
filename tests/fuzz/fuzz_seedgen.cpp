// SPDX-License-Identifier: MIT
// Writes the seed corpora (tests/fuzz/corpus/<target>/) from the real virtual card: the answers it
// gives during the same flows the targets drive, recorded in the fuzz input format. Run by hand
// when a flow changes (tests/fuzz/run.sh --seed); the output is committed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/virtual_card.h"
#include "fuzz_card_io.h"
#include "fuzz_drivers.h"

namespace {

namespace fs = std::filesystem;
using namespace jpki;

void write(const fs::path& dir, const std::string& name, const Bytes& data) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::shared_ptr<vcard::InProcessReaderSystem> readersWith(const vcard::CardPki& pki,
                                                          vcard::Profile profile) {
  auto readers = std::make_shared<vcard::InProcessReaderSystem>(1);
  vcard::CardOptions options;
  options.profile = profile;
  readers->insert(0, std::make_shared<vcard::VirtualCard>(pki, options));
  return readers;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  fuzz::quietModuleEnvironment();
  const vcard::Profile profiles[] = {vcard::Profile::Normal, vcard::Profile::NoSignCert,
                                     vcard::Profile::Locked};
  for (vcard::Profile profile : profiles) {
    const vcard::CardPki pki = vcard::generatePki(profile, "JPKI SEED");
    const std::string name = vcard::profileName(profile);
    {
      auto answers = std::make_shared<Bytes>();
      auto readers = readersWith(pki, profile);
      JpkiCard card(std::make_unique<fuzz::RecordingConnection>(
          readers->connect(readers->readers().at(0).name), answers));
      fuzz::driveCard(card);
      write(out / "fuzz_card", name, *answers);
    }
    {
      auto answers = std::make_shared<Bytes>();
      fuzz::withModule(
          std::make_shared<fuzz::RecordingReaderSystem>(readersWith(pki, profile), answers),
          fuzz::driveModule);
      write(out / "fuzz_stack", name, *answers);
    }
    if (profile == vcard::Profile::Normal) {
      const Bytes* certs[] = {&pki.authCert, &pki.authCaCert, &pki.signCert, &pki.signCaCert};
      for (std::uint8_t i = 0; i < 4; ++i) {
        Bytes seed{i};
        seed.insert(seed.end(), certs[i]->begin(), certs[i]->end());
        write(out / "fuzz_cert", "cert" + std::to_string(i), seed);
      }
    }
  }
  // Templates: flags, object, then (n, [type, mode, len, value...]) twice.
  write(out / "fuzz_attrs", "public_value",
        {0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0x01, 0x40, 0x01, 0x00,
         0x01, 0x08, 3,    0,    0,    0,    0,    0,    0,    0,    1});
  write(out / "fuzz_attrs", "login_private",
        {0x03, 0x02, 0x03, 0x12, 0x01, 0x10, 0x0F, 0x01, 0x10, 0x15, 0x01, 0x01, 0x01, 0x0A, 0x01,
         0x01, 0x02, 0x02});
  write(out / "fuzz_attrs", "raw_types",
        {0x01, 0x05, 0x02, 0x80, 0x80, 0x00, 0x00, 0x00, 0x01, 0x20, 0x81, 0x00, 0x00, 0x01, 0x08,
         0x00, 0x00, 0x00});
  return 0;
}
