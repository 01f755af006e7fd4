// SPDX-License-Identifier: MIT
// Units of jpki-tool that need no card: argument parsing, JSON, dates, exit codes, DigestInfo.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <sstream>

#include "args.h"
#include "commands.h"
#include "crypto.h"
#include "exit_codes.h"
#include "jpki/digest.h"
#include "json.h"
#include "x509_info.h"

namespace jpki::tool {
namespace {

TEST(Args, LongShortAndInlineValues) {
  const auto p = parseArgs(
      {"--key", "auth", "-i", "in.txt", "--out=o.sig", "--cms", "pos"},
      withCommon({{"key", 'k', true}, {"in", 'i', true}, {"out", 'o', true}, {"cms", 0, false}}));
  EXPECT_EQ(p.get("key"), "auth");
  EXPECT_EQ(p.get("in"), "in.txt");
  EXPECT_EQ(p.get("out"), "o.sig");
  EXPECT_TRUE(p.has("cms"));
  EXPECT_EQ(p.positional, std::vector<std::string>{"pos"});
}

TEST(Args, ErrorsAreUsageErrorsNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> bad = {
      {{"--nope"}, "unknown option --nope (see --help)"},
      {{"--nope=1"}, "unknown option --nope (see --help)"},
      {{"-x"}, "unknown option -x (see --help)"},
      {{"--key"}, "option --key needs a value"},
      {{"-k"}, "option -k needs a value"},
      {{"--cms=1"}, "option --cms takes no value"},
      // A prefix is not the option: PINs are never taken from the command line.
      {{"--pin", "1234"}, "unknown option --pin (see --help)"},
      {{"--ke", "auth"}, "unknown option --ke (see --help)"}};
  for (const auto& c : bad) {
    try {
      parseArgs(c.args, withCommon({{"key", 'k', true}, {"cms", 0, false}}));
      ADD_FAILURE() << "accepted " << c.args.front();
    } catch (const ToolError& e) {
      EXPECT_EQ(e.code(), Exit::Usage);
      EXPECT_STREQ(e.what(), c.message);
    }
  }
}

TEST(Args, OperandsInOrderAndAfterDoubleDash) {
  const auto spec = withCommon({{"cms", 0, false}});
  const auto p = parseArgs({"a", "--cms", "-", "b", "--", "--json", "c"}, spec);
  EXPECT_EQ(p.positional, (std::vector<std::string>{"a", "-", "b", "--json", "c"}));
  EXPECT_TRUE(p.has("cms"));
  EXPECT_FALSE(p.has("json"));
  // Before a command name: options up to the first operand, everything after it untouched.
  const auto g =
      parseArgs({"--json", "-r", "R", "sign", "--cms", "--bogus"}, commonOptions(), true);
  EXPECT_EQ(g.positional, (std::vector<std::string>{"sign", "--cms", "--bogus"}));
  EXPECT_EQ(g.get("reader"), "R");
  EXPECT_TRUE(g.has("json"));
}

TEST(Json, OrderQuotingAndCompactForm) {
  const Json j = {{"b", 1}, {"a", "x\"y\n\x01東京"}, {"c", {true, nullptr}}, {"d", Json::array()}};
  EXPECT_EQ(dumpJson(j, -1), R"({"b":1,"a":"x\"y\n\u0001東京","c":[true,null],"d":[]})");
  EXPECT_EQ(dumpJson(j),
            "{\n  \"b\": 1,\n  \"a\": \"x\\\"y\\n\\u0001東京\",\n  \"c\": [\n    true,\n"
            "    null\n  ],\n  \"d\": []\n}");
  EXPECT_EQ(dumpJson(std::string("\xff")), "\"\xef\xbf\xbd\"");  // not UTF-8: U+FFFD, no throw
}

TEST(Json, ParseKeepsOrderAndReportsErrors) {
  std::string error;
  const auto doc = parseJson(R"({"z": 1, "a": {"k": [1.5, "v"]}, "z": 2})", &error);
  ASSERT_TRUE(doc.has_value()) << error;
  EXPECT_EQ(dumpJson(*doc, -1), R"({"z":2,"a":{"k":[1.5,"v"]}})");
  EXPECT_FALSE(parseJson("{\"a\": }", &error).has_value());
  EXPECT_NE(error.find("line 1, column 7"), std::string::npos) << error;
  EXPECT_TRUE(parseJson(std::string(200, '[') + std::string(200, ']'), &error).has_value());
  EXPECT_FALSE(parseJson(std::string(100000, '['), &error).has_value());
  EXPECT_EQ(error, "nesting too deep");
}

TEST(Dates, RenewalIsThreeMonthsBefore) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const Case c : {Case{"2031-06-15", "2031-03-15"}, Case{"2030-05-31", "2030-02-28"},
                       Case{"2032-05-31", "2032-02-29"}, Case{"2031-02-10", "2030-11-10"}}) {
    EXPECT_EQ(minusMonths(c.in, 3), c.out) << c.in;
  }
}

