// SPDX-License-Identifier: MIT
// JpkiCard against a strict scripted card: the exact APDU sequence of every operation.
#include "jpki/jpki_card.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "card_script.h"
#include "scripted_connection.h"

namespace jpki {
namespace {

using namespace test;  // NOLINT: the script vocabulary (card_script.h)

class JpkiCardTest : public ::testing::Test {
 protected:
  void TearDown() override { script->checkDone(); }

  // Expected READ BINARYs of a certificate: 256-byte chunks (Le 00), the last one exact.
  void expectReads(const Bytes& cert) { test::expectReads(*script, cert); }

  template <typename F>
  Errc errorOf(F&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.code();
    }
    ADD_FAILURE() << "no jpki::Error thrown";
    return Errc::Transport;
  }

  // Cold VERIFY of the auth PIN (tries unknown): SELECT 0018 (confirms the AP: no SELECT AID),
  // status, VERIFY.
  void verifyAuthOk() {
    script->expect(selectEf(0x0018), kOk)
        .expect(kVerifyStatus, "63 C3")
        .expect("00 20 00 80 04 31 32 33 34", kOk);
    const VerifyResult r = card->verify(KeyRole::Auth, view("1234"));
    ASSERT_EQ(r.outcome, VerifyOutcome::Ok);
    ASSERT_TRUE(card->verified(KeyRole::Auth));
  }

  // VERIFY of the auth PIN with the counter known (pinStatus before): SELECT 0018, VERIFY.
  // With the counter already learnt: verify() still reads it again in its own transaction.
  void verifyAuthOkKnownTries() {
    script->expect(selectEf(0x0018), kOk)
        .expect(kVerifyStatus, "63 C3")
        .expect("00 20 00 80 04 31 32 33 34", kOk);
    ASSERT_EQ(card->verify(KeyRole::Auth, view("1234")).outcome, VerifyOutcome::Ok);
  }

  // Learns the identity cold: the AP confirmed through 0018, then ONE chunk of 000A.
  void learnIdentity(const Bytes& cert) {
    script->expect(selectEf(0x0018), kOk)
        .expect(selectEf(0x000A), kOk)
        .expect(readBinary(0, 0), withSw(slice(cert, 0, 256)));
    EXPECT_EQ(card->identity(), sha256(slice(cert, 0, 256)));
  }

  std::shared_ptr<Script> script = std::make_shared<Script>();
  std::unique_ptr<JpkiCard> card =
      std::make_unique<JpkiCard>(std::make_unique<ScriptedConnection>(script));
  const Bytes authCert = fakeCert(1400, 1);
  const Bytes digestInfo =
      parseHex("3031300D060960864801650304020105000420" + std::string(64, 'A'));
};

// --- certificates --------------------------------------------------------------------------

TEST_F(JpkiCardTest, ColdCertificateReadThenCached) {
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000A), kOk);
  expectReads(authCert);
  EXPECT_EQ(card->certificate(CertFile::Auth), authCert);
  EXPECT_EQ(script->sent.size(), 8U);  // SELECT 0018 (AP check), SELECT EF, 6 READ BINARYs
  EXPECT_EQ(script->sent.back(), "00B0050078");  // last chunk: 120 bytes, exact Le
  EXPECT_TRUE(card->certificateCached(CertFile::Auth));
  EXPECT_EQ(card->certificate(CertFile::Auth), authCert);  // cached: no APDU
  EXPECT_EQ(card->identity(), sha256(slice(authCert, 0, 256)));
  EXPECT_EQ(script->sent.size(), 8U);
}

TEST_F(JpkiCardTest, CertificateOfExactly512Bytes) {
  const Bytes ca = fakeCert(512, 9);
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000B), kOk);
  script->expect(readBinary(0, 0), withSw(slice(ca, 0, 256)))
      .expect(readBinary(256, 0), withSw(slice(ca, 256, 256)));
  EXPECT_EQ(card->certificate(CertFile::AuthCa), ca);
}

TEST_F(JpkiCardTest, ShortCertificateEndingWith6282) {
  const Bytes ca = fakeCert(200, 3);
  script->expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x0002), kOk)
      .expect(readBinary(0, 0), withSw(ca, 0x6282));
  EXPECT_EQ(card->certificate(CertFile::SignCa), ca);
}

TEST_F(JpkiCardTest, TrailingFillerIsTrimmed) {
  const Bytes ca = fakeCert(200, 3);
  Bytes padded = ca;
  padded.resize(256, 0xFF);
  script->expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x0002), kOk)
      .expect(readBinary(0, 0), withSw(padded));
  EXPECT_EQ(card->certificate(CertFile::SignCa), ca);
}

TEST_F(JpkiCardTest, MissingCertificateFile) {
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000B), "6A 82");
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::AuthCa); }), Errc::FileNotFound);
  EXPECT_FALSE(card->certificateCached(CertFile::AuthCa));
}

// A missing certificate EF is learnt once: asking again (objects.cpp does, per attribute lookup)
// sends nothing, and certificatePresent() agrees without an APDU.
TEST_F(JpkiCardTest, MissingCertificateFileIsNotSelectedAgain) {
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000B), "6A 82");
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::AuthCa); }), Errc::FileNotFound);
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::AuthCa); }), Errc::FileNotFound);
  EXPECT_FALSE(card->certificatePresent(CertFile::AuthCa));
}

TEST_F(JpkiCardTest, NotAJpkiCard) {
  // The AP check fails (6A82), so SELECT AID: the card has no JPKI AP either.
  script->expect(selectEf(0x0018), kNotFound).expect(kSelectAid, "6A 82");
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::Auth); }), Errc::NotJpki);
  script->expect(selectEf(0x0018), kNotFound).expect(kSelectAid, "6A 82");
  EXPECT_EQ(errorOf([&] { card->ensureJpki(); }), Errc::NotJpki);
}

TEST_F(JpkiCardTest, SignCertificateNeedsSignPinWithoutApdu) {
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::Sign); }), Errc::SecurityStatus);
  EXPECT_TRUE(script->sent.empty());
}

