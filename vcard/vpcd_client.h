// SPDX-License-Identifier: MIT
// The vpcd protocol (vsmartcard), virtual-card side: a TCP client exchanging frames of a 2-byte
// big-endian length and a payload. 1-byte payloads are control codes from vpcd; anything else
// is an APDU, answered with the response.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "jpki/bytes.h"

namespace jpki::vcard {

enum VpcdControl : std::uint8_t {
  kVpcdPowerOff = 0x00,
  kVpcdPowerOn = 0x01,
  kVpcdReset = 0x02,
  kVpcdGetAtr = 0x04,
};

class VpcdConnection {
 public:
  // One connection attempt; nullopt when vpcd is not (yet) listening.
  static std::optional<VpcdConnection> tryConnect(const std::string& host, std::uint16_t port,
                                                  std::string& error);
  VpcdConnection(VpcdConnection&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  VpcdConnection& operator=(VpcdConnection&& other) noexcept;
  VpcdConnection(const VpcdConnection&) = delete;
  VpcdConnection& operator=(const VpcdConnection&) = delete;
  ~VpcdConnection();

  [[nodiscard]] int fd() const { return fd_; }
  // Reads one whole frame; nullopt when the peer closed the connection or on an error.
  std::optional<Bytes> readFrame();
  bool writeFrame(ByteView payload);

 private:
  explicit VpcdConnection(int fd) : fd_(fd) {}
  bool readExact(std::uint8_t* out, std::size_t size);
  int fd_ = -1;
};

}  // namespace jpki::vcard
