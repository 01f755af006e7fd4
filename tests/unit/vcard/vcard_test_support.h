// SPDX-License-Identifier: MIT
// Shared helpers of the virtual-card unit tests: one test PKI per test binary (RSA key
// generation is slow), hex APDU shortcuts and signature verification.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/virtual_card.h"

namespace jpki::vcard::test {

// Generated once per process (Normal profile).
const CardPki& sharedPki();

std::shared_ptr<VirtualCard> makeCard(Profile profile = Profile::Normal,
                                      const std::filesystem::path& stateFile = {});

Bytes hex(const std::string& text);
std::string hexOf(const Bytes& data);
std::uint16_t swOf(const Bytes& response);
// Sends `command` (hex) and returns the response.
Bytes send(VirtualCard& card, const std::string& command);
// Sends `command` and returns its SW as 4 upper-case hex digits.
std::string sw(VirtualCard& card, const std::string& command);

// True when `signature` is a valid PKCS#1 v1.5 signature over the DigestInfo `digestInfo`
// with the public key of the DER certificate `cert`.
bool verifySignature(const Bytes& cert, const Bytes& digestInfo, const Bytes& signature);

// A fresh, empty temporary directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Commands in hex used by many tests.
inline const std::string kSelectJpki = "00A4040C0AD392F000260100000001";
inline const std::string kSelectText = "00A4040C0AD3921000310001010408";
inline std::string selectEf(const std::string& fid) { return "00A4020C02" + fid; }
inline const std::string kVerifyAuthOk =
    "0020008004"
    "31323334";  // "1234"
inline const std::string kVerifySignOk =
    "0020008006"
    "414243313233";  // "ABC123"
inline const std::string kSha256Prefix = "3031300D060960864801650304020105000420";

}  // namespace jpki::vcard::test