// --- garbage from the card: BadResponse, never a crash -----------------------------------------

struct GarbageCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> reads;  // after SELECT 0018 + SELECT 000A
};

class GarbageTest : public JpkiCardTest, public ::testing::WithParamInterface<GarbageCase> {};

TEST_P(GarbageTest, IsBadResponse) {
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000A), kOk);
  for (const auto& [cmd, rsp] : GetParam().reads) {
    script->expect(cmd, rsp);
  }
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::Auth); }), Errc::BadResponse);
  EXPECT_FALSE(card->certificateCached(CertFile::Auth));
}

const std::string kHead1400 = "30 82 05 74 " + std::string(std::size_t{252} * 2, '5');

INSTANTIATE_TEST_SUITE_P(
    Responses, GarbageTest,
    ::testing::Values(
        GarbageCase{"OneByte", {{"00 B0 00 00 00", "90"}}},
        GarbageCase{"Empty", {{"00 B0 00 00 00", ""}}},
        GarbageCase{"NotASequence", {{"00 B0 00 00 00", "04 82 05 74 90 00"}}},
        GarbageCase{"ShortFormLength", {{"00 B0 00 00 00", "30 05 01 02 03 04 05 90 00"}}},
        GarbageCase{"HeaderTooShort", {{"00 B0 00 00 00", "30 82 90 00"}}},
        GarbageCase{"LengthOver16K",
                    {{"00 B0 00 00 00",
                      "30 82 40 00 " + std::string(std::size_t{252} * 2, '0') + " 90 00"}}},
        GarbageCase{"IndefiniteLength", {{"00 B0 00 00 00", "30 80 00 00 90 00"}}},
        GarbageCase{"TruncatedFirstAnswer", {{"00 B0 00 00 00", "30 82 05 74 01 02 03 90 00"}}},
        GarbageCase{"TruncatedBy6B00",
                    {{"00 B0 00 00 00", kHead1400 + " 90 00"}, {"00 B0 01 00 00", "6B 00"}}},
        GarbageCase{"TruncatedShortChunk",
                    {{"00 B0 00 00 00", kHead1400 + " 90 00"}, {"00 B0 01 00 00", "01 02 90 00"}}}),
    [](const auto& info) { return std::string(info.param.name); });

// --- token info ------------------------------------------------------------------------------

struct LabelCase {
  const char* raw;  // hex of the 32 bytes of EF 0006
  const char* label;
  CardKind kind;
};

class TokenLabelTest : public JpkiCardTest, public ::testing::WithParamInterface<LabelCase> {};

TEST_P(TokenLabelTest, ReadsAndClassifies) {
  script->expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x0006), kOk)
      .expect("00 B0 00 00 20", std::string(GetParam().raw) + " 90 00");
  EXPECT_EQ(card->kind(), GetParam().kind);
  EXPECT_EQ(card->tokenLabel(), GetParam().label);  // cached: no second read
  EXPECT_EQ(script->sent.size(), 3U);
}

INSTANTIATE_TEST_SUITE_P(
    Labels, TokenLabelTest,
    ::testing::Values(
        // "JPKIAPICCTOKEN2" + 17 spaces
        LabelCase{"4A504B49415049434354 4F4B454E32 2020202020202020202020202020202020",
                  "JPKIAPICCTOKEN2", CardKind::MyNumberCard},
        LabelCase{"4A504B49415049434354 4F4B454E 000000000000000000000000000000000000",
                  "JPKIAPICCTOKEN", CardKind::JukiCard},
        LabelCase{"4A504B4941504750 5345544F4B454E 20202020202020202020202020202020 00",
                  "JPKIAPGPSETOKEN", CardKind::Smartphone},
        LabelCase{"4A504B4941504F54484552", "JPKIAPOTHER", CardKind::Unknown}));

// --- PIN status -------------------------------------------------------------------------------

TEST_F(JpkiCardTest, PinStatusSpendsNoTry) {
  script->expect(selectEf(0x001B), kOk).expect(kVerifyStatus, "63 C5");
  const PinStatus s = card->pinStatus(KeyRole::Sign);
  EXPECT_EQ(s.triesLeft, 5);
  EXPECT_EQ(s.maxTries, 5);
  EXPECT_FALSE(s.locked());
}

TEST_F(JpkiCardTest, PinStatusLockedBy6984) {
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "69 84");
  const PinStatus s = card->pinStatus(KeyRole::Auth);
  EXPECT_TRUE(s.locked());
  EXPECT_EQ(s.maxTries, 3);
}

TEST_F(JpkiCardTest, PinStatusUnexpectedSw) {
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "67 00");
  EXPECT_EQ(errorOf([&] { card->pinStatus(KeyRole::Auth); }), Errc::CardStatus);
}

// --- VERIFY -----------------------------------------------------------------------------------

TEST_F(JpkiCardTest, VerifyAuthOk) {
  verifyAuthOk();
  EXPECT_FALSE(card->verified(KeyRole::Sign));
  EXPECT_EQ(script->sent.size(), 3U);
}

// A counter learnt earlier may be stale (another process may have spent tries since): verify()
// reads it again in the VERIFY's own transaction, and a locked PIN gets no VERIFY with data.
TEST_F(JpkiCardTest, VerifyReadsTheCounterAgainEvenWhenKnown) {
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "63 C3");
  (void)card->pinStatus(KeyRole::Auth);
  ASSERT_TRUE(card->knownPinStatus(KeyRole::Auth));
  EXPECT_EQ(card->knownPinStatus(KeyRole::Auth)->triesLeft, 3);
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "69 83");
  EXPECT_EQ(errorOf([&] { card->verify(KeyRole::Auth, view("1234")); }), Errc::PinLocked);
  EXPECT_EQ(script->sent.size(), 4U) << "no VERIFY with data after the counter said locked";
  EXPECT_EQ(card->knownPinStatus(KeyRole::Auth)->triesLeft, 0);
}

