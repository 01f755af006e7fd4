// SPDX-License-Identifier: MIT
// Encoding of command APDUs, parsing of responses, the status-word table and the byte helpers.
#include <gtest/gtest.h>

#include <string>

#include "jpki/apdu.h"
#include "jpki/bytes.h"
#include "jpki/error.h"
#include "jpki/jpki_card.h"

namespace jpki::apdu {
namespace {

std::string enc(const Command& c) { return toHex(c.encode()); }

struct EncodeCase {
  const char* name;
  Command command;
  const char* expected;
};

class EncodeTest : public ::testing::TestWithParam<EncodeCase> {};

TEST_P(EncodeTest, ShortEncoding) { EXPECT_EQ(enc(GetParam().command), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(
    Factories, EncodeTest,
    ::testing::Values(EncodeCase{"SelectAid", selectAid(layout::kAid),
                                 "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"},
                      EncodeCase{"SelectEf", selectEf(0x001B), "00 A4 02 0C 02 00 1B"},
                      EncodeCase{"ReadBinary256", readBinary(0x0100, 256), "00 B0 01 00 00"},
                      EncodeCase{"ReadBinaryExact", readBinary(0x0500, 0x78), "00 B0 05 00 78"},
                      EncodeCase{"VerifyStatus", verifyStatus(), "00 20 00 80"},
                      EncodeCase{"Verify", verify(parseHex("31323334")),
                                 "00 20 00 80 04 31 32 33 34"},
                      EncodeCase{"ChangeReferenceData", changeReferenceData(parseHex("35363738")),
                                 "00 24 01 80 04 35 36 37 38"},
                      EncodeCase{"ComputeSignature", computeSignature(parseHex("0102")),
                                 "80 2A 00 80 02 01 02 00"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Encode, RejectsOversizedShortApdus) {
  Command c;
  c.data.assign(256, 0xAA);
  EXPECT_THROW((void)c.encode(), Error);
  Command d;
  d.le = 257;
  EXPECT_THROW((void)d.encode(), Error);
  Command z;
  z.le = 0;
  EXPECT_THROW((void)z.encode(), Error);
  EXPECT_THROW((void)readBinary(0x8000, 1), Error);
  EXPECT_THROW((void)readBinary(0, 0), Error);
  EXPECT_THROW((void)readBinary(0, 257), Error);
}

TEST(TraceText, MasksSensitiveData) {
  const Command v = verify(parseHex("414243313233"));
  const std::string text = v.traceText();
  EXPECT_EQ(text.find("41"), std::string::npos) << text;
  EXPECT_EQ(text.find("06"), std::string::npos) << "PIN length leaked: " << text;
  EXPECT_NE(text.find("00 20 00 80"), std::string::npos);
  const Command change = changeReferenceData(parseHex("4E4557504153533132"));  // "NEWPASS12"
  EXPECT_TRUE(change.sensitive);
  EXPECT_EQ(change.traceText(), "00 24 01 80 ** [secret data masked]");
  EXPECT_EQ(selectEf(0x000A).traceText(), "00 A4 02 0C 02 00 0A");
  EXPECT_EQ(readBinary(0, 256).traceText(), "00 B0 00 00 00");
}

TEST(Response, ParseSplitsStatusWord) {
  const Response r = Response::parse(parseHex("01 02 90 00"));
  EXPECT_EQ(toHex(r.data), "01 02");
  EXPECT_EQ(r.sw, 0x9000);
  EXPECT_TRUE(r.ok());
  const Response s = Response::parse(parseHex("63 C2"));
  EXPECT_TRUE(s.data.empty());
  EXPECT_FALSE(s.ok());
}

TEST(Response, ParseRejectsShortAnswers) {
  for (const char* raw : {"", "90"}) {
    try {
      (void)Response::parse(parseHex(raw));
      FAIL() << "no exception for '" << raw << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::BadResponse);
    }
  }
}

TEST(StatusWords, TextAndTries) {
  EXPECT_EQ(swText(0x9000), "9000 success");
  EXPECT_EQ(swText(0x6982), "6982 security status not satisfied");
  EXPECT_EQ(swText(0x63C2), "63C2 verification failed, 2 tries left");
  EXPECT_EQ(swText(0x6A82), "6A82 file or application not found");
  EXPECT_EQ(swText(0x6110).substr(0, 4), "6110");
  EXPECT_EQ(swText(0x1234), "1234 unknown status");
  EXPECT_EQ(triesLeft(0x63C3), 3);
  EXPECT_EQ(triesLeft(0x63C0), 0);
  EXPECT_EQ(triesLeft(0x6300), std::nullopt);
  EXPECT_EQ(triesLeft(0x9000), std::nullopt);
  EXPECT_EQ(static_cast<std::uint16_t>(Sw::ReferenceDataBlocked), 0x6984);
}

TEST(Bytes, HexRoundTrip) {
  EXPECT_EQ(toHex(parseHex("3b e0 00ff")), "3B E0 00 FF");
  EXPECT_EQ(toHex(parseHex("3BE0"), false), "3BE0");
  EXPECT_TRUE(parseHex("").empty());
  EXPECT_THROW((void)parseHex("3"), std::invalid_argument);
  EXPECT_THROW((void)parseHex("zz"), std::invalid_argument);
  EXPECT_THROW((void)parseHex("3 B"), std::invalid_argument);
}

TEST(Bytes, SecretBytesMovesAndClears) {
  SecretBytes s;
  for (int i = 0; i < 100; ++i) {
    s.push_back(static_cast<std::uint8_t>('0' + i % 10));
  }
  EXPECT_EQ(s.size(), 100U);
  SecretBytes t(std::move(s));
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(t.size(), 100U);
  SecretBytes u;
  u = std::move(t);
  EXPECT_EQ(u.view()[3], '3');
  u.clear();
  EXPECT_TRUE(u.empty());
  std::uint8_t raw[4] = {1, 2, 3, 4};
  secureWipe(raw, sizeof raw);
  EXPECT_EQ(raw[0] | raw[1] | raw[2] | raw[3], 0);
}

TEST(Errors, EveryCodeHasAName) {
  EXPECT_STREQ(errcName(Errc::PinLocked), "PinLocked");
  EXPECT_STREQ(errcName(Errc::InvalidInput), "InvalidInput");
  EXPECT_STREQ(errcName(Errc::NoService), "NoService");
  const Error e(Errc::CardStatus, "x", 0x6A86);
  EXPECT_EQ(e.sw(), 0x6A86);
}

TEST(Layout, CertificateFiles) {
  EXPECT_EQ(layout::certEf(CertFile::Auth), 0x000A);
  EXPECT_EQ(layout::certEf(CertFile::AuthCa), 0x000B);
  EXPECT_EQ(layout::certEf(CertFile::Sign), 0x0001);
  EXPECT_EQ(layout::certEf(CertFile::SignCa), 0x0002);
}

}  // namespace
}  // namespace jpki::apdu
