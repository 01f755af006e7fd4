// SPDX-License-Identifier: MIT
#include "core/card_files.h"

#include <string_view>

namespace jpki::vcard {

namespace {

void appendText(Bytes& out, std::string_view text, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    out.push_back(static_cast<std::uint8_t>(i < text.size() ? text[i] : ' '));
  }
}

void appendU32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

}  // namespace

// Layout as reported by MYNACARD [C1]: CK_TOKEN_INFO fields serialised big-endian, text fields
// space padded: label 32, manufacturerID 32, model 16, serialNumber 16, flags, 10 ulong fields
// (session/PIN/memory counters), hardware/firmware versions as ASCII, utcTime 16.
Bytes tokenInfo(Profile profile) {
  Bytes out;
  appendText(out, profile == Profile::Juki ? "JPKIAPICCTOKEN" : "JPKIAPICCTOKEN2", 32);
  appendText(out, "JPKI VIRTUAL CARD", 32);  // manufacturerID
  appendText(out, "VCARD01", 16);            // model
  appendText(out, "0000000000000000", 16);   // serialNumber
  appendU32(out, 0x0000040D);  // RNG | LOGIN_REQUIRED | USER_PIN_INITIALIZED | TOKEN_INITIALIZED
  appendU32(out, 0xFFFFFFFF);  // ulMaxSessionCount
  appendU32(out, 0xFFFFFFFF);  // ulSessionCount
  appendU32(out, 0xFFFFFFFF);  // ulMaxRwSessionCount
  appendU32(out, 0xFFFFFFFF);  // ulRwSessionCount
  appendU32(out, 16);          // ulMaxPinLen
  appendU32(out, 6);           // ulMinPinLen
  appendU32(out, 0xFFFFFFFF);  // ulTotalPublicMemory
  appendU32(out, 0xFFFFFFFF);  // ulFreePublicMemory
  appendU32(out, 0xFFFFFFFF);  // ulTotalPrivateMemory
  appendU32(out, 0xFFFFFFFF);  // ulFreePrivateMemory
  appendText(out, "0301", 4);  // hardware / firmware version slots as ASCII "03" "01"
  // Pad the remainder (utcTime and reserved bytes) with spaces up to 160 bytes.
  while (out.size() < 160) out.push_back(' ');
  return out;
}

FileTable jpkiFiles(const CardPki& pki, Profile profile) {
  FileTable files;
  const bool hasSign = profile != Profile::NoSignCert;
  if (hasSign) files[kEfSignCert] = {FileKind::Binary, pki.signCert, true, true};
  files[kEfSignCaCert] = {FileKind::Binary, pki.signCaCert, false, true};
  files[kEfTokenInfo] = {FileKind::Binary, tokenInfo(profile), false, false};
  // EF 0008: byte 0 = sign certificate present (8F), byte 1 = auth certificate present [C1].
  files[kEfCertPresence] = {FileKind::Binary,
                            Bytes{static_cast<std::uint8_t>(hasSign ? 0x8F : 0x00), 0x8F, 0x00},
                            false, false};
  files[kEfAuthCert] = {FileKind::Binary, pki.authCert, false, false};
  files[kEfAuthCaCert] = {FileKind::Binary, pki.authCaCert, false, false};
  files[kEfAuthKey] = {FileKind::Key, {}, false, false};
  files[kEfAuthPin] = {FileKind::Pin, {}, false, false};
  if (hasSign) files[kEfSignKey] = {FileKind::Key, {}, false, true};
  files[kEfSignPin] = {FileKind::Pin, {}, false, true};
  return files;
}

FileTable textApFiles() {
  const std::string_view number = "123456789018";
  const std::string_view basic = "JPKI TARO|TOKYO-TO CHIYODA-KU|19900615|1";
  FileTable files;
  files[0x0001] = {FileKind::Binary, Bytes(number.begin(), number.end()), false, false};
  files[0x0002] = {FileKind::Binary, Bytes(basic.begin(), basic.end()), false, false};
  return files;
}

}  // namespace jpki::vcard