TEST_F(JpkiCardTest, VerifyWrongPin) {
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 39 39 39 39", "63 C2");
  const VerifyResult r = card->verify(KeyRole::Auth, view("9999"));
  EXPECT_EQ(r.outcome, VerifyOutcome::WrongPin);
  EXPECT_EQ(r.triesLeft, 2);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
}

TEST_F(JpkiCardTest, VerifyLastTryLocksThenNoMoreApdus) {
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C1")
      .expect("00 20 00 80 04 39 39 39 39", "63 C0");
  const VerifyResult r = card->verify(KeyRole::Auth, view("9999"));
  EXPECT_EQ(r.outcome, VerifyOutcome::Locked);
  EXPECT_EQ(r.triesLeft, 0);
  EXPECT_EQ(errorOf([&] { card->verify(KeyRole::Auth, view("1234")); }), Errc::PinLocked);
  EXPECT_EQ(script->sent.size(), 3U);
}

TEST_F(JpkiCardTest, VerifyAnswered6984IsLocked) {
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C5")
      .expect("00 20 00 80 06 41 42 43 31 32 33", "69 84");
  const VerifyResult r = card->verify(KeyRole::Sign, view("ABC123"));
  EXPECT_EQ(r.outcome, VerifyOutcome::Locked);
  EXPECT_EQ(r.triesLeft, 0);
}

TEST_F(JpkiCardTest, LockedPinNeverReceivesVerifyData) {
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "63 C0");
  EXPECT_EQ(errorOf([&] { card->verify(KeyRole::Auth, view("1234")); }), Errc::PinLocked);
  EXPECT_EQ(errorOf([&] { card->verify(KeyRole::Auth, view("1234")); }), Errc::PinLocked);
  EXPECT_EQ(script->sent.size(), 2U);
}

TEST_F(JpkiCardTest, VerifySignUppercasesAndReadsSignCertificateOnlyWhenAsked) {
  const Bytes signCert = fakeCert(1000, 5);
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C5")
      .expect("00 20 00 80 06 41 42 43 31 32 33", kOk);  // "abc123" sent as "ABC123"
  const VerifyResult r = card->verify(KeyRole::Sign, view("abc123"));
  EXPECT_EQ(r.outcome, VerifyOutcome::Ok);
  EXPECT_EQ(r.triesLeft, 5);
  EXPECT_TRUE(card->verified(KeyRole::Sign));
  EXPECT_FALSE(card->certificateCached(CertFile::Sign));  // not read by the login
  // Asked for: a new transaction confirms the AP through the sign PIN EF, then reads.
  script->expect(selectEf(0x001B), kOk).expect(selectEf(0x0001), kOk);
  expectReads(signCert);
  EXPECT_EQ(card->certificate(CertFile::Sign), signCert);
  EXPECT_TRUE(card->certificateCached(CertFile::Sign));
  EXPECT_TRUE(card->verified(KeyRole::Sign));
}

TEST_F(JpkiCardTest, VerifySignOnCardWithoutSignCertificate) {
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C5")
      .expect("00 20 00 80 06 41 42 43 31 32 33", kOk);
  EXPECT_EQ(card->verify(KeyRole::Sign, view("ABC123")).outcome, VerifyOutcome::Ok);
  EXPECT_TRUE(card->verified(KeyRole::Sign));
  script->expect(selectEf(0x001B), kOk).expect(selectEf(0x0001), kNotFound);
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::Sign); }), Errc::FileNotFound);
  EXPECT_FALSE(card->certificateCached(CertFile::Sign));
  EXPECT_TRUE(card->verified(KeyRole::Sign));
}

TEST_F(JpkiCardTest, SignCertificateRefusedByCard) {
  // Verified, but the card answers 6982 to the certificate read (login lost on the card).
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C5")
      .expect("00 20 00 80 06 41 42 43 31 32 33", kOk);
  ASSERT_EQ(card->verify(KeyRole::Sign, view("ABC123")).outcome, VerifyOutcome::Ok);
  // New transaction: JPKI confirmed through the sign PIN EF (no SELECT AID: keeps the login).
  script->expect(selectEf(0x001B), kOk)
      .expect(selectEf(0x0001), kOk)
      .expect(readBinary(0, 0), "69 82");
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::Sign); }), Errc::SecurityStatus);
}

struct BadPin {
  KeyRole role;
  std::string pin;
};

class MalformedPinTest : public JpkiCardTest, public ::testing::WithParamInterface<BadPin> {};

