// SPDX-License-Identifier: MIT
// Byte buffers and hex helpers shared by every layer.
#include "jpki/bytes.h"

#include <openssl/crypto.h>

#include <stdexcept>

namespace jpki {

void secureWipe(void* data, std::size_t size) noexcept {
  if (data != nullptr && size != 0) {
    OPENSSL_cleanse(data, size);
  }
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    clear();
    data_ = std::move(other.data_);
    other.data_.clear();
  }
  return *this;
}

void SecretBytes::clear() noexcept {
  // Wipe the whole capacity: earlier contents may live beyond size() after a shrink.
  secureWipe(data_.data(), data_.capacity());
  data_.clear();
}

void SecretBytes::push_back(std::uint8_t b) {
  if (data_.size() == data_.capacity()) {
    // Grow by hand so the old allocation is wiped before it is released (a plain push_back
    // would leave a stale copy of the secret in freed memory).
    std::vector<std::uint8_t> bigger;
    bigger.reserve(data_.capacity() < 32 ? 32 : data_.capacity() * 2);
    bigger.assign(data_.begin(), data_.end());
    secureWipe(data_.data(), data_.capacity());
    data_.swap(bigger);
  }
  data_.push_back(b);
}

std::string toHex(ByteView data, bool spaced) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(data.size() * (spaced ? 3 : 2));
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (spaced && i != 0) {
      out.push_back(' ');
    }
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0F]);
  }
  return out;
}

std::string toHex(std::uint16_t word) {
  const std::uint8_t bytes[] = {static_cast<std::uint8_t>(word >> 8),
                                static_cast<std::uint8_t>(word & 0xFF)};
  return toHex(bytes, false);
}

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Bytes parseHex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':') {
      if (high >= 0) {
        throw std::invalid_argument("parseHex: odd digit before separator");
      }
      continue;
    }
    const int v = hexValue(c);
    if (v < 0) {
      throw std::invalid_argument("parseHex: not a hex digit");
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) {
    throw std::invalid_argument("parseHex: odd number of hex digits");
  }
  return out;
}

}  // namespace jpki
