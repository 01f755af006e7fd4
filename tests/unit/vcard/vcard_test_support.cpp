// SPDX-License-Identifier: MIT
#include "vcard_test_support.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>

#include "core/ossl.h"

namespace jpki::vcard::test {

const CardPki& sharedPki() {
  static const CardPki pki = generatePki(Profile::Normal);
  return pki;
}

std::shared_ptr<VirtualCard> makeCard(Profile profile, const std::filesystem::path& stateFile) {
  CardOptions options;
  options.profile = profile;
  options.stateFile = stateFile;
  return std::make_shared<VirtualCard>(sharedPki(), options);
}

Bytes hex(const std::string& text) { return parseHex(text); }
std::string hexOf(const Bytes& data) { return toHex(data, false); }

std::uint16_t swOf(const Bytes& response) {
  if (response.size() < 2) return 0;
  return static_cast<std::uint16_t>(response[response.size() - 2] << 8 | response.back());
}

Bytes send(VirtualCard& card, const std::string& command) { return card.process(hex(command)); }

std::string sw(VirtualCard& card, const std::string& command) {
  const Bytes r = send(card, command);
  return hexOf(Bytes(r.end() - 2, r.end()));
}

bool verifySignature(const Bytes& cert, const Bytes& digestInfo, const Bytes& signature) {
  const unsigned char* p = cert.data();
  ossl::X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(cert.size())));
  if (!x509) return false;
  EVP_PKEY* key = X509_get0_pubkey(x509.get());
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0) {
    return false;
  }
  return EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digestInfo.data(),
                         digestInfo.size()) == 1;
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("vcard-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace jpki::vcard::test