TEST(BasicFour, Texts) {
  EXPECT_EQ(birthDateText("419900615"), "1990-06-15");
  EXPECT_EQ(sexText("1"), "male");
  EXPECT_EQ(sexText("2"), "female");
}

TEST(ExitCodes, FromCardErrors) {
  EXPECT_EQ(exitFor(Errc::NoService), Exit::NoReader);
  EXPECT_EQ(exitFor(Errc::NoReader), Exit::NoReader);
  EXPECT_EQ(exitFor(Errc::NoCard), Exit::NoCard);
  EXPECT_EQ(exitFor(Errc::NotJpki), Exit::NotJpki);
  EXPECT_EQ(exitFor(Errc::PinLocked), Exit::PinLocked);
  EXPECT_EQ(exitFor(Errc::PinFormat), Exit::WrongPin);
  EXPECT_EQ(exitFor(Errc::NewPinFormat), Exit::WrongPin);
  EXPECT_EQ(exitFor(Errc::BadResponse), Exit::Error);
}

TEST(Crypto, DigestInfoSha256) {
  const Bytes di = digestInfo(EVP_sha256(), sha256(ByteView()));
  ASSERT_EQ(di.size(), 51u);
  EXPECT_EQ(toHex(ByteView(di).first(19), false), "3031300D060960864801650304020105000420");
  EXPECT_EQ(toHex(ByteView(di).subspan(19, 4), false), "E3B0C442");  // SHA-256("")
}

TEST(Tool, UsageAndHelpExitCodes) {
  std::ostringstream out, err;
  EXPECT_EQ(runTool({}, out, err), Exit::Usage);
  EXPECT_EQ(runTool({"--help"}, out, err), Exit::Ok);
  EXPECT_EQ(runTool({"bogus"}, out, err), Exit::Usage);
  EXPECT_EQ(runTool({"sign", "--help"}, out, err), Exit::Ok);
  EXPECT_NE(out.str().find("7  wrong PIN"), std::string::npos);
  EXPECT_EQ(runTool({"sign", "--key", "other", "-i", "a", "-o", "b"}, out, err), Exit::Usage);
  EXPECT_EQ(runTool({"change-pin", "--help"}, out, err), Exit::Ok);
  EXPECT_NE(out.str().find("--new-pin-env VAR"), std::string::npos);
  EXPECT_EQ(runTool({"change-pin"}, out, err), Exit::Usage);  // no --key
  EXPECT_EQ(runTool({"change-pin", "--key", "other"}, out, err), Exit::Usage);
  EXPECT_EQ(runTool({"change-pin", "--key", "auth", "extra"}, out, err), Exit::Usage);
  EXPECT_EQ(runTool({"change-pin", "--key", "auth", "--new-pin-env="}, out, err), Exit::Usage);
  EXPECT_EQ(runTool({"--reader"}, out, err), Exit::Usage);
  EXPECT_NE(err.str().find("jpki-tool: option --reader needs a value\n"), std::string::npos);
  EXPECT_EQ(runTool({"--json", "--bogus", "status"}, out, err), Exit::Usage);
  EXPECT_NE(err.str().find("jpki-tool: unknown option --bogus (see --help)\n"), std::string::npos);
}

}  // namespace
}  // namespace jpki::tool
