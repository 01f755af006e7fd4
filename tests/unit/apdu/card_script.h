// SPDX-License-Identifier: MIT
// APDUs and card answers for scripted JpkiCard tests (scripted_connection.h): the commands as hex,
// DER-shaped fake certificates, answers with a status word.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "jpki/bytes.h"
#include "jpki/digest.h"
#include "scripted_connection.h"

namespace jpki::test {

inline const std::string kSelectAid = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";
inline const std::string kOk = "90 00";
inline const std::string kVerifyStatus = "00 20 00 80";
inline const std::string kNotFound = "6A 82";

inline std::string hex2(unsigned v) { return toHex(Bytes{static_cast<std::uint8_t>(v & 0xFF)}); }
inline std::string hex4(unsigned v) {
  return toHex(Bytes{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v & 0xFF)});
}
inline std::string selectEf(unsigned fid) { return "00 A4 02 0C 02 " + hex4(fid); }
inline std::string readBinary(unsigned offset, unsigned le) {
  return "00 B0 " + hex4(offset) + " " + hex2(le);
}

inline ByteView view(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A DER-shaped blob of `total` bytes: 30 82 LL LL then a pattern depending on seed.
inline Bytes fakeCert(std::size_t total, std::uint8_t seed) {
  Bytes der{0x30, 0x82, static_cast<std::uint8_t>((total - 4) >> 8),
            static_cast<std::uint8_t>((total - 4) & 0xFF)};
  for (std::size_t i = 4; i < total; ++i) {
    der.push_back(static_cast<std::uint8_t>(i * 7 + seed));
  }
  return der;
}

inline Bytes withSw(Bytes data, std::uint16_t sw = 0x9000) {
  data.push_back(static_cast<std::uint8_t>(sw >> 8));
  data.push_back(static_cast<std::uint8_t>(sw & 0xFF));
  return data;
}

inline Bytes slice(const Bytes& b, std::size_t from, std::size_t n) {
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
               b.begin() + static_cast<std::ptrdiff_t>(from + n));
}

// Expected READ BINARYs of a certificate from `from` on: 256-byte chunks (the first at offset 0
// with Le 00), the last one with the exact length.
inline void expectReads(Script& script, const Bytes& cert, std::size_t from = 0) {
  for (std::size_t off = from; off < cert.size(); off += 256) {
    const std::size_t n = std::min<std::size_t>(256, cert.size() - off);
    script.expect(readBinary(static_cast<unsigned>(off), off == 0 ? 0 : static_cast<unsigned>(n)),
                  withSw(slice(cert, off, n)));
  }
}

}  // namespace jpki::test
