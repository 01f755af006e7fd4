// SPDX-License-Identifier: MIT
// Byte buffers shared by every layer: plain data, and secrets that are wiped when released.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jpki {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Overwrites memory in a way the optimiser may not remove (OPENSSL_cleanse underneath).
void secureWipe(void* data, std::size_t size) noexcept;

// A buffer for PINs and other secrets: wiped on destruction and on clear(); not copyable, so a
// secret is never duplicated by accident.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(ByteView data) : data_(data.begin(), data.end()) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : data_(std::move(other.data_)) { other.data_.clear(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes() { clear(); }

  void clear() noexcept;
  void push_back(std::uint8_t b);  // reserves generously first, so no stale copy is left behind
  [[nodiscard]] ByteView view() const noexcept { return data_; }
  [[nodiscard]] std::uint8_t* data() noexcept { return data_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return data_.capacity(); }  // all wiped
  [[nodiscard]] bool empty() const noexcept { return data_.empty(); }

 private:
  std::vector<std::uint8_t> data_;
};

// "3B E0 00" style hex for logs and tests (spaced = false: "3BE000"); parseHex accepts spaces,
// colons and either case and throws std::invalid_argument on anything else.
std::string toHex(ByteView data, bool spaced = true);
// A file identifier or status word as four hex digits: "6A82".
std::string toHex(std::uint16_t word);
Bytes parseHex(std::string_view text);

}  // namespace jpki
