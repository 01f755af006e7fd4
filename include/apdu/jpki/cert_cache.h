// SPDX-License-Identifier: MIT
// What a JpkiCard may keep between processes, so that a program starting up does not read the same
// 4 KB of certificates from the card every time: the public certificates (authentication
// certificate, both CA certificates) and the token label of EF 0006. NEVER the signature
// certificate (CertFile::Sign, EF 0001): it holds the holder's name, address, birth date and sex.
//
// Every entry is keyed by what the card shows first, so the card always has the last word: a
// certificate by its first READ BINARY chunk (the first min(256, length) bytes, which hold the
// serial number and the issuer: (issuer, serial) identifies a certificate, RFC 5280), the label by
// the first chunk of the authentication certificate. Another card or a renewed certificate is a
// different key, hence a miss.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "jpki/bytes.h"
#include "jpki/jpki_card.h"

namespace jpki {

// Implementations never throw and never block for long: any problem is a miss (find) or nothing
// (store). CertFile::Sign is never stored nor found.
class CertificateStore {
 public:
  virtual ~CertificateStore() = default;

  // The certificate of `file` whose first chunk is firstChunk, or nullopt.
  virtual std::optional<Bytes> find(CertFile file, ByteView firstChunk) = 0;
  virtual void store(CertFile file, ByteView der) = 0;

  // The token label (EF 0006, trailing blanks removed) of the card whose authentication
  // certificate begins with authFirstChunk, or nullopt.
  virtual std::optional<std::string> findTokenLabel(ByteView authFirstChunk) = 0;
  virtual void storeTokenLabel(ByteView authFirstChunk, std::string_view label) = 0;
};

// Receives one line per problem of the disk store (unusable directory, failed write), for a debug
// log. Never called with anything secret.
using StoreLog = std::function<void(const std::string&)>;

// The store on disk, one file per entry in `directory` (absolute path), named by the hex SHA-256
// over a version tag, the EF id and the key chunk.
//   * The directory is created (mode 0700, parents too) at the first store(), not before; it is not
//     used at all when it is not owned by this user, is writable by group or others, or is not a
//     directory. Files are mode 0600, written to a temporary file and renamed into place.
//   * A certificate file is used only when it is a regular file of this user that holds exactly
//     one DER SEQUENCE (long-form length, at most 16 KiB) filling the file, whose first chunk
//     equals the card's byte for byte and whose length equals the one in the card's DER header.
//     Anything else is a miss, and the next store() replaces the file.
//   * A label file holds 1-32 printable ASCII characters and a newline.
std::shared_ptr<CertificateStore> makeDiskCertificateStore(std::string directory,
                                                           StoreLog log = {});

}  // namespace jpki
