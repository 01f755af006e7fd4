// SPDX-License-Identifier: MIT
// The names table knows the constants the log prints (the CK_RV mapping: permitted_test.cpp).
#include "fixture.h"
#include "jpki/error.h"
#include "names.h"

namespace jt {
namespace {

TEST(Names, KnownAndUnknownConstants) {
  using namespace jpki::module::names;
  EXPECT_STREQ(rv(CKR_OK), "CKR_OK");
  EXPECT_STREQ(rv(CKR_PIN_LOCKED), "CKR_PIN_LOCKED");
  EXPECT_STREQ(rv(0x12345), "CKR_0x12345");
  EXPECT_STREQ(attribute(CKA_ALWAYS_AUTHENTICATE), "CKA_ALWAYS_AUTHENTICATE");
  EXPECT_STREQ(attribute(CKA_PROFILE_ID), "CKA_PROFILE_ID");
}

// A card inserted that is not a JPKI card: a present slot, but an unrecognised token.
TEST_F(ModuleTest, NonJpkiCardIsNotRecognized) {
  g_readers->setFaultHook([](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0xA4) {
      throw jpki::Error(jpki::Errc::NotJpki, "injected");
    }
  });
  CK_TOKEN_INFO info;
  const CK_RV rv = f->C_GetTokenInfo(kAuthSlot, &info);
  EXPECT_TRUE(rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_DEVICE_ERROR) << rv;
  g_readers->setFaultHook(nullptr);
}

}  // namespace
}  // namespace jt