TEST_P(MalformedPinTest, RefusedWithoutAnyApdu) {
  EXPECT_EQ(errorOf([&] { card->verify(GetParam().role, view(GetParam().pin)); }), Errc::PinFormat);
  EXPECT_TRUE(script->sent.empty());
  EXPECT_EQ(script->begins, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedPinTest,
    ::testing::Values(BadPin{KeyRole::Auth, ""}, BadPin{KeyRole::Auth, "123"},
                      BadPin{KeyRole::Auth, "12345"}, BadPin{KeyRole::Auth, "12a4"},
                      BadPin{KeyRole::Auth, " 123"},
                      BadPin{KeyRole::Auth, std::string("1\0"
                                                        "23",
                                                        4)},
                      BadPin{KeyRole::Auth, "\xEF\xBC\x91\xEF"}, BadPin{KeyRole::Sign, "ABC12"},
                      BadPin{KeyRole::Sign, "ABCDEFGH123456789"},
                      BadPin{KeyRole::Sign, std::string("ABC\0"
                                                        "12",
                                                        6)},
                      BadPin{KeyRole::Sign, "ABC 123"}, BadPin{KeyRole::Sign, "ABC_123"},
                      BadPin{KeyRole::Sign,
                             "\xC3\xA9"
                             "ABC12"},
                      BadPin{KeyRole::Sign, "ABC123\x80"}));

// --- PIN change (jpki-card.md §3.5) ------------------------------------------------------------

const std::string kChange5678 = "00 24 01 80 04 35 36 37 38";

TEST_F(JpkiCardTest, ChangePinVerifiesThenChangesInOneTransaction) {
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 31 32 33 34", kOk)
      .expect(kChange5678, kOk);  // same PIN EF: not selected again
  const ChangePinResult r = card->changePin(KeyRole::Auth, view("1234"), view("5678"));
  EXPECT_EQ(r.outcome, ChangePinOutcome::Ok);
  EXPECT_EQ(r.triesLeft, 3);
  EXPECT_EQ(script->begins, 1);
  EXPECT_TRUE(card->verified(KeyRole::Auth));  // as after verify(): logout() clears it
  EXPECT_EQ(card->knownPinStatus(KeyRole::Auth)->triesLeft, 3);
  for (const std::string& apdu : script->sent) {
    EXPECT_NE(apdu, normHex(kSelectAid)) << "SELECT AID would log out other processes";
  }
}

TEST_F(JpkiCardTest, ChangePinReadsTheCounterAgainEvenWhenKnown) {
  script->expect(selectEf(0x001B), kOk).expect(kVerifyStatus, "63 C4");
  (void)card->pinStatus(KeyRole::Sign);
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C4")
      .expect("00 20 00 80 06 41 42 43 31 32 33", kOk)
      .expect("00 24 01 80 09 4E 45 57 50 41 53 53 31 32", kOk);
  const ChangePinResult r = card->changePin(KeyRole::Sign, view("ABC123"), view("NEWPASS12"));
  EXPECT_EQ(r.outcome, ChangePinOutcome::Ok);
  EXPECT_EQ(r.triesLeft, 5);
  EXPECT_EQ(script->begins, 2);
}

// Both values are normalised like a login: lower case reaches the card upper-cased.
TEST_F(JpkiCardTest, ChangePinUpperCasesBothSignatureValues) {
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C5")
      .expect("00 20 00 80 06 41 42 43 31 32 33", kOk)         // "abc123"
      .expect("00 24 01 80 08 4E 45 57 50 41 53 53 31", kOk);  // "newPass1"
  EXPECT_EQ(card->changePin(KeyRole::Sign, view("abc123"), view("newPass1")).outcome,
            ChangePinOutcome::Ok);
}

TEST_F(JpkiCardTest, ChangePinWithWrongCurrentPinChangesNothing) {
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 39 39 39 39", "63 C2");  // and no CHANGE (strict script)
  const ChangePinResult r = card->changePin(KeyRole::Auth, view("9999"), view("5678"));
  EXPECT_EQ(r.outcome, ChangePinOutcome::WrongPin);
  EXPECT_EQ(r.triesLeft, 2);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
  EXPECT_FALSE(card->mayHoldLogin());
  EXPECT_EQ(card->knownPinStatus(KeyRole::Auth)->triesLeft, 2);
}

TEST_F(JpkiCardTest, ChangePinLastTryLocks) {
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C1")
      .expect("00 20 00 80 06 57 52 4F 4E 47 31", "63 C0");
  const ChangePinResult r = card->changePin(KeyRole::Sign, view("WRONG1"), view("NEWPASS1"));
  EXPECT_EQ(r.outcome, ChangePinOutcome::Locked);
  EXPECT_EQ(r.triesLeft, 0);
  // Now known to be locked: refused without any APDU.
  EXPECT_EQ(errorOf([&] { card->changePin(KeyRole::Sign, view("ABC123"), view("NEWPASS1")); }),
            Errc::PinLocked);
  EXPECT_EQ(script->sent.size(), 3U);
}

// A locked PIN never receives a VERIFY with data: the status query comes first and says 0.
TEST_F(JpkiCardTest, ChangePinOnLockedPinSendsNoVerify) {
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "63 C0");
  EXPECT_EQ(errorOf([&] { card->changePin(KeyRole::Auth, view("1234"), view("5678")); }),
            Errc::PinLocked);
  script->expect(selectEf(0x001B), kOk).expect(kVerifyStatus, "69 84");
  EXPECT_EQ(errorOf([&] { card->changePin(KeyRole::Sign, view("ABC123"), view("NEWPASS1")); }),
            Errc::PinLocked);
  EXPECT_EQ(script->sent.size(), 4U);
}

struct ChangeSwCase {
  const char* name;
  const char* sw;
  std::optional<ChangePinOutcome> outcome;  // nullopt: throws `error`
  Errc error;
  bool stillVerified;
};

class ChangePinAnswerTest : public JpkiCardTest,
                            public ::testing::WithParamInterface<ChangeSwCase> {};

// What the card answers to CHANGE REFERENCE DATA after a good VERIFY. Whatever it is, the new PIN
// is sent once (the strict script fails on a second CHANGE).
TEST_P(ChangePinAnswerTest, IsTyped) {
  const ChangeSwCase& c = GetParam();
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 31 32 33 34", kOk)
      .expect(kChange5678, c.sw);
  if (c.outcome) {
    const ChangePinResult r = card->changePin(KeyRole::Auth, view("1234"), view("5678"));
    EXPECT_EQ(r.outcome, *c.outcome);
    EXPECT_EQ(r.triesLeft, 3);
  } else {
    EXPECT_EQ(errorOf([&] { card->changePin(KeyRole::Auth, view("1234"), view("5678")); }),
              c.error);
  }
  EXPECT_EQ(card->verified(KeyRole::Auth), c.stillVerified);
  EXPECT_TRUE(card->mayHoldLogin() || !c.stillVerified);
}

INSTANTIATE_TEST_SUITE_P(
    Answers, ChangePinAnswerTest,
    ::testing::Values(
        ChangeSwCase{"Ok", "90 00", ChangePinOutcome::Ok, Errc::CardStatus, true},
        ChangeSwCase{"WrongData", "6A 80", ChangePinOutcome::NewPinRefused, Errc::CardStatus, true},
        ChangeSwCase{"WrongLength", "67 00", ChangePinOutcome::NewPinRefused, Errc::CardStatus,
                     true},
        ChangeSwCase{"SecurityStatus", "69 82", std::nullopt, Errc::SecurityStatus, false},
        ChangeSwCase{"Blocked", "69 84", std::nullopt, Errc::PinLocked, true},
        ChangeSwCase{"WrongP1P2", "6A 86", std::nullopt, Errc::CardStatus, true},
        ChangeSwCase{"WrongLe", "6C 04", std::nullopt, Errc::CardStatus, true},
        ChangeSwCase{"InsNotSupported", "6D 00", std::nullopt, Errc::CardStatus, true}),
    [](const auto& info) { return std::string(info.param.name); });

