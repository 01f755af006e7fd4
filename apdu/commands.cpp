// SPDX-License-Identifier: MIT
// Command APDU encoding and the named factories for the commands the JPKI AP understands.
// References: ISO/IEC 7816-4:2020 §5.1 (command-response pairs, short Lc/Le), §11.1.1 SELECT,
// §11.2.3 READ BINARY, §11.5.6 VERIFY, §11.5.7 CHANGE REFERENCE DATA; the JPKI deviations are
// described in shared/reference/jpki-card.md §3 (every JPKI command is short, §3.9).
#include <string>

#include "jpki/apdu.h"
#include "jpki/error.h"

namespace jpki::apdu {

namespace {
constexpr std::size_t kShortMaxData = 255;
constexpr std::uint32_t kShortMaxLe = 256;
}  // namespace

Bytes Command::encode() const {
  if (le && *le == 0) {
    throw Error(Errc::InvalidInput, "APDU Le must be 1..256 (or absent)");
  }
  if (data.size() > kShortMaxData) {
    throw Error(Errc::InvalidInput, "APDU data longer than 255 bytes needs extended length");
  }
  if (le && *le > kShortMaxLe) {
    throw Error(Errc::InvalidInput, "APDU Le larger than 256 needs extended length");
  }
  Bytes out{cla, ins, p1, p2};
  out.reserve(5 + data.size() + 1);
  if (!data.empty()) {
    out.push_back(static_cast<std::uint8_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
  }
  if (le) {
    out.push_back(static_cast<std::uint8_t>(*le & 0xFF));  // 256 encodes as 00
  }
  return out;
}

std::string Command::traceText() const {
  std::string text = toHex(Bytes{cla, ins, p1, p2});
  if (!data.empty()) {
    if (sensitive) {
      // Neither the PIN nor its length is shown.
      text += " ** [secret data masked]";
    } else {
      text += ' ';
      text += toHex(Bytes{static_cast<std::uint8_t>(data.size())});  // encode() allows <= 255
      text += ' ';
      text += toHex(data);
    }
  }
  if (le) {
    text += ' ';
    text += toHex(Bytes{static_cast<std::uint8_t>(*le & 0xFF)});
  }
  return text;
}

// SELECT by DF name, P2=0C: "first occurrence, no response data" — JPKI clients never ask for
// FCI (jpki-card.md §1).
Command selectAid(ByteView aid) {
  Command c;
  c.ins = 0xA4;
  c.p1 = 0x04;
  c.p2 = 0x0C;
  c.data.assign(aid.begin(), aid.end());
  return c;
}

// SELECT EF under the current DF by file identifier (P1=02), no FCI (jpki-card.md §2).
Command selectEf(std::uint16_t fid) {
  Command c;
  c.ins = 0xA4;
  c.p1 = 0x02;
  c.p2 = 0x0C;
  c.data = {static_cast<std::uint8_t>(fid >> 8), static_cast<std::uint8_t>(fid & 0xFF)};
  return c;
}

// READ BINARY with a 15-bit offset in P1-P2 (P1 bit 8 = 0, ISO 7816-4 §11.2.3).
Command readBinary(std::uint16_t offset, std::uint32_t le) {
  if (offset > 0x7FFF) {
    throw Error(Errc::InvalidInput, "READ BINARY offset beyond 15 bits");
  }
  if (le == 0 || le > kShortMaxLe) {
    throw Error(Errc::InvalidInput, "READ BINARY Le must be 1..256");
  }
  Command c;
  c.ins = 0xB0;
  c.p1 = static_cast<std::uint8_t>(offset >> 8);
  c.p2 = static_cast<std::uint8_t>(offset & 0xFF);
  c.le = le;
  return c;
}

// VERIFY against the current EF (P2=80); JPKI PINs are plain ASCII, no padding (§3.3).
Command verify(ByteView pin) {
  Command c;
  c.ins = 0x20;
  c.p2 = 0x80;
  c.data.assign(pin.begin(), pin.end());
  c.sensitive = true;
  return c;
}

// Empty VERIFY (case 1): answers 63Cx with the tries left and spends no try (§3.4).
Command verifyStatus() {
  Command c;
  c.ins = 0x20;
  c.p2 = 0x80;
  return c;
}

// CHANGE REFERENCE DATA with P1=01 ("new reference data only": the card checks the current PIN
// through the VERIFY that must precede it on the same EF) and P2=80 (the PIN of the current EF);
// the new PIN in plain ASCII like VERIFY's (§3.5, [C1]: jpki/myna, myna-card).
Command changeReferenceData(ByteView newPin) {
  Command c;
  c.ins = 0x24;
  c.p1 = 0x01;
  c.p2 = 0x80;
  c.data.assign(newPin.begin(), newPin.end());
  c.sensitive = true;
  return c;
}

// JPKI's proprietary COMPUTE DIGITAL SIGNATURE: CLA 80, INS 2A, P1 00 (card applies PKCS#1 v1.5
// to the DigestInfo), P2 80 (current key EF), Le 00 (§3.6).
Command computeSignature(ByteView digestInfo) {
  Command c;
  c.cla = 0x80;
  c.ins = 0x2A;
  c.p1 = 0x00;
  c.p2 = 0x80;
  c.data.assign(digestInfo.begin(), digestInfo.end());
  c.le = 256;
  return c;
}

}  // namespace jpki::apdu
