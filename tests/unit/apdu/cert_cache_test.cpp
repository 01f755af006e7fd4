// SPDX-License-Identifier: MIT
// The cross-process certificate store on disk, alone and under JpkiCard against a strict scripted
// card: a hit costs only the first chunk, the card always has the last word, the signature
// certificate never reaches the disk, and a bad file or directory only means reading the card.
#include "jpki/cert_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../common/as_unprivileged.h"
#include "card_script.h"
#include "jpki/jpki_card.h"
#include "scripted_connection.h"

namespace jpki {
namespace {

using namespace test;  // NOLINT: the script vocabulary (card_script.h)
namespace fs = std::filesystem;

std::vector<fs::path> filesIn(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == suffix) {
      out.push_back(e.path());
    }
  }
  return out;
}

Bytes readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const fs::path& p, const Bytes& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

unsigned modeOf(const fs::path& p) {
  struct stat st = {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class CertCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "jpki-cert-cache-test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root = tmpl;
    dir = root / "sub" / "jpki-pkcs11";  // parents are created too
  }
  void TearDown() override {
    for (auto& s : scripts) {
      s->checkDone();
    }
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  // A JpkiCard (a new process, as far as the card knows) on its own strict script, with a store.
  std::unique_ptr<JpkiCard> newCard(std::shared_ptr<CertificateStore> store) {
    scripts.push_back(std::make_shared<Script>());
    auto card = std::make_unique<JpkiCard>(std::make_unique<ScriptedConnection>(scripts.back()));
    card->setCertificateStore(std::move(store));
    return card;
  }
  Script& script() { return *scripts.back(); }
  std::shared_ptr<CertificateStore> diskStore(const fs::path& where) {
    return makeDiskCertificateStore(where.string(),
                                    [this](const std::string& line) { problems.push_back(line); });
  }

  // The whole certificate from the card: AP check, SELECT EF, every chunk.
  void expectFullRead(unsigned fid, const Bytes& cert) {
    script().expect(selectEf(0x0018), kOk).expect(selectEf(fid), kOk);
    expectReads(script(), cert);
  }
  // Only the first chunk from the card (a hit).
  void expectFirstChunk(unsigned fid, const Bytes& cert) {
    script()
        .expect(selectEf(0x0018), kOk)
        .expect(selectEf(fid), kOk)
        .expect(readBinary(0, 0), withSw(slice(cert, 0, std::min<std::size_t>(256, cert.size()))));
  }
  // Fills the store with `cert` as a first process would.
  void fill(CertFile file, unsigned fid, const Bytes& cert) {
    auto first = newCard(diskStore(dir));
    expectFullRead(fid, cert);
    ASSERT_EQ(first->certificate(file), cert);
  }

  // The signature password, then the signature certificate: always every chunk from the card.
  void readSignCertificate(JpkiCard& card, const Bytes& signCert) {
    script()
        .expect(selectEf(0x001B), kOk)
        .expect(kVerifyStatus, "63 C5")
        .expect("00 20 00 80 06 41 42 43 31 32 33", kOk);
    ASSERT_EQ(card.verify(KeyRole::Sign, view("ABC123")).outcome, VerifyOutcome::Ok);
    script().expect(selectEf(0x001B), kOk).expect(selectEf(0x0001), kOk);
    expectReads(script(), signCert);
    EXPECT_EQ(card.certificate(CertFile::Sign), signCert);
  }

  fs::path root, dir;
  std::vector<std::shared_ptr<Script>> scripts;
  std::vector<std::string> problems;
  const Bytes caCert = fakeCert(1319, 11);
  const Bytes authCert = fakeCert(1400, 1);
};

TEST_F(CertCacheTest, MissReadsTheWholeCertificateAndStoresItPrivately) {
  fill(CertFile::AuthCa, 0x000B, caCert);
  EXPECT_EQ(script().sent.size(), 8U);  // AP check, SELECT EF, 6 chunks
  const auto files = filesIn(dir, ".der");
  ASSERT_EQ(files.size(), 1U);
  EXPECT_EQ(readAll(files[0]), caCert);
  EXPECT_EQ(modeOf(files[0]), 0600U);
  EXPECT_EQ(modeOf(dir), 0700U);
  EXPECT_EQ(files[0].filename().string().size(), 64U + 4U);  // hex SHA-256 + ".der"
  EXPECT_TRUE(filesIn(dir, "").empty()) << "no temporary file left behind";
  EXPECT_TRUE(problems.empty());
}

TEST_F(CertCacheTest, HitReadsOnlyTheFirstChunk) {
  fill(CertFile::AuthCa, 0x000B, caCert);
  auto second = newCard(diskStore(dir));
  expectFirstChunk(0x000B, caCert);
  EXPECT_EQ(second->certificate(CertFile::AuthCa), caCert);
  EXPECT_EQ(script().sent.size(), 3U);
  EXPECT_EQ(script().begins, 1);
  EXPECT_EQ(second->certificate(CertFile::AuthCa), caCert);  // in memory now: no APDU
  EXPECT_EQ(script().sent.size(), 3U);
}

TEST_F(CertCacheTest, AuthenticationCertificateAfterIdentityNeedsNoApdu) {
  fill(CertFile::Auth, 0x000A, authCert);
  auto second = newCard(diskStore(dir));
  expectFirstChunk(0x000A, authCert);
  EXPECT_EQ(second->identity(), sha256(slice(authCert, 0, 256)));
  EXPECT_EQ(second->certificate(CertFile::Auth), authCert);  // the identity chunk was the key
  EXPECT_EQ(script().sent.size(), 3U);
  EXPECT_EQ(script().begins, 1) << "a hit from the identity chunk needs no transaction";
}

TEST_F(CertCacheTest, RenewedCertificateOrAnotherCardIsAMiss) {
  fill(CertFile::Auth, 0x000A, authCert);
  // Same EF, another first chunk (new serial number, or another holder's card).
  const Bytes renewed = fakeCert(1400, 2);
  auto other = newCard(diskStore(dir));
  expectFullRead(0x000A, renewed);
  EXPECT_EQ(other->certificate(CertFile::Auth), renewed);
  EXPECT_EQ(filesIn(dir, ".der").size(), 2U);  // both kept, each under its own first chunk
  // The first card again: still its own certificate.
  auto again = newCard(diskStore(dir));
  expectFirstChunk(0x000A, authCert);
  EXPECT_EQ(again->certificate(CertFile::Auth), authCert);
}

TEST_F(CertCacheTest, CertificateOfAnotherLengthIsAnotherKey) {
  // A longer certificate with the same bytes after the header: its header, hence its key, differs.
  fill(CertFile::SignCa, 0x0002, caCert);
  Bytes longer = caCert;
  longer.resize(1400);
  longer[2] = static_cast<std::uint8_t>((1400 - 4) >> 8);
  longer[3] = static_cast<std::uint8_t>((1400 - 4) & 0xFF);
  auto card = newCard(diskStore(dir));
  expectFullRead(0x0002, longer);  // its first chunk differs (the header): another key
  EXPECT_EQ(card->certificate(CertFile::SignCa), longer);
}

struct BadFile {
  const char* name;
  std::function<Bytes(const Bytes&)> damage;
};

class BadCacheFileTest : public CertCacheTest, public ::testing::WithParamInterface<BadFile> {};

TEST_P(BadCacheFileTest, IsAMissAndReplaced) {
  fill(CertFile::AuthCa, 0x000B, caCert);
  const auto files = filesIn(dir, ".der");
  ASSERT_EQ(files.size(), 1U);
  writeAll(files[0], GetParam().damage(caCert));
  auto card = newCard(diskStore(dir));
  expectFullRead(0x000B, caCert);
  EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
  EXPECT_EQ(readAll(files[0]), caCert) << "the bad file was replaced";
  EXPECT_EQ(modeOf(files[0]), 0600U);
}

INSTANTIATE_TEST_SUITE_P(
    Damage, BadCacheFileTest,
    ::testing::Values(BadFile{"Truncated",
                              [](const Bytes& c) { return slice(c, 0, c.size() - 100); }},
                      BadFile{"Empty", [](const Bytes&) { return Bytes{}; }},
                      BadFile{"TrailingBytes",
                              [](Bytes c) {
                                c.push_back(0);
                                return c;
                              }},
                      BadFile{"FirstChunkAltered",
                              [](Bytes c) {
                                c[200] ^= 0x01;
                                return c;
                              }},
                      BadFile{"HeaderAltered",
                              [](Bytes c) {
                                c[3] ^= 0x01;
                                return c;
                              }},
                      BadFile{"NotDer", [](const Bytes& c) { return Bytes(c.size(), 0x41); }},
                      BadFile{"Oversized",
                              [](const Bytes& c) {
                                Bytes big = c;
                                big.resize(std::size_t{17} * 1024, 0);
                                return big;
                              }}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(CertCacheTest, FileReplacedByADirectoryOrALinkIsAMiss) {
  fill(CertFile::AuthCa, 0x000B, caCert);
  const fs::path file = filesIn(dir, ".der").at(0);
  const fs::path elsewhere = root / "planted.der";
  writeAll(elsewhere, caCert);
  fs::remove(file);
  fs::create_symlink(elsewhere, file);  // a link is not followed, even to the right bytes
  auto card = newCard(diskStore(dir));
  expectFullRead(0x000B, caCert);
  EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
  EXPECT_FALSE(fs::is_symlink(file)) << "replaced by a regular file";
}

TEST_F(CertCacheTest, SignatureCertificateIsNeverStored) {
  const Bytes signCert = fakeCert(1000, 5);
  auto store = diskStore(dir);
  auto card = newCard(store);
  readSignCertificate(*card, signCert);
  // The store itself refuses it too.
  store->store(CertFile::Sign, signCert);
  EXPECT_FALSE(store->find(CertFile::Sign, slice(signCert, 0, 256)));
  EXPECT_FALSE(fs::exists(dir)) << "nothing at all was written";
  // A second process reads it from the card again.
  auto second = newCard(store);
  readSignCertificate(*second, signCert);
}

// Unusable directories: everything works as without a cache, and nothing is written.

TEST_F(CertCacheTest, GroupWritableDirectoryIsNotUsed) {
  fs::create_directories(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
  for (int process = 0; process < 2; ++process) {
    auto card = newCard(diskStore(dir));
    expectFullRead(0x000B, caCert);
    EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
  }
  EXPECT_TRUE(filesIn(dir, ".der").empty());
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("writable by group or others"), std::string::npos) << problems[0];
}

TEST_F(CertCacheTest, PlantedFileInGroupWritableDirectoryIsNotRead) {
  fill(CertFile::AuthCa, 0x000B, caCert);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  auto card = newCard(diskStore(dir));
  expectFullRead(0x000B, caCert);
  EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
}

TEST_F(CertCacheTest, DirectoryThatCannotBeCreatedOrWrittenIsNotUsed) {
  // Under a regular file: mkdir fails even for root.
  writeAll(root / "file", Bytes{1});
  for (const fs::path& where : {root / "file" / "cache", root / "file"}) {
    for (int process = 0; process < 2; ++process) {
      auto card = newCard(diskStore(where));
      expectFullRead(0x000B, caCert);
      EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
    }
  }
  EXPECT_FALSE(problems.empty());
  // Relative paths are refused as well (they would depend on the working directory).
  auto card = newCard(makeDiskCertificateStore("relative/dir"));
  expectFullRead(0x000B, caCert);
  EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
  EXPECT_FALSE(fs::exists("relative"));
}

TEST_F(CertCacheTest, DirectoryOfAnotherUserIsNotUsed) {
  fill(CertFile::AuthCa, 0x000B, caCert);
  // Root gives the directory away; any other user finds one of root's (the root directory).
  fs::path other = dir;
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(dir.c_str(), jt::kNobody, jt::kNobody), 0);
  } else {
    other = "/";
  }
  auto card = newCard(diskStore(other));
  expectFullRead(0x000B, caCert);
  EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.back().find("not owned by this user"), std::string::npos);
}

