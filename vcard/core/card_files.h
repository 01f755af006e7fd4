// SPDX-License-Identifier: MIT
// The files of the virtual card's applications, as data: which FIDs exist in which DF, what kind
// of file each is, and the contents of the binary EFs (jpki-card.md §1, §2).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "core/virtual_card.h"

namespace jpki::vcard {

// The applications the card answers SELECT-by-AID for. None = the state after power-on.
enum class Df { None, Jpki, Text };

inline constexpr std::uint8_t kJpkiAid[] = {0xD3, 0x92, 0xF0, 0x00, 0x26,
                                            0x01, 0x00, 0x00, 0x00, 0x01};
// 券面事項入力補助AP: modelled only so that "wrong application selected" can be tested.
inline constexpr std::uint8_t kTextAid[] = {0xD3, 0x92, 0x10, 0x00, 0x31,
                                            0x00, 0x01, 0x01, 0x04, 0x08};

// JPKI FIDs (§2).
inline constexpr std::uint16_t kEfSignCert = 0x0001, kEfSignCaCert = 0x0002, kEfTokenInfo = 0x0006,
                               kEfCertPresence = 0x0008, kEfAuthCert = 0x000A,
                               kEfAuthCaCert = 0x000B, kEfAuthKey = 0x0017, kEfAuthPin = 0x0018,
                               kEfSignKey = 0x001A, kEfSignPin = 0x001B;

enum class FileKind {
  Binary,  // readable with READ BINARY (subject to `needsSignPin`)
  Key,     // internal private-key EF: usable by COMPUTE SIGNATURE only
  Pin,     // internal PIN EF: target of VERIFY
};

struct CardFile {
  FileKind kind = FileKind::Binary;
  Bytes content;              // Binary only
  bool needsSignPin = false;  // READ BINARY answers 6982 until the sign PIN is verified
  bool signSide = false;      // Key/Pin: the signature key / password (else the auth ones)
};

using FileTable = std::map<std::uint16_t, CardFile>;

// The JPKI DF's files for a profile (NoSignCert: no 0001 and no 001A).
FileTable jpkiFiles(const CardPki& pki, Profile profile);
// The text AP's files: 0001 = 12 ASCII digits, 0002 = a small basic-information blob.
FileTable textApFiles();

// EF 0006: 160-byte big-endian CK_TOKEN_INFO image with a space-padded label (§2).
Bytes tokenInfo(Profile profile);

}  // namespace jpki::vcard