// The answer to the CHANGE is lost: never resent, and the error says the outcome is unknown.
TEST_F(JpkiCardTest, ChangePinLostAnswerIsNotResent) {
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 31 32 33 34", kOk)
      .expectError(kChange5678, Errc::Timeout);
  try {
    (void)card->changePin(KeyRole::Auth, view("1234"), view("5678"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::Timeout);
    EXPECT_NE(std::string(e.what()).find("whether the PIN was changed is unknown"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(card->mayHoldLogin());  // the VERIFY succeeded: logout() must clear it
  script->expect(kSelectAid, kOk);
  card->logout();
}

struct BadChange {
  KeyRole role;
  std::string current;
  std::string replacement;
  Errc error;
};

class MalformedChangeTest : public JpkiCardTest, public ::testing::WithParamInterface<BadChange> {};

// Either value of the wrong form: refused before any APDU (no transaction at all), so no try is
// spent. The current PIN is checked first.
TEST_P(MalformedChangeTest, RefusedWithoutAnyApdu) {
  const BadChange& c = GetParam();
  EXPECT_EQ(errorOf([&] { card->changePin(c.role, view(c.current), view(c.replacement)); }),
            c.error);
  EXPECT_TRUE(script->sent.empty());
  EXPECT_EQ(script->begins, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedChangeTest,
    ::testing::Values(BadChange{KeyRole::Auth, "1234", "567", Errc::NewPinFormat},
                      BadChange{KeyRole::Auth, "1234", "56789", Errc::NewPinFormat},
                      BadChange{KeyRole::Auth, "1234", "56a8", Errc::NewPinFormat},
                      BadChange{KeyRole::Auth, "1234", "", Errc::NewPinFormat},
                      BadChange{KeyRole::Auth, "1234",
                                std::string("56\0"
                                            "8",
                                            4),
                                Errc::NewPinFormat},
                      BadChange{KeyRole::Auth, "123", "5678", Errc::PinFormat},
                      BadChange{KeyRole::Auth, "12a4", "56a8", Errc::PinFormat},
                      BadChange{KeyRole::Sign, "ABC123", "NEW12", Errc::NewPinFormat},
                      BadChange{KeyRole::Sign, "ABC123", "NEWPASSWORD123456", Errc::NewPinFormat},
                      BadChange{KeyRole::Sign, "ABC123", "NEW-PASS", Errc::NewPinFormat},
                      BadChange{KeyRole::Sign, "ABC123", "NEW PASS", Errc::NewPinFormat},
                      BadChange{KeyRole::Sign, "ABC123",
                                "\xC3\x84"
                                "BCDEF",
                                Errc::NewPinFormat},
                      BadChange{KeyRole::Sign, "ABC 123", "NEWPASS1", Errc::PinFormat}));

// --- signing ----------------------------------------------------------------------------------

TEST_F(JpkiCardTest, SignOk) {
  verifyAuthOk();
  const Bytes signature(256, 0x5A);
  script->expect(selectEf(0x0017), kOk)
      .expect("80 2A 00 80 33 " + toHex(digestInfo) + " 00", withSw(signature));
  EXPECT_EQ(card->sign(KeyRole::Auth, digestInfo), signature);
  EXPECT_TRUE(card->verified(KeyRole::Auth));
}

// Issue 20: a transaction the transport kept open since the last call still has the key EF
// selected, so a second signature is one APDU; any other transaction selects it again.
TEST_F(JpkiCardTest, SignInContinuedTransactionSkipsTheKeySelect) {
  verifyAuthOk();
  const Bytes signature(256, 0x5A);
  const std::string compute = "80 2A 00 80 33 " + toHex(digestInfo) + " 00";
  script->expect(selectEf(0x0017), kOk).expect(compute, withSw(signature));
  EXPECT_EQ(card->sign(KeyRole::Auth, digestInfo), signature);
  script->continueOnNextBegin();
  script->expect(compute, withSw(signature));
  EXPECT_EQ(card->sign(KeyRole::Auth, digestInfo), signature);
  // Not continued: the card may have been used by others in between.
  script->expect(selectEf(0x0017), kOk).expect(compute, withSw(signature));
  EXPECT_EQ(card->sign(KeyRole::Auth, digestInfo), signature);
}

TEST_F(JpkiCardTest, ContinuedTransactionAfterAFailedOneSelectsAgain) {
  verifyAuthOk();
  const Bytes signature(256, 0x5A);
  const std::string compute = "80 2A 00 80 33 " + toHex(digestInfo) + " 00";
  script->expect(selectEf(0x0017), kOk).expectError(compute, Errc::Transport);
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::Transport);
  // Whatever the transport kept, a transaction that failed leaves no selection to rely on.
  script->continueOnNextBegin();
  script->expect(selectEf(0x0017), kOk).expect(compute, withSw(signature));
  EXPECT_EQ(card->sign(KeyRole::Auth, digestInfo), signature);
}

// Issue 20: the PIN counter learnt in a transaction the transport kept open is still exact in
// the next one (nobody else reached the card), so a second VERIFY needs no counter read; in any
// other transaction, and after a VERIFY answer that leaves the counter unknown, it is read again.
TEST_F(JpkiCardTest, CounterLearntInAContinuedTransactionIsNotReadAgain) {
  verifyAuthOk();
  script->continueOnNextBegin();
  script->expect("00 20 00 80 04 31 32 33 34", kOk);
  EXPECT_EQ(card->verify(KeyRole::Auth, view("1234")).outcome, VerifyOutcome::Ok);
  // Not continued: another program may have spent tries.
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 31 32 33 34", "6F 00");
  EXPECT_EQ(errorOf([&] { card->verify(KeyRole::Auth, view("1234")); }), Errc::CardStatus);
  // The odd answer left the counter unknown: read again, even though continued.
  script->continueOnNextBegin();
  script->expect(kVerifyStatus, "63 C2").expect("00 20 00 80 04 31 32 33 34", kOk);
  EXPECT_EQ(card->verify(KeyRole::Auth, view("1234")).outcome, VerifyOutcome::Ok);
}

// A card that lost its state without PC/SC telling (fault matrix: "card lost its login
// silently") while the AP was believed current: the missing key EF means the AP is gone, so the
// login is gone too; SELECT AID, no COMPUTE, and the caller is told to log in again.
TEST_F(JpkiCardTest, KeyEfMissingInAContinuedTransactionMeansTheLoginIsLost) {
  verifyAuthOk();
  script->continueOnNextBegin();
  script->expect(selectEf(0x0017), kNotFound).expect(kSelectAid, kOk);
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::SecurityStatus);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
  // The next login selects the PIN EF of the AP now current and verifies.
  script->continueOnNextBegin();
  // The counter is still exact (nobody else reached the card): not read again.
  script->expect(selectEf(0x0018), kOk).expect("00 20 00 80 04 31 32 33 34", kOk);
  EXPECT_EQ(card->verify(KeyRole::Auth, view("1234")).outcome, VerifyOutcome::Ok);
}

TEST_F(JpkiCardTest, SignViaGetResponse) {
  verifyAuthOk();
  const Bytes signature(256, 0x5A);
  script->expect(selectEf(0x0017), kOk)
      .expect("80 2A 00 80 33 " + toHex(digestInfo) + " 00", "61 00")
      .expect("00 C0 00 00 00", withSw(signature));
  EXPECT_EQ(card->sign(KeyRole::Auth, digestInfo), signature);
}

TEST_F(JpkiCardTest, SignRejectsBadSizesWithoutApdu) {
  verifyAuthOk();
  const std::size_t before = script->sent.size();
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, Bytes{}); }), Errc::InvalidInput);
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, Bytes(246, 1)); }), Errc::InvalidInput);
  EXPECT_EQ(script->sent.size(), before);
}

