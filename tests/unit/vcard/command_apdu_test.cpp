// SPDX-License-Identifier: MIT
#include "core/command_apdu.h"

#include <gtest/gtest.h>

#include "vcard_test_support.h"

namespace jpki::vcard::test {
namespace {

struct ParseCase {
  const char* name;
  const char* apdu;
  bool ok;
  std::size_t dataSize;
  std::optional<std::size_t> le;
};

class ParseCommandTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseCommandTest, Parses) {
  const ParseCase& c = GetParam();
  const auto parsed = parseCommand(hex(c.apdu));
  ASSERT_EQ(parsed.has_value(), c.ok);
  if (!c.ok) return;
  EXPECT_EQ(parsed->data.size(), c.dataSize);
  EXPECT_EQ(parsed->le, c.le);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseCommandTest,
    ::testing::Values(ParseCase{"Empty", "", false, 0, {}},
                      ParseCase{"ThreeBytes", "00A404", false, 0, {}},
                      ParseCase{"Case1", "00200080", true, 0, {}},
                      ParseCase{"Case2", "00B0000004", true, 0, 4},
                      ParseCase{"Case2Le00", "00B0000000", true, 0, 256},
                      ParseCase{"Case3", "00A4020C02000A", true, 2, {}},
                      ParseCase{"Case4", "802A00800301020300", true, 3, 256},
                      ParseCase{"LcTooLong", "00A4020C03000A", false, 0, {}},
                      ParseCase{"LcTooShort", "00A4020C01000A01FF", false, 0, {}},
                      ParseCase{"Case2Ext", "00B0000000FFFF", true, 0, 65535},
                      ParseCase{"Case2Ext0000", "00B00000000000", true, 0, 65536},
                      ParseCase{"Case3Ext", "00A4020C000002000A", true, 2, {}},
                      ParseCase{"Case4Ext", "802A0080000002AABB0100", true, 2, 256},
                      ParseCase{"ExtLcZero", "00A4020C00000000", false, 0, {}},
                      ParseCase{"SixBytes", "00B000000000", false, 0, {}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace jpki::vcard::test
