// SPDX-License-Identifier: MIT
// The response parser and status-word helpers on raw bytes (shared by the fuzz targets).
#pragma once

#include <cstddef>
#include <cstdint>

#include "jpki/apdu.h"
#include "jpki/error.h"

namespace jpki::fuzz {

inline void parseResponse(const std::uint8_t* data, std::size_t size) {
  try {
    const apdu::Response r = apdu::Response::parse(Bytes(data, data + size));
    (void)apdu::swText(r.sw);
    (void)apdu::triesLeft(r.sw);
    if (r.data.size() + 2 != size) {
      __builtin_trap();  // data||SW must split exactly
    }
  } catch (const Error&) {
    if (size >= 2) {
      __builtin_trap();  // only a response shorter than SW1 SW2 is malformed
    }
  }
}

}  // namespace jpki::fuzz