TEST_F(JpkiCardTest, SignWithoutVerifyIsSecurityStatusWithoutApdu) {
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Sign, digestInfo); }), Errc::SecurityStatus);
  EXPECT_TRUE(script->sent.empty());
}

TEST_F(JpkiCardTest, SignAfterResetIsSecurityStatus) {
  verifyAuthOk();
  script->resetOnNextBegin();
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::SecurityStatus);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
  EXPECT_EQ(card->resetGeneration(), 1U);
  EXPECT_EQ(script->sent.size(), 3U);  // nothing sent after the reset
}

TEST_F(JpkiCardTest, ResetWithKnownIdentityRechecksOneChunk) {
  learnIdentity(authCert);
  verifyAuthOk();
  script->resetOnNextBegin();
  // After the reset the ISD is current: 0018 is not found, so SELECT AID; then ONE chunk of 000A.
  script->expect(selectEf(0x0018), kNotFound)
      .expect(kSelectAid, kOk)
      .expect(selectEf(0x000A), kOk)
      .expect(readBinary(0, 0), withSw(slice(authCert, 0, 256)));
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::SecurityStatus);
  EXPECT_EQ(card->resetGeneration(), 1U);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
  EXPECT_TRUE(card->identityKnown());
}

TEST_F(JpkiCardTest, ResetRecheckWithWholeCertificateCachedReadsOneChunk) {
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000A), kOk);
  expectReads(authCert);
  (void)card->certificate(CertFile::Auth);
  (void)card->identity();  // from the cached certificate: no APDU
  script->resetOnNextBegin();
  script
      ->expect(selectEf(0x0018), kOk)  // the card came back with JPKI current
      .expect(selectEf(0x000A), kOk)
      .expect(readBinary(0, 0), withSw(slice(authCert, 0, 256)))
      .expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3");
  EXPECT_EQ(card->pinStatus(KeyRole::Auth).triesLeft, 3);
  EXPECT_EQ(card->certificate(CertFile::Auth), authCert);  // still cached
  EXPECT_EQ(script->sent.size(), 13U);
}

TEST_F(JpkiCardTest, CardReplacedAfterReset) {
  learnIdentity(authCert);
  const Bytes other = fakeCert(1400, 2);
  script->resetOnNextBegin();
  script->expect(selectEf(0x0018), kNotFound)
      .expect(kSelectAid, kOk)
      .expect(selectEf(0x000A), kOk)
      .expect(readBinary(0, 0), withSw(slice(other, 0, 256)));
  EXPECT_EQ(errorOf([&] { card->pinStatus(KeyRole::Auth); }), Errc::CardReplaced);
  EXPECT_FALSE(card->certificateCached(CertFile::Auth));
  EXPECT_FALSE(card->identityKnown());
}

TEST_F(JpkiCardTest, WrongApplicationSelectedLosesLogin) {
  verifyAuthOk();
  // Another process selected a different AP: the key EF is not found.
  script->expect(selectEf(0x0017), "6A 82").expect(kSelectAid, kOk);
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::SecurityStatus);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
}

TEST_F(JpkiCardTest, CardSays6982OnSign) {
  verifyAuthOk();
  script->expect(selectEf(0x0017), kOk)
      .expect("80 2A 00 80 33 " + toHex(digestInfo) + " 00", "69 82");
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::SecurityStatus);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
}

TEST_F(JpkiCardTest, ShortSignatureIsBadResponse) {
  verifyAuthOk();
  script->expect(selectEf(0x0017), kOk)
      .expect("80 2A 00 80 33 " + toHex(digestInfo) + " 00", "01 02 03 90 00");
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::BadResponse);
}