TEST_F(CertCacheTest, ReadOnlyDirectoryStillWorks) {
  fs::create_directories(dir);
  if (::geteuid() == 0) {
    // Root writes into a read-only directory anyway: the check runs as the user nobody, who must
    // own the directory (the store refuses anyone else's) and reach it.
    for (const fs::path& p : {root, root / "sub", dir}) {
      ASSERT_EQ(::chown(p.c_str(), jt::kNobody, jt::kNobody), 0) << p;
    }
  }
  ASSERT_EQ(::chmod(dir.c_str(), 0500), 0);
  jt::asUnprivileged([&] {
    auto card = newCard(diskStore(dir));
    expectFullRead(0x000B, caCert);
    EXPECT_EQ(card->certificate(CertFile::AuthCa), caCert);
    EXPECT_TRUE(filesIn(dir, ".der").empty());
    script().checkDone();
    scripts.clear();  // checked here: a child's script is not the parent's
  });
  ::chmod(dir.c_str(), 0700);
}

// --- the token label (EF 0006), keyed by the identity chunk ----------------------------------

TEST_F(CertCacheTest, TokenLabelStoredAfterTheIdentityCostsNoApdu) {
  const std::string labelAnswer =
      "4A504B49415049434354 4F4B454E32 2020202020202020202020202020202020 90 00";
  {
    auto first = newCard(diskStore(dir));
    JpkiCard::Batch batch(*first);
    expectFirstChunk(0x000A, authCert);
    script().expect(selectEf(0x0006), kOk).expect("00 B0 00 00 20", labelAnswer);
    (void)first->identity();
    EXPECT_EQ(first->kind(), CardKind::MyNumberCard);
  }
  auto second = newCard(diskStore(dir));
  {
    JpkiCard::Batch batch(*second);
    expectFirstChunk(0x000A, authCert);
    (void)second->identity();
    EXPECT_EQ(second->kind(), CardKind::MyNumberCard);
    EXPECT_EQ(second->tokenLabel(), "JPKIAPICCTOKEN2");
  }
  EXPECT_EQ(script().sent.size(), 3U);
  // Another card: its own label read from the card.
  const Bytes otherAuth = fakeCert(1400, 7);
  auto other = newCard(diskStore(dir));
  JpkiCard::Batch batch(*other);
  expectFirstChunk(0x000A, otherAuth);
  script()
      .expect(selectEf(0x0006), kOk)
      .expect("00 B0 00 00 20", "4A504B49415049434354 4F4B454E 90 00");
  (void)other->identity();
  EXPECT_EQ(other->kind(), CardKind::JukiCard);
}

