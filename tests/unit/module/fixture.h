// SPDX-License-Identifier: MIT
// Test fixture: the module core over the in-process virtual card. makeReaderSystem() (the link-time
// choice of the module) is defined by fixture.cpp and hands out a proxy to g_readers, so each test
// controls the readers and cards the module sees.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/virtual_card.h"
#include "jpki/pkcs11_ext.h"

namespace jt {

using jpki::Bytes;
using jpki::vcard::CardPki;
using jpki::vcard::InProcessReaderSystem;
using jpki::vcard::VirtualCard;

// Generated once per test binary (RSA key generation is slow).
const CardPki& pkiA();
const CardPki& pkiB();

extern std::shared_ptr<InProcessReaderSystem> g_readers;

// What the module asked of its reader system since the last reset(): each of these is a PC/SC
// round trip in the shipped module (a listing three: SCardListReaders twice, SCardGetStatusChange;
// a change check one, SCardGetStatusChange with timeout 0).
struct ReaderCalls {
  std::size_t listings = 0;
  std::size_t changeChecks = 0;
  std::size_t connects = 0;
  std::size_t transactions = 0;  // begin and end
  std::size_t transmits = 0;
  std::size_t waits = 0;
  [[nodiscard]] std::size_t pcscCalls() const {
    return 3 * listings + changeChecks + connects + transactions + transmits + waits;
  }
  void reset() { *this = {}; }
};
extern ReaderCalls g_calls;

inline constexpr CK_SLOT_ID kAuthSlot = 0;
inline constexpr CK_SLOT_ID kSignSlot = 1;
inline constexpr const char* kAuthPin = "1234";
inline constexpr const char* kSignPin = "ABC123";

class ModuleTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Re-initialises the module with this configuration text and reader count.
  void restart(const std::string& configText, std::size_t readers = 1);
  std::shared_ptr<VirtualCard> makeCard(const CardPki& pki);
  std::shared_ptr<VirtualCard> card(std::size_t reader = 0) { return g_readers->card(reader); }

  CK_SESSION_HANDLE open(CK_SLOT_ID slot, CK_FLAGS flags = CKF_SERIAL_SESSION);
  CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE user, const std::string& pin);
  std::vector<CK_OBJECT_HANDLE> find(CK_SESSION_HANDLE s, std::vector<CK_ATTRIBUTE> tmpl = {});
  CK_OBJECT_HANDLE findOne(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, std::uint8_t id);
  Bytes attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);
  CK_ULONG attrUlong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);
  bool attrBool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);
  CK_FLAGS tokenFlags(CK_SLOT_ID slot);
  CK_STATE sessionState(CK_SESSION_HANDLE s);
  Bytes signWith(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key,
                 const Bytes& data, CK_RV* rv = nullptr);

  // Card log helpers.
  std::size_t verifyWithData(std::size_t reader = 0);  // VERIFY carrying a PIN
  std::size_t apdus(std::size_t reader = 0);
  void clearLog(std::size_t reader = 0) { card(reader)->clearLog(); }

  CK_FUNCTION_LIST_PTR f = nullptr;
  bool initialized = false;
  // The guard's count of codes outside an entry point's row of permitted.cpp expected at TearDown:
  // the count at SetUp, plus what a test provokes on purpose.
  std::size_t unpermittedExpected = 0;
};

std::string trimmed(const CK_UTF8CHAR* text, std::size_t size);

}  // namespace jt
