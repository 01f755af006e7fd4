// SPDX-License-Identifier: MIT
// generatePki / loadOrCreatePki: the test PKI in memory and as a directory of DER/PEM files.
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/pki_builder.h"

namespace jpki::vcard {

namespace fs = std::filesystem;

namespace {

struct Material {
  ossl::PkeyPtr authCaKey, signCaKey, authKey, signKey;
  ossl::X509Ptr authCa, signCa, auth, sign;
};

CardPki toCardPki(const Material& m) {
  CardPki p;
  p.authCaCert = pki::certDer(m.authCa.get());
  p.signCaCert = pki::certDer(m.signCa.get());
  p.authCert = pki::certDer(m.auth.get());
  p.signCert = pki::certDer(m.sign.get());
  p.authKeyPem = pki::keyPem(m.authKey.get());
  p.signKeyPem = pki::keyPem(m.signKey.get());
  p.authCaKeyPem = pki::keyPem(m.authCaKey.get());
  p.signCaKeyPem = pki::keyPem(m.signCaKey.get());
  return p;
}

void issueEndEntity(Material& m, Profile profile, const std::string& holderName) {
  m.auth = pki::makeAuthCert(m.authKey.get(), m.authCa.get(), m.authCaKey.get(), profile);
  m.sign =
      pki::makeSignCert(m.signKey.get(), m.signCa.get(), m.signCaKey.get(), profile, holderName);
}

std::string readText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Each file is written beside its final name and renamed, so readers never see half a file.
void writeFile(const fs::path& file, std::string_view data) {
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, file);
}

void writeCert(const fs::path& dir, const std::string& base, X509* cert) {
  const Bytes der = pki::certDer(cert);
  writeFile(dir / (base + ".der"),
            std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
  writeFile(dir / (base + ".pem"), pki::certPem(cert));
}

ossl::X509Ptr readCert(const fs::path& file) {
  const std::string der = readText(file);
  return pki::certFromDer(Bytes(der.begin(), der.end()));
}

bool allExist(const fs::path& dir, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (!fs::exists(dir / n)) return false;
  }
  return true;
}

// Only the validity of the end-entity certificates depends on the profile.
std::string validityClass(Profile profile) {
  return profile == Profile::Expired ? "expired" : "valid";
}

}  // namespace

CardPki generatePki(Profile profile, const std::string& holderName) {
  Material m;
  m.authCaKey = pki::newRsaKey();
  m.signCaKey = pki::newRsaKey();
  m.authKey = pki::newRsaKey();
  m.signKey = pki::newRsaKey();
  m.authCa = pki::makeCaCert(m.authCaKey.get(), false);
  m.signCa = pki::makeCaCert(m.signCaKey.get(), true);
  issueEndEntity(m, profile, holderName);
  return toCardPki(m);
}

// Reuses whatever the directory already holds: the CA keys and roots, the end-entity keys, and
// the end-entity certificates when they were issued for the same validity class ("validity"
// file). Missing pieces are generated and everything is (re)written.
CardPki loadOrCreatePki(const fs::path& dir, Profile profile) {
  fs::create_directories(dir);
  Material m;
  bool changed = false;
  if (allExist(dir, {"auth_ca_key.pem", "auth_ca.der", "sign_ca_key.pem", "sign_ca.der"})) {
    m.authCaKey = pki::keyFromPem(readText(dir / "auth_ca_key.pem"));
    m.signCaKey = pki::keyFromPem(readText(dir / "sign_ca_key.pem"));
    m.authCa = readCert(dir / "auth_ca.der");
    m.signCa = readCert(dir / "sign_ca.der");
  } else {
    m.authCaKey = pki::newRsaKey();
    m.signCaKey = pki::newRsaKey();
    m.authCa = pki::makeCaCert(m.authCaKey.get(), false);
    m.signCa = pki::makeCaCert(m.signCaKey.get(), true);
    changed = true;
  }
  if (allExist(dir, {"auth_key.pem", "sign_key.pem"})) {
    m.authKey = pki::keyFromPem(readText(dir / "auth_key.pem"));
    m.signKey = pki::keyFromPem(readText(dir / "sign_key.pem"));
  } else {
    m.authKey = pki::newRsaKey();
    m.signKey = pki::newRsaKey();
    changed = true;
  }
  const bool sameClass =
      fs::exists(dir / "validity") && readText(dir / "validity") == validityClass(profile) + "\n";
  if (!changed && sameClass && allExist(dir, {"auth.der", "sign.der"})) {
    m.auth = readCert(dir / "auth.der");
    m.sign = readCert(dir / "sign.der");
    // Certificates issued with other keys (e.g. a key file replaced by hand) are re-issued.
    changed = X509_check_private_key(m.auth.get(), m.authKey.get()) != 1 ||
              X509_check_private_key(m.sign.get(), m.signKey.get()) != 1;
  } else {
    changed = true;
  }
  if (changed) {
    issueEndEntity(m, profile, "JPKI TARO");
    writeFile(dir / "auth_ca_key.pem", pki::keyPem(m.authCaKey.get()));
    writeFile(dir / "sign_ca_key.pem", pki::keyPem(m.signCaKey.get()));
    writeFile(dir / "auth_key.pem", pki::keyPem(m.authKey.get()));
    writeFile(dir / "sign_key.pem", pki::keyPem(m.signKey.get()));
    writeCert(dir, "auth_ca", m.authCa.get());
    writeCert(dir, "sign_ca", m.signCa.get());
    writeCert(dir, "auth", m.auth.get());
    writeCert(dir, "sign", m.sign.get());
    writeFile(dir / "validity", validityClass(profile) + "\n");
  }
  return toCardPki(m);
}

}  // namespace jpki::vcard