TEST_F(CertCacheTest, TokenLabelAfterACardResetIsStoredUnderTheSameCard) {
  auto store = diskStore(dir);
  auto card = newCard(store);
  expectFirstChunk(0x000A, authCert);
  (void)card->identity();
  script().resetOnNextBegin();
  // The reset check re-reads the identity chunk (the same card), then the label is read.
  script()
      .expect(selectEf(0x0018), kNotFound)
      .expect(kSelectAid, kOk)
      .expect(selectEf(0x000A), kOk)
      .expect(readBinary(0, 0), withSw(slice(authCert, 0, 256)))
      .expect(selectEf(0x0006), kOk)
      .expect("00 B0 00 00 20", "4A504B49415049434354 4F4B454E32 90 00");
  EXPECT_EQ(card->tokenLabel(), "JPKIAPICCTOKEN2");
  EXPECT_EQ(store->findTokenLabel(slice(authCert, 0, 256)),
            std::optional<std::string>("JPKIAPICCTOKEN2"));
}

TEST_F(CertCacheTest, TokenLabelWithoutIdentityIsReadAndNotStored) {
  auto card = newCard(diskStore(dir));
  script()
      .expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x0006), kOk)
      .expect("00 B0 00 00 20", "4A504B49415049434354 4F4B454E32 90 00");
  EXPECT_EQ(card->kind(), CardKind::MyNumberCard);
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(CertCacheTest, DamagedLabelFileIsAMiss) {
  auto store = diskStore(dir);
  const Bytes chunk = slice(authCert, 0, 256);
  store->storeTokenLabel(chunk, "JPKIAPICCTOKEN2");
  EXPECT_EQ(store->findTokenLabel(chunk), std::optional<std::string>("JPKIAPICCTOKEN2"));
  const fs::path file = filesIn(dir, ".label").at(0);
  EXPECT_EQ(modeOf(file), 0600U);
  for (const std::string& bad : {std::string("JPKIAPICC"), std::string(""),
                                 std::string("JPKI\x01TOKEN\n"), std::string(40, 'A') + "\n"}) {
    writeAll(file, Bytes(bad.begin(), bad.end()));
    EXPECT_FALSE(store->findTokenLabel(chunk)) << bad;
  }
  store->storeTokenLabel(chunk, "");  // nothing worth keeping
  store->storeTokenLabel(chunk, "JPKIAPGPSETOKEN");
  EXPECT_EQ(store->findTokenLabel(chunk), std::optional<std::string>("JPKIAPGPSETOKEN"));
}

}  // namespace
}  // namespace jpki
