// SPDX-License-Identifier: MIT
// Internal to apdu/: what JpkiCard and the certificate store both need to know about a certificate
// EF: the size of its first READ BINARY chunk and the outer DER header.
#pragma once

#include <openssl/asn1.h>
#include <openssl/err.h>

#include <cstddef>
#include <optional>

#include "jpki/bytes.h"
#include "jpki/error.h"

namespace jpki::detail {

inline constexpr std::size_t kMaxCertSize =
    std::size_t{16} * 1024;                     // far above any JPKI certificate (~1.4 KB)
inline constexpr std::size_t kCertChunk = 256;  // one short READ BINARY (Le=00)

// Total length (header + contents) of the DER SEQUENCE that `head` begins with, read by OpenSSL's
// ASN1_get_object (X.690 §8.1.2-§8.1.3); `head` may stop inside the contents, but must hold at
// least one byte of them (an OpenSSL rule). nullopt for anything but the long length forms 81 and
// 82 (what a certificate uses, X.690 §8.1.3.5), and when over kMaxCertSize.
inline std::optional<std::size_t> certificateLength(ByteView head) noexcept {
  if (head.size() < 2 || head[0] != 0x30 || (head[1] != 0x81 && head[1] != 0x82)) {
    return std::nullopt;
  }
  const unsigned char* contents = head.data();
  long length = 0;
  int tag = 0;
  int cls = 0;
  // 0x80 alone: malformed header; 0x80|0x20: a constructed object whose contents go on beyond
  // `head`. Both push an error that is not ours to leave on OpenSSL's queue.
  ERR_set_mark();
  const int flags = ASN1_get_object(&contents, &length, &tag, &cls, static_cast<long>(head.size()));
  ERR_pop_to_mark();
  if ((flags & ~0x80) != V_ASN1_CONSTRUCTED) {
    return std::nullopt;
  }
  const std::size_t total =
      static_cast<std::size_t>(contents - head.data()) + static_cast<std::size_t>(length);
  if (total > kMaxCertSize) {
    return std::nullopt;
  }
  return total;
}

}  // namespace jpki::detail
