// SPDX-License-Identifier: MIT
// normalisePin: the local PIN rules (jpki-card.md §9), table-driven.
#include <gtest/gtest.h>

#include <string>

#include "jpki/jpki_card.h"

namespace jpki {
namespace {

ByteView view(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct PinCase {
  KeyRole role;
  std::string input;
  const char* normalised;  // nullptr: refused
};

class NormalisePinTest : public ::testing::TestWithParam<PinCase> {};

TEST_P(NormalisePinTest, Rule) {
  const PinCase& c = GetParam();
  std::string reason;
  auto out = normalisePin(c.role, view(c.input), &reason);
  if (c.normalised == nullptr) {
    EXPECT_FALSE(out.has_value());
    EXPECT_FALSE(reason.empty());
    if (c.input.size() >= 3) {
      EXPECT_EQ(reason.find(c.input), std::string::npos) << "reason leaks the PIN: " << reason;
    }
  } else {
    ASSERT_TRUE(out.has_value()) << reason;
    const ByteView v = out->view();
    EXPECT_EQ(std::string(v.begin(), v.end()), c.normalised);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormalisePinTest,
    ::testing::Values(
        PinCase{KeyRole::Auth, "1234", "1234"}, PinCase{KeyRole::Auth, "0000", "0000"},
        PinCase{KeyRole::Auth, "123", nullptr}, PinCase{KeyRole::Auth, "12345", nullptr},
        PinCase{KeyRole::Auth, "", nullptr}, PinCase{KeyRole::Auth, "12a4", nullptr},
        PinCase{KeyRole::Auth, "12 4", nullptr},
        PinCase{KeyRole::Auth,
                std::string("12\0"
                            "4",
                            4),
                nullptr},
        PinCase{KeyRole::Auth, "\xEF\xBC\x91\xEF\xBC\x92", nullptr},  // full-width digits
        PinCase{KeyRole::Auth, "\xB1\xB2\xB3\xB4", nullptr},
        PinCase{KeyRole::Sign, "ABC123", "ABC123"}, PinCase{KeyRole::Sign, "abc123", "ABC123"},
        PinCase{KeyRole::Sign, "A1b2C3d4E5f6G7h8", "A1B2C3D4E5F6G7H8"},
        PinCase{KeyRole::Sign, "123456", "123456"}, PinCase{KeyRole::Sign, "ABC12", nullptr},
        PinCase{KeyRole::Sign, "ABCDEFGHIJ1234567", nullptr},
        PinCase{KeyRole::Sign, "ABC 123", nullptr}, PinCase{KeyRole::Sign, "ABC-123", nullptr},
        PinCase{KeyRole::Sign,
                std::string("ABC\0"
                            "123",
                            7),
                nullptr},
        PinCase{KeyRole::Sign,
                "\xC3\x84"
                "BC123",
                nullptr},
        PinCase{KeyRole::Sign, "ABC12\xFF", nullptr}, PinCase{KeyRole::Sign, "", nullptr}));

// Which rule was broken (C_SetPIN answers CKR_PIN_LEN_RANGE or CKR_PIN_INVALID from it). Length is
// checked first: a PIN both too long and with a bad character is a length fault.
TEST(NormalisePin, FaultNamesTheRule) {
  struct Case {
    KeyRole role;
    std::string input;
    PinFault fault;
  };
  for (const Case& c :
       {Case{KeyRole::Auth, "123", PinFault::Length}, Case{KeyRole::Auth, "", PinFault::Length},
        Case{KeyRole::Auth, "12a45", PinFault::Length},
        Case{KeyRole::Auth, "12a4", PinFault::Characters},
        Case{KeyRole::Sign, "ABC12", PinFault::Length},
        Case{KeyRole::Sign, "ABCDEFGHIJ1234567", PinFault::Length},
        Case{KeyRole::Sign, "ABC-123", PinFault::Characters},
        Case{KeyRole::Sign,
             "ABC\xFF"
             "12",
             PinFault::Characters}}) {
    PinFault fault = c.fault == PinFault::Length ? PinFault::Characters : PinFault::Length;
    EXPECT_FALSE(normalisePin(c.role, view(c.input), nullptr, &fault).has_value()) << c.input;
    EXPECT_EQ(fault, c.fault) << c.input;
  }
  PinFault untouched = PinFault::Characters;
  EXPECT_TRUE(normalisePin(KeyRole::Sign, view("abc123"), nullptr, &untouched).has_value());
  EXPECT_EQ(untouched, PinFault::Characters);
}

TEST(NormalisePin, NullReasonPointerIsAllowed) {
  EXPECT_FALSE(normalisePin(KeyRole::Auth, view("1"), nullptr).has_value());
}

}  // namespace
}  // namespace jpki