TEST_F(JpkiCardTest, ReadWhileLoggedInKeepsLogin) {
  verifyAuthOk();
  const Bytes ca = fakeCert(300, 4);
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000B), kOk);
  expectReads(ca);
  EXPECT_EQ(card->certificate(CertFile::AuthCa), ca);
  EXPECT_TRUE(card->verified(KeyRole::Auth));
}

TEST_F(JpkiCardTest, ReadWhileLoggedInButOtherApSelected) {
  verifyAuthOk();
  const Bytes ca = fakeCert(300, 4);
  script->expect(selectEf(0x0018), "6A 82").expect(kSelectAid, kOk).expect(selectEf(0x000B), kOk);
  expectReads(ca);
  EXPECT_EQ(card->certificate(CertFile::AuthCa), ca);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
}

TEST_F(JpkiCardTest, Sw6984OnAReadIsNotAPinLock) {
  script->expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x0006), kOk)
      .expect("00 B0 00 00 20", "69 84");
  EXPECT_EQ(errorOf([&] { card->tokenLabel(); }), Errc::CardStatus);
}

TEST_F(JpkiCardTest, TokenLabel6CxxResend) {
  script->expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x0006), kOk)
      .expect("00 B0 00 00 20", "6C 0F")
      .expect("00 B0 00 00 0F", "4A504B49415049434354 4F4B454E32 90 00");
  EXPECT_EQ(card->kind(), CardKind::MyNumberCard);
}

TEST_F(JpkiCardTest, LogoutReselectsAid) {
  verifyAuthOk();
  script->expect(kSelectAid, kOk);
  card->logout();
  EXPECT_FALSE(card->verified(KeyRole::Auth));
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::SecurityStatus);
}

// Nothing of ours can be verified: no SELECT AID (it would log out other processes).
TEST_F(JpkiCardTest, LogoutWithoutLoginSendsNothing) {
  card->logout();
  EXPECT_FALSE(card->mayHoldLogin());
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 39 39 39 39", "63 C2");
  EXPECT_EQ(card->verify(KeyRole::Auth, view("9999")).outcome, VerifyOutcome::WrongPin);
  card->logout();  // a refused PIN leaves nothing verified: still no APDU
}

// A VERIFY whose answer was lost may have verified the PIN: logout clears the card anyway.
TEST_F(JpkiCardTest, LogoutAfterVerifyWithLostAnswerReselectsAid) {
  script->expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expectError("00 20 00 80 04 31 32 33 34", Errc::Transport);
  EXPECT_EQ(errorOf([&] { card->verify(KeyRole::Auth, view("1234")); }), Errc::Transport);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
  EXPECT_TRUE(card->mayHoldLogin());
  script->expect(kSelectAid, kOk);
  card->logout();
  EXPECT_FALSE(card->mayHoldLogin());
}

TEST_F(JpkiCardTest, TransportErrorsPropagateAndCloseTransaction) {
  script->expect(selectEf(0x0018), kOk).expectError(selectEf(0x000A), Errc::CardRemoved);
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::Auth); }), Errc::CardRemoved);
  script->beginError = Errc::NoCard;
  EXPECT_EQ(errorOf([&] { card->certificate(CertFile::Auth); }), Errc::NoCard);
}

TEST_F(JpkiCardTest, ResetDuringTransactionDropsLogin) {
  verifyAuthOk();
  script->expect(selectEf(0x0017), kOk)
      .expectError("80 2A 00 80 33 " + toHex(digestInfo) + " 00", Errc::CardReset);
  EXPECT_EQ(errorOf([&] { card->sign(KeyRole::Auth, digestInfo); }), Errc::CardReset);
  EXPECT_FALSE(card->verified(KeyRole::Auth));
  EXPECT_GE(card->resetGeneration(), 1U);
}

// --- AP confirmation without SELECT AID ---------------------------------------------------------

TEST_F(JpkiCardTest, ApConfirmedByPinEfSelectWithoutSelectAid) {
  // Three operations, three transactions: each confirms the AP through the EF it needs anyway.
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "63 C3");
  (void)card->pinStatus(KeyRole::Auth);
  script->expect(selectEf(0x001B), kOk).expect(kVerifyStatus, "63 C5");
  (void)card->pinStatus(KeyRole::Sign);
  verifyAuthOkKnownTries();
  for (const std::string& apdu : script->sent) {
    EXPECT_NE(apdu, normHex(kSelectAid)) << "SELECT AID would log out other processes";
  }
  EXPECT_EQ(script->begins, 3);
}

TEST_F(JpkiCardTest, FallbackToSelectAidOn6A82) {
  // Power-on: the ISD is current, the PIN EF is not found; SELECT AID, then the PIN EF again.
  script->expect(selectEf(0x0018), kNotFound)
      .expect(kSelectAid, kOk)
      .expect(selectEf(0x0018), kOk)
      .expect(kVerifyStatus, "63 C3")
      .expect("00 20 00 80 04 31 32 33 34", kOk);
  EXPECT_EQ(card->verify(KeyRole::Auth, view("1234")).outcome, VerifyOutcome::Ok);
  EXPECT_TRUE(card->verified(KeyRole::Auth));
}

TEST_F(JpkiCardTest, FileReadConfirmsApThroughVerifiedSignPinEf) {
  script->expect(selectEf(0x001B), kOk)
      .expect(kVerifyStatus, "63 C5")
      .expect("00 20 00 80 06 41 42 43 31 32 33", kOk);
  ASSERT_EQ(card->verify(KeyRole::Sign, view("ABC123")).outcome, VerifyOutcome::Ok);
  const Bytes ca = fakeCert(300, 4);
  script->expect(selectEf(0x001B), kOk).expect(selectEf(0x0002), kOk);
  expectReads(ca);
  EXPECT_EQ(card->certificate(CertFile::SignCa), ca);
  EXPECT_TRUE(card->verified(KeyRole::Sign));
}

TEST_F(JpkiCardTest, EnsureJpkiOnceWithOneApdu) {
  script->expect(selectEf(0x0018), kOk);
  card->ensureJpki();
  card->ensureJpki();  // known: no APDU, no transaction
  EXPECT_EQ(script->sent.size(), 1U);
  EXPECT_EQ(script->begins, 1);
}

