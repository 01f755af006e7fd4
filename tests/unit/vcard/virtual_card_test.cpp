// SPDX-License-Identifier: MIT
// The VirtualCard command set, rule by rule (jpki-card.md §10), mostly as APDU scripts.
#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <random>
#include <vector>

#include "vcard_test_support.h"

namespace jpki::vcard::test {
namespace {

struct Step {
  std::string command;
  std::string sw;  // expected status word, 4 hex digits
};

struct Script {
  const char* name;
  Profile profile;
  std::vector<Step> steps;
};

class CardScriptTest : public ::testing::TestWithParam<Script> {};

TEST_P(CardScriptTest, AnswersEachStep) {
  const Script& script = GetParam();
  auto card = makeCard(script.profile);
  for (std::size_t i = 0; i < script.steps.size(); ++i) {
    const Step& step = script.steps[i];
    EXPECT_EQ(sw(*card, step.command), step.sw) << "step " << i << ": " << step.command;
  }
}

const std::string kSelAuthPin = selectEf("0018");
const std::string kSelSignPin = selectEf("001B");
const std::string kSign51 = "802A008033" + kSha256Prefix + std::string(64, 'A') + "00";
const std::string kChangeAuth5678 =
    "0024018004"
    "35363738";

INSTANTIATE_TEST_SUITE_P(
    Rules, CardScriptTest,
    ::testing::Values(
        // SELECT by AID.
        Script{"SelectJpki", Profile::Normal, {{kSelectJpki, "9000"}}},
        Script{"SelectUnknownAidKeepsState",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {selectEf("000A"), "9000"},
                {"00A4040C07A0000003080000", "6A82"},  // wrong length for PIV, still unknown
                {"00A4040C0BA000000308000010000100", "6A82"},
                {"00B0000004", "9000"}}},
        Script{"SelectAidP2Not0C",
               Profile::Normal,
               {{"00A40400"
                 "0AD392F000260100000001",
                 "6A86"}}},
        Script{"SelectUnknownP1", Profile::Normal, {{"00A4000C023F00", "6A86"}}},
        Script{"SelectWithLe", Profile::Normal, {{"00A4040C0AD392F00026010000000100", "6700"}}},
        Script{"SelectWithoutData", Profile::Normal, {{"00A4040C", "6700"}}},
        // SELECT EF.
        Script{"SelectEfBeforeAid", Profile::Normal, {{selectEf("000A"), "6A82"}}},
        Script{"SelectEveryJpkiEf",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {selectEf("0001"), "9000"},
                {selectEf("0002"), "9000"},
                {selectEf("0006"), "9000"},
                {selectEf("0008"), "9000"},
                {selectEf("000A"), "9000"},
                {selectEf("000B"), "9000"},
                {selectEf("0017"), "9000"},
                {selectEf("0018"), "9000"},
                {selectEf("001A"), "9000"},
                {selectEf("001B"), "9000"}}},
        Script{"SelectUnknownEf",
               Profile::Normal,
               {{kSelectJpki, "9000"}, {selectEf("0003"), "6A82"}, {selectEf("3F00"), "6A82"}}},
        Script{"SelectEfBadFidLength",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {"00A4020C01"
                 "0A",
                 "6700"}}},
        Script{"SelectEfP2Not0C",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {"00A40200"
                 "02000A",
                 "6A86"}}},
        Script{"NoSignCertHasNoSignFiles",
               Profile::NoSignCert,
               {{kSelectJpki, "9000"},
                {selectEf("0001"), "6A82"},
                {selectEf("001A"), "6A82"},
                {selectEf("001B"), "9000"},
                {selectEf("000A"), "9000"}}},
        // READ BINARY.
        Script{"ReadWithoutEf", Profile::Normal, {{kSelectJpki, "9000"}, {"00B0000004", "6986"}}},
        Script{"ReadBeforeAnySelect", Profile::Normal, {{"00B0000004", "6986"}}},
        Script{"ReadKeyAndPinEfs",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {selectEf("0017"), "9000"},
                {"00B0000004", "6981"},
                {kSelAuthPin, "9000"},
                {"00B0000004", "6981"}}},
        Script{"ReadSignCertNeedsSignPin",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {selectEf("0001"), "9000"},
                {"00B0000004", "6982"},
                {kVerifyAuthOk, "6986"},  // current EF is not a PIN
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {selectEf("0001"), "9000"},
                {"00B0000004", "6982"},  // the auth PIN does not open it
                {kSelSignPin, "9000"},
                {kVerifySignOk, "9000"},
                {selectEf("0001"), "9000"},
                {"00B0000004", "9000"}}},
        Script{"ReadOffsetBeyondEnd",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {selectEf("0008"), "9000"},
                {"00B0000200", "9000"},
                {"00B0000300", "6B00"},
                {"00B07FFF01", "6B00"}}},
        Script{"ReadMalformed",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {selectEf("000A"), "9000"},
                {"00B00000", "6700"},
                {"00B0000001AA", "6700"},
                {"00B00000"
                 "01AA00",
                 "6700"}}},
        Script{"ReadSfi",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {"00B08A0004", "9000"},
                {"00B0810004", "6982"},  // SFI 1 = sign certificate
                {"00B0830004", "6A82"},
                {"00B0CA0004", "6A86"}}},
        // VERIFY.
        Script{"VerifyAuthCounter",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {"00200080", "63C3"},
                {"0020008004"
                 "30303030",
                 "63C2"},
                {"00200080", "63C2"},
                {kVerifyAuthOk, "9000"},
                {"00200080", "63C3"},  // never 9000, even when verified
                {kVerifyAuthOk, "9000"}}},
        Script{"VerifyAuthLockout",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {"0020008004"
                 "30303030",
                 "63C2"},
                {"0020008004"
                 "30303030",
                 "63C1"},
                {"0020008004"
                 "30303030",
                 "63C0"},
                {kVerifyAuthOk, "6984"},
                {"0020008004"
                 "30303030",
                 "6984"},
                {"00200080", "63C0"},
                {kSelSignPin, "9000"},
                {"00200080", "63C5"},  // separate counters
                {kVerifySignOk, "9000"}}},
        Script{"VerifySignLowerCaseIsWrong",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelSignPin, "9000"},
                {"00200080", "63C5"},
                {"0020008006"
                 "616263313233",
                 "63C4"},
                {"002000800B"
                 "4142433132333435363738",
                 "63C3"},
                {kVerifySignOk, "9000"},
                {"00200080", "63C5"}}},
        Script{
            "VerifyWithoutEf", Profile::Normal, {{kSelectJpki, "9000"}, {kVerifyAuthOk, "6986"}}},
        Script{"VerifyBadP1P2",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {"0020008104"
                 "31323334",
                 "6A86"},
                {"0020018004"
                 "31323334",
                 "6A86"},
                {"0020008004"
                 "3132333400",
                 "6700"}}},
        Script{"LockedProfile",
               Profile::Locked,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {"00200080", "63C0"},
                {kVerifyAuthOk, "6984"},
                {kSelSignPin, "9000"},
                {kVerifySignOk, "6984"}}},
        // CHANGE REFERENCE DATA (P1=01: the new value only, after VERIFY).
        Script{"ChangeAuthPin",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kChangeAuth5678, "6982"},  // not verified
                {kVerifyAuthOk, "9000"},
                {kChangeAuth5678, "9000"},
                {"00200080", "63C3"},     // no try spent by the change
                {kVerifyAuthOk, "63C2"},  // the old PIN is wrong now
                {"0020008004"
                 "35363738",
                 "9000"},
                {"00200080", "63C3"}}},
        Script{"ChangeAuthRules",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {"0024018003"
                 "353637",
                 "6A80"},
                {"0024018005"
                 "3536373839",
                 "6A80"},
                {"0024018004"
                 "35364138",
                 "6A80"},  // "56A8"
                {"0024018004"
                 "3536FF38",
                 "6A80"},
                {"0024008004"
                 "35363738",
                 "6A86"},  // P1=00 (old and new together): not modelled
                {"0024018104"
                 "35363738",
                 "6A86"},
                {"0024028004"
                 "35363738",
                 "6A86"},
                {"0024018004"
                 "3536373800",
                 "6700"},              // with Le
                {"00240180", "6700"},  // no data
                {"00200080", "63C3"},
                {kVerifyAuthOk, "9000"}}},  // unchanged by the refused values
        Script{"ChangeSignRules",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelSignPin, "9000"},
                {kVerifySignOk, "9000"},
                {"0024018008"
                 "6E65777061737331",
                 "6A80"},  // "newpass1": the card stores upper case
                {"0024018005"
                 "4E45573132",
                 "6A80"},
                {"0024018011"
                 "4E45575041535331323334353637383930",
                 "6A80"},  // 17
                {"0024018008"
                 "4E45572D50415353",
                 "6A80"},  // "NEW-PASS"
                {"0024018010"
                 "4E4557504153533132333435363738"
                 "39",
                 "9000"},  // 16
                {kVerifySignOk, "63C4"},
                {"0020008010"
                 "4E4557504153533132333435363738"
                 "39",
                 "9000"},
                {"0024018006"
                 "313233343536",
                 "9000"},  // digits only are fine
                {"0020008006"
                 "313233343536",
                 "9000"}}},
        Script{"ChangeNeedsThePinEf",
               Profile::Normal,
               {{kChangeAuth5678, "6986"},  // nothing selected
                {kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {selectEf("000A"), "9000"},
                {kChangeAuth5678, "6986"},
                {selectEf("0017"), "9000"},
                {kChangeAuth5678, "6986"},
                {kSelAuthPin, "9000"},
                {kChangeAuth5678, "9000"}}},
        Script{"ChangeNeedsThisPinVerified",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {kSelSignPin, "9000"},
                {"0024018006"
                 "4E4557313233",
                 "6982"},  // the auth PIN does not open the password
                {kSelAuthPin, "9000"},
                {"0020008004"
                 "30303030",
                 "63C2"},  // a failed VERIFY clears the flag
                {kChangeAuth5678, "6982"},
                {kVerifyAuthOk, "9000"},
                {kSelectJpki, "9000"},  // so does SELECT AID
                {kSelAuthPin, "9000"},
                {kChangeAuth5678, "6982"},
                {kVerifyAuthOk, "9000"}}},
        Script{"ChangeLockedPin",
               Profile::Locked,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kChangeAuth5678, "6984"},
                {kSelSignPin, "9000"},
                {"0024018006"
                 "4E4557313233",
                 "6984"}}},
        // COMPUTE DIGITAL SIGNATURE.
        Script{"SignWithoutPin",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {selectEf("0017"), "9000"},
                {kSign51, "6982"},
                {selectEf("001A"), "9000"},
                {kSign51, "6982"}}},
        Script{"SignWithWrongPin",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {selectEf("001A"), "9000"},
                {kSign51, "6982"},
                {selectEf("0017"), "9000"},
                {kSign51, "9000"},
                {kSign51, "9000"}}},  // the PIN is not consumed by a signature
        Script{"SignNeedsKeyEf",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {kSign51, "6982"},  // current EF is the PIN
                {selectEf("000A"), "9000"},
                {kSign51, "6982"}}},
        Script{"SignParametersAndLength",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {selectEf("0017"), "9000"},
                {"802A018003AABBCC00", "6A86"},
                {"802A008103AABBCC00", "6A86"},
                {"802A0080"
                 "00",
                 "6700"},
                {"802A0080", "6700"},
                {"802A0080F6" + std::string(std::size_t{246} * 2, 'A') + "00", "6700"},
                {"802A0080F5" + std::string(std::size_t{245} * 2, 'A') + "00", "9000"},
                {"802A008001AA00", "9000"},
                {"802A008001AA", "9000"},  // case 3 is accepted too
                {"002A008001AA00", "6D00"}}},
        Script{"ReselectAidClearsFlags",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {kSelectJpki, "9000"},
                {selectEf("0017"), "9000"},
                {kSign51, "6982"}}},
        Script{"TextApLeavesJpki",
               Profile::Normal,
               {{kSelectJpki, "9000"},
                {kSelAuthPin, "9000"},
                {kVerifyAuthOk, "9000"},
                {kSelectText, "9000"},
                {selectEf("000A"), "6A82"},
                {selectEf("0017"), "6A82"},
                {selectEf("0001"), "9000"},
                {"00B0000000", "9000"},
                {kSelectJpki, "9000"},
                {selectEf("0017"), "9000"},
                {kSign51, "6982"}}},
        // GET CHALLENGE.
        Script{"GetChallenge",
               Profile::Normal,
               {{"0084000008", "9000"},
                {"0084000000", "9000"},
                {"0084010008", "6A86"},
                {"00840000", "6700"},
                {"00840000000008", "6985"}}},
        // CLA / INS.
        Script{"ClassAndInstruction",
               Profile::Normal,
               {{"01A4040C0AD392F000260100000001", "6881"},
                {"03B0000004", "6881"},
                {"0CA4040C0AD392F000260100000001", "6882"},
                {"10A4040C0AD392F000260100000001", "6E00"},
                {"A0A4040C0AD392F000260100000001", "6E00"},
                {"FFB0000004", "6E00"},
                {"00CA5F5100", "6D00"},
                {"80A4040C0AD392F000260100000001", "6D00"},
                {"002C018004"
                 "35363738",
                 "6D00"}}},  // RESET RETRY COUNTER: not offered
        Script{"Malformed",
               Profile::Normal,
               {{"00A4040C0BD392F000260100000001", "6700"},
                {"00A4040C09D392F000260100000001", "6700"},
                {"802A00800000", "6700"}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(VirtualCard, ShortInputsAnswer6700) {
  auto card = makeCard();
  for (const Bytes& raw : {Bytes{}, Bytes{0x00}, Bytes{0x00, 0xA4}, Bytes{0x00, 0xA4, 0x04}}) {
    EXPECT_EQ(swOf(card->process(raw)), 0x6700);
  }
}

// Any byte string gets an answer of at least a status word; nothing throws or crashes.
TEST(VirtualCard, RandomInputNeverCrashes) {
  auto card = makeCard();
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    Bytes raw(rng() % 12);
    for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
    if (raw.size() > 1 && i % 3 == 0) raw[0] = 0x00;
    if (raw.size() > 1 && i % 5 == 0) raw[1] = 0xB0;
    if (i % 100 == 0) send(*card, kSelectJpki);
    Bytes response;
    ASSERT_NO_THROW(response = card->process(raw));
    ASSERT_GE(response.size(), 2U);
  }
}

// Reads a whole EF in 256-byte chunks the way OpenSC does.
Bytes readAll(VirtualCard& card) {
  Bytes out;
  for (std::size_t offset = 0;; offset += 256) {
    char cmd[16];
    std::snprintf(cmd, sizeof cmd, "00B0%04zX00", offset);
    Bytes r = send(card, cmd);
    if (swOf(r) == 0x6B00) break;
    EXPECT_EQ(swOf(r), 0x9000);
    out.insert(out.end(), r.begin(), r.end() - 2);
    if (r.size() - 2 < 256) break;
  }
  return out;
}

TEST(VirtualCard, CertificateEfsHoldExactlyTheDer) {
  auto card = makeCard();
  send(*card, kSelectJpki);
  send(*card, selectEf("000A"));
  const Bytes header = send(*card, "00B0000004");
  ASSERT_EQ(header.size(), 6U);
  EXPECT_EQ(header[0], 0x30);
  EXPECT_EQ(header[1], 0x82);
  EXPECT_EQ((header[2] << 8 | header[3]) + 4U, sharedPki().authCert.size());
  EXPECT_EQ(readAll(*card), sharedPki().authCert);
  send(*card, selectEf("000B"));
  EXPECT_EQ(readAll(*card), sharedPki().authCaCert);
  send(*card, selectEf("0002"));
  EXPECT_EQ(readAll(*card), sharedPki().signCaCert);
  send(*card, selectEf("001B"));
  send(*card, kVerifySignOk);
  send(*card, selectEf("0001"));
  EXPECT_EQ(readAll(*card), sharedPki().signCert);
}

TEST(VirtualCard, ReadReturnsMinOfLeAndRemaining) {
  auto card = makeCard();
  send(*card, kSelectJpki);
  send(*card, selectEf("0008"));
  EXPECT_EQ(hexOf(send(*card, "00B0000000")), "8F8F009000");
  EXPECT_EQ(hexOf(send(*card, "00B0000101")), "8F9000");
  EXPECT_EQ(hexOf(send(*card, "00B0000205")), "009000");
}

struct TokenCase {
  Profile profile;
  std::string label;
  std::string presence;
};

class TokenInfoTest : public ::testing::TestWithParam<TokenCase> {};

TEST_P(TokenInfoTest, LabelAndPresence) {
  auto card = makeCard(GetParam().profile);
  send(*card, kSelectJpki);
  send(*card, selectEf("0006"));
  const Bytes info = send(*card, "00B0000000");
  ASSERT_EQ(info.size(), 162U);  // 160 bytes + SW
  std::string label(info.begin(), info.begin() + 32);
  EXPECT_EQ(label, GetParam().label + std::string(32 - GetParam().label.size(), ' '));
  send(*card, selectEf("0008"));
  EXPECT_EQ(hexOf(send(*card, "00B0000000")), GetParam().presence + "9000");
}

INSTANTIATE_TEST_SUITE_P(Profiles, TokenInfoTest,
                         ::testing::Values(TokenCase{Profile::Normal, "JPKIAPICCTOKEN2", "8F8F00"},
                                           TokenCase{Profile::Juki, "JPKIAPICCTOKEN", "8F8F00"},
                                           TokenCase{Profile::NoSignCert, "JPKIAPICCTOKEN2",
                                                     "008F00"}));

// The signature is PKCS#1 v1.5 over the DigestInfo as sent and verifies with the certificate.
TEST(VirtualCard, SignaturesVerifyWithTheCertificates) {
  auto card = makeCard();
  Bytes digestInfo = hex(kSha256Prefix);
  Bytes hash(32);
  RAND_bytes(hash.data(), 32);
  digestInfo.insert(digestInfo.end(), hash.begin(), hash.end());
  const std::string command = "802A008033" + hexOf(digestInfo) + "00";

  send(*card, kSelectJpki);
  send(*card, selectEf("0018"));
  ASSERT_EQ(sw(*card, kVerifyAuthOk), "9000");
  send(*card, selectEf("0017"));
  Bytes sig = send(*card, command);
  ASSERT_EQ(sig.size(), 258U);
  ASSERT_EQ(swOf(sig), 0x9000);
  sig.resize(256);
  EXPECT_TRUE(verifySignature(sharedPki().authCert, digestInfo, sig));
  EXPECT_FALSE(verifySignature(sharedPki().signCert, digestInfo, sig));

  send(*card, selectEf("001B"));
  ASSERT_EQ(sw(*card, kVerifySignOk), "9000");
  send(*card, selectEf("001A"));
  sig = send(*card, command);
  ASSERT_EQ(swOf(sig), 0x9000);
  sig.resize(256);
  EXPECT_TRUE(verifySignature(sharedPki().signCert, digestInfo, sig));
}

TEST(VirtualCard, ResetClearsSelectionAndFlags) {
  auto card = makeCard();
  send(*card, kSelectJpki);
  send(*card, selectEf("001B"));
  send(*card, kVerifySignOk);
  EXPECT_TRUE(card->verified(true));
  card->reset();
  EXPECT_FALSE(card->verified(true));
  EXPECT_EQ(sw(*card, "00B0000004"), "6986");
  send(*card, kSelectJpki);
  send(*card, selectEf("0001"));
  EXPECT_EQ(sw(*card, "00B0000004"), "6982");
}

TEST(VirtualCard, LogMasksVerifyAndChangeData) {
  auto card = makeCard();
  send(*card, kSelectJpki);
  send(*card, selectEf("0018"));
  send(*card, kVerifyAuthOk);
  send(*card, kChangeAuth5678);
  ASSERT_EQ(card->log().size(), 4U);
  EXPECT_EQ(card->log()[0].command, kSelectJpki);
  EXPECT_EQ(card->log()[0].response, "9000");
  EXPECT_EQ(card->log()[2].command, "0020008004**");
  EXPECT_EQ(card->log()[2].sw, 0x9000);
  EXPECT_EQ(card->log()[3].command, "0024018004**");
  EXPECT_EQ(card->log()[3].sw, 0x9000);
  for (const LogEntry& e : card->log()) {
    EXPECT_EQ(e.command.find("31323334"), std::string::npos);
    EXPECT_EQ(e.command.find("35363738"), std::string::npos);
  }
  EXPECT_EQ(maskedCommand(hex("0024018006"
                              "4E4557313233")),
            "0024018006**");
  card->clearLog();
  EXPECT_TRUE(card->log().empty());
}

TEST(VirtualCard, CustomPinsAndAtr) {
  CardOptions options;
  options.authPin = "9876";
  options.signPin = "PASSWORD1";
  options.atr = hex("3BC5FF8131FB4580 73C6010000");
  VirtualCard card(sharedPki(), options);
  EXPECT_EQ(card.atr(), hex("3BC5FF8131FB458073C6010000"));
  send(card, kSelectJpki);
  send(card, selectEf("0018"));
  EXPECT_EQ(sw(card, kVerifyAuthOk), "63C2");
  EXPECT_EQ(sw(card,
               "0020008004"
               "39383736"),
            "9000");
  send(card, selectEf("001B"));
  EXPECT_EQ(sw(card, "0020008009" + hexOf(Bytes{'P', 'A', 'S', 'S', 'W', 'O', 'R', 'D', '1'})),
            "9000");
}

TEST(VirtualCard, DefaultAtrIsTheOpenScOne) {
  EXPECT_EQ(hexOf(makeCard()->atr()), "3BE000FF8131FE4514");
}

TEST(VirtualCard, ParseProfileNames) {
  for (Profile p :
       {Profile::Normal, Profile::NoSignCert, Profile::Locked, Profile::Expired, Profile::Juki}) {
    EXPECT_EQ(parseProfile(profileName(p)), p);
  }
  EXPECT_FALSE(parseProfile("bogus"));
}

}  // namespace
}  // namespace jpki::vcard::test
