// Internal to apdu/: what JpkiCard and the certificate store both need to know about a certificate
// EF: the size of its first READ BINARY chunk, the outer DER header and SHA-256.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <optional>

#include "jpki/bytes.h"
#include "jpki/error.h"

namespace jpki::detail {

inline constexpr std::size_t kMaxCertSize = 16 * 1024;  // far above any JPKI certificate (~1.4 KB)
inline constexpr std::size_t kCertChunk = 256;          // one short READ BINARY (Le=00)

// Total length (header + contents) of the DER SEQUENCE that `head` begins with, for the long length
// forms 81 and 82 (what a certificate uses); nullopt for anything else, and when over kMaxCertSize.
inline std::optional<std::size_t> certificateLength(ByteView head) noexcept {
  if (head.size() < 4 || head[0] != 0x30) {
    return std::nullopt;
  }
  std::size_t total = 0;
  if (head[1] == 0x81) {
    total = 3 + static_cast<std::size_t>(head[2]);
  } else if (head[1] == 0x82) {
    total = 4 + ((static_cast<std::size_t>(head[2]) << 8) | head[3]);
  } else {
    return std::nullopt;
  }
  if (total > kMaxCertSize) {
    return std::nullopt;
  }
  return total;
}

// Throws Errc::Transport when OpenSSL fails (it does not for SHA-256 in practice).
inline Bytes sha256(ByteView data) {
  Bytes out(32);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    throw Error(Errc::Transport, "SHA-256 failed (OpenSSL)");
  }
  return out;
}

}  // namespace jpki::detail
