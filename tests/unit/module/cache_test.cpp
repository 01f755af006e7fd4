// SPDX-License-Identifier: MIT
// The module with its cross-process certificate cache (certificate-cache, cache-dir): a second
// C_Initialize (a new process, as far as the card can tell) reads one chunk per certificate and no
// token label; another card is never shown a cached certificate; the signature certificate never
// reaches the disk. And the login's presence check of EF 0001 (no APDU in the following find).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "fixture.h"

namespace jt {
namespace {

namespace fs = std::filesystem;

class CacheTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    std::string tmpl = (fs::temp_directory_path() / "jpki-module-cache.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root = tmpl;
    config = "certificate-cache = yes\ncache-dir = " + (root / "cache").string() + "\n";
  }
  void TearDown() override {
    ModuleTest::TearDown();
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  std::size_t count(const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& e : card()->log()) {
      n += e.command.rfind(prefix, 0) == 0 ? 1 : 0;
    }
    return n;
  }

  // What a certificate viewer does: token info of both tokens, CKA_VALUE of the public
  // certificates.
  std::vector<Bytes> listCertificates() {
    std::vector<Bytes> values;
    for (CK_SLOT_ID slot : {kAuthSlot, kSignSlot}) {
      (void)tokenFlags(slot);
      const CK_SESSION_HANDLE s = open(slot);
      CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
      for (CK_OBJECT_HANDLE o : find(s, {{CKA_CLASS, &cls, sizeof cls}})) {
        values.push_back(attr(s, o, CKA_VALUE));
      }
      EXPECT_EQ(f->C_CloseSession(s), CKR_OK);
    }
    return values;
  }

  std::size_t filesWith(const std::string& suffix) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root / "cache", ec)) {
      n += e.path().extension() == suffix ? 1 : 0;
    }
    return n;
  }

  fs::path root;
  std::string config;
};

TEST_F(CacheTest, SecondProcessReadsOneChunkPerCertificateAndNoLabel) {
  restart(config);
  const std::vector<Bytes> first = listCertificates();
  ASSERT_EQ(first.size(), 3u);  // auth, auth CA, sign CA (the signature certificate is private)
  EXPECT_GT(count("00B0"), 6u);
  EXPECT_EQ(filesWith(".der"), 3u);
  EXPECT_EQ(filesWith(".label"), 1u);

  restart(config);  // a fresh card object, the same card: only the cache is warm
  const std::vector<Bytes> second = listCertificates();
  EXPECT_EQ(second, first);
  EXPECT_EQ(count("00B0"), 3u) << "one READ BINARY per certificate: the first chunk";
  EXPECT_EQ(count("00A4020C020006"), 0u) << "the token label came from the cache";
  const std::vector<Bytes> expected = {pkiA().authCert, pkiA().authCaCert, pkiA().signCaCert};
  for (const Bytes& v : expected) {
    EXPECT_NE(std::find(second.begin(), second.end(), v), second.end());
  }
}

TEST_F(CacheTest, AnotherCardGetsItsOwnCertificates) {
  restart(config);
  (void)listCertificates();
  restart(config);
  g_readers->remove(0);
  g_readers->insert(0, makeCard(pkiB()));
  const std::vector<Bytes> values = listCertificates();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_NE(std::find(values.begin(), values.end(), pkiB().authCert), values.end());
  EXPECT_EQ(std::find(values.begin(), values.end(), pkiA().authCert), values.end());
  EXPECT_GT(count("00B0"), 3u) << "card B's own certificate was read from the card";
}

TEST_F(CacheTest, SignatureCertificateNeverReachesTheDisk) {
  restart(config);
  const CK_SESSION_HANDLE s = open(kSignSlot);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  EXPECT_EQ(attr(s, findOne(s, CKO_CERTIFICATE, 0x02), CKA_VALUE), pkiA().signCert);
  (void)attr(s, findOne(s, CKO_CERTIFICATE, 0x04), CKA_VALUE);
  EXPECT_EQ(filesWith(".der"), 1u) << "only the signature CA certificate";
  for (const auto& e : fs::directory_iterator(root / "cache")) {
    std::ifstream in(e.path(), std::ios::binary);
    const Bytes data((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(data, pkiA().signCert);
  }
}

TEST_F(CacheTest, CacheOffWritesNothing) {
  restart("certificate-cache = no\ncache-dir = " + (root / "cache").string() + "\n");
  (void)listCertificates();
  EXPECT_FALSE(fs::exists(root / "cache"));
}

// The signature token's C_Login learns whether EF 0001 exists in its own transaction, right after
// the VERIFY; the C_FindObjects that follows sends nothing.
TEST_F(ModuleTest, SignLoginLearnsCertificatePresenceSoFindSendsNothing) {
  const CK_SESSION_HANDLE s = open(kSignSlot);
  clearLog();
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  std::vector<std::string> sent;
  for (const auto& e : card()->log()) {
    sent.push_back(e.command);
  }
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[sent.size() - 2].substr(0, 8), "00200080") << "VERIFY";
  EXPECT_EQ(sent.back(), "00A4020C020001") << "the presence check follows in the same transaction";
  clearLog();
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  EXPECT_EQ(find(s, {{CKA_CLASS, &cls, sizeof cls}}).size(), 1u);
  EXPECT_EQ(apdus(), 0u);
}

TEST_F(ModuleTest, WrongSignPasswordSendsNoPresenceCheck) {
  const CK_SESSION_HANDLE s = open(kSignSlot);
  clearLog();
  EXPECT_EQ(login(s, CKU_USER, "WRONG1"), CKR_PIN_INCORRECT);
  for (const auto& e : card()->log()) {
    EXPECT_NE(e.command, "00A4020C020001");
  }
}

}  // namespace
}  // namespace jt