// --- batch: one transaction for several calls ---------------------------------------------------

TEST_F(JpkiCardTest, BatchIsOneTransactionWithoutRepeatedSelects) {
  {
    JpkiCard::Batch batch(*card);
    EXPECT_EQ(script->begins, 0);  // begun lazily
    script->expect(selectEf(0x0018), kOk)
        .expect(kVerifyStatus, "63 C3")
        .expect(kVerifyStatus, "63 C3")  // 0018 still current: not selected again
        .expect(selectEf(0x0006), kOk)
        .expect("00 B0 00 00 20", "4A504B49415049434354 4F4B454E32 90 00")
        .expect(selectEf(0x000A), kOk)
        .expect(readBinary(0, 0), withSw(slice(authCert, 0, 256)))
        .expect(selectEf(0x001B), kOk)
        .expect(kVerifyStatus, "63 C5");
    (void)card->pinStatus(KeyRole::Auth);
    (void)card->pinStatus(KeyRole::Auth);
    EXPECT_EQ(card->kind(), CardKind::MyNumberCard);
    EXPECT_EQ(card->identity(), sha256(slice(authCert, 0, 256)));
    {
      JpkiCard::Batch nested(*card);
      (void)card->pinStatus(KeyRole::Sign);
    }
    EXPECT_TRUE(script->inTransaction);  // the nested batch did not end it
    EXPECT_EQ(script->begins, 1);
  }
  EXPECT_FALSE(script->inTransaction);
  EXPECT_EQ(script->begins, 1);
  EXPECT_EQ(script->ends, 1);
  EXPECT_EQ(script->sent.size(), 9U);
}

TEST_F(JpkiCardTest, BatchWithEverythingCachedSendsNothing) {
  learnIdentity(authCert);
  const int before = script->begins;
  {
    JpkiCard::Batch batch(*card);
    (void)card->identity();
  }
  EXPECT_EQ(script->begins, before);
}

TEST_F(JpkiCardTest, BatchLoginThenCaReadKeepsSelection) {
  const Bytes ca = fakeCert(300, 4);
  {
    JpkiCard::Batch batch(*card);
    script->expect(selectEf(0x0018), kOk)
        .expect(kVerifyStatus, "63 C3")
        .expect("00 20 00 80 04 31 32 33 34", kOk)
        .expect(selectEf(0x000B), kOk);  // AP confirmed in this transaction: no probe
    expectReads(ca);
    script->expect(selectEf(0x0017), kOk)
        .expect("80 2A 00 80 33 " + toHex(digestInfo) + " 00", withSw(Bytes(256, 0x5A)));
    ASSERT_EQ(card->verify(KeyRole::Auth, view("1234")).outcome, VerifyOutcome::Ok);
    EXPECT_EQ(card->certificate(CertFile::AuthCa), ca);
    EXPECT_EQ(card->sign(KeyRole::Auth, digestInfo), Bytes(256, 0x5A));
  }
  EXPECT_EQ(script->begins, 1);
}

TEST_F(JpkiCardTest, BatchAfterTransportErrorBeginsAFreshTransaction) {
  JpkiCard::Batch batch(*card);
  script->expect(selectEf(0x0018), kOk).expectError(kVerifyStatus, Errc::Timeout);
  EXPECT_EQ(errorOf([&] { card->pinStatus(KeyRole::Auth); }), Errc::Timeout);
  script->expect(selectEf(0x0018), kOk).expect(kVerifyStatus, "63 C3");  // AP confirmed anew
  EXPECT_EQ(card->pinStatus(KeyRole::Auth).triesLeft, 3);
  EXPECT_EQ(script->begins, 2);
  EXPECT_EQ(script->ends, 1);
}

// --- identity from one chunk ------------------------------------------------------------------

TEST_F(JpkiCardTest, IdentityFromOneChunkThenCertificateContinues) {
  learnIdentity(authCert);
  EXPECT_EQ(script->sent.size(), 3U);
  EXPECT_FALSE(card->certificateCached(CertFile::Auth));
  // The whole certificate when asked for: continues at offset 256, the first chunk is not re-read.
  script->expect(selectEf(0x0018), kOk).expect(selectEf(0x000A), kOk);
  test::expectReads(*script, authCert, 256);
  EXPECT_EQ(card->certificate(CertFile::Auth), authCert);
  EXPECT_EQ(card->identity(), sha256(slice(authCert, 0, 256)));  // unchanged
}

TEST_F(JpkiCardTest, IdentityOfShortCertificateIsItsWholeDer) {
  const Bytes shortCert = fakeCert(200, 8);
  script->expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x000A), kOk)
      .expect(readBinary(0, 0), withSw(shortCert));
  EXPECT_EQ(card->identity(), sha256(shortCert));
  EXPECT_EQ(card->certificate(CertFile::Auth), shortCert);  // complete already: no APDU
  EXPECT_EQ(script->sent.size(), 3U);
}

TEST_F(JpkiCardTest, EnsureJpkiOnColdCardIsProbeThenSelectAid) {
  script->expect(selectEf(0x0018), kNotFound).expect(kSelectAid, kOk);  // nothing re-selected
  card->ensureJpki();
  card->ensureJpki();
  EXPECT_EQ(script->sent.size(), 2U);
}

TEST_F(JpkiCardTest, CertificatePresenceBySelectOnly) {
  JpkiCard::Batch batch(*card);
  script->expect(selectEf(0x0018), kOk)
      .expect(selectEf(0x0001), kOk)
      .expect(selectEf(0x0002), kNotFound);
  EXPECT_TRUE(card->certificatePresent(CertFile::Sign));  // no PIN needed for the SELECT
  EXPECT_FALSE(card->certificatePresent(CertFile::SignCa));
  EXPECT_TRUE(card->certificatePresent(CertFile::Sign));  // cached
  EXPECT_EQ(script->sent.size(), 3U);
}

}  // namespace
}  // namespace jpki
