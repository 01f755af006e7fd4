// SPDX-License-Identifier: MIT
// Every C_* stays within the return codes PKCS#11 permits it (module/permitted.cpp): the table
// itself, the CK_RV mapping of every internal error for every function (rv.cpp), and the guard
// with every kind of exception a body can throw (guard.cpp). The fixture checks, after every test
// of the module, that no entry point tried to return a code outside its row (checkedRv).
#include <new>
#include <set>
#include <stdexcept>
#include <string>

#include "fixture.h"
#include "guard.h"
#include "names.h"

namespace jt {
namespace {

using jpki::Errc;
using jpki::module::Fn;
using jpki::module::permitted;
using jpki::module::rvFromError;

const Errc kAllErrc[] = {Errc::NoService,   Errc::NoReader,     Errc::NoCard,
                         Errc::CardRemoved, Errc::CardReset,    Errc::CardReplaced,
                         Errc::Timeout,     Errc::Sharing,      Errc::Transport,
                         Errc::NotJpki,     Errc::FileNotFound, Errc::SecurityStatus,
                         Errc::PinLocked,   Errc::PinFormat,    Errc::BadResponse,
                         Errc::CardStatus,  Errc::InvalidInput, Errc::NewPinFormat};

std::vector<Fn> allFunctions() {
  std::vector<Fn> all;
  all.reserve(static_cast<std::size_t>(Fn::Count));
  for (std::size_t i = 0; i < static_cast<std::size_t>(Fn::Count); ++i) {
    all.push_back(static_cast<Fn>(i));
  }
  return all;
}

std::string describe(Fn fn, CK_RV rv) {
  return std::string(jpki::module::fnName(fn)) + " -> " + jpki::module::names::rv(rv) + " (" +
         jpki::module::fnSection(fn) + ")";
}

TEST(PermittedCodes, TableHasOneNamedRowPerFunction) {
  std::set<std::string> names;
  for (Fn fn : allFunctions()) {
    const std::string name = jpki::module::fnName(fn);
    EXPECT_EQ(name.rfind("C_", 0), 0u) << name;
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    // v2.40 §5.1.1: every function may return these.
    for (CK_RV rv : {CKR_OK, CKR_GENERAL_ERROR, CKR_HOST_MEMORY, CKR_FUNCTION_FAILED}) {
      EXPECT_TRUE(permitted(fn, rv)) << describe(fn, rv);
    }
  }
  EXPECT_EQ(names.size(), 92u);  // 68 of v2.40 + 24 added by v3.0
}

// What the spec says, spot-checked against the table.
TEST(PermittedCodes, TableFollowsTheSpec) {
  EXPECT_FALSE(permitted(Fn::Login, CKR_USER_NOT_LOGGED_IN));  // v2.40 §5.6.7
  EXPECT_TRUE(permitted(Fn::Login, CKR_PIN_INCORRECT));
  EXPECT_TRUE(permitted(Fn::Logout, CKR_USER_NOT_LOGGED_IN));              // §5.6.8
  EXPECT_TRUE(permitted(Fn::Sign, CKR_USER_NOT_LOGGED_IN));                // §5.11.2
  EXPECT_FALSE(permitted(Fn::GetAttributeValue, CKR_USER_NOT_LOGGED_IN));  // §5.7.5
  EXPECT_FALSE(permitted(Fn::Sign, CKR_PIN_LOCKED));
  EXPECT_FALSE(permitted(Fn::GetSlotInfo, CKR_TOKEN_NOT_PRESENT));  // §5.5.2
  EXPECT_TRUE(permitted(Fn::GetTokenInfo, CKR_TOKEN_NOT_PRESENT));
  EXPECT_FALSE(permitted(Fn::GetSlotList, CKR_DEVICE_ERROR));  // §5.5.1
  EXPECT_FALSE(permitted(Fn::GetTokenInfo, CKR_SESSION_HANDLE_INVALID));
  EXPECT_FALSE(permitted(Fn::Sign, CKR_TOKEN_NOT_PRESENT));  // §5.1: session functions never do
  EXPECT_TRUE(permitted(Fn::GetFunctionStatus, CKR_DEVICE_REMOVED));    // §5.1.2
  EXPECT_TRUE(permitted(Fn::EncryptInit, CKR_FUNCTION_NOT_SUPPORTED));  // a stub (§5.1.6)
  EXPECT_FALSE(permitted(Fn::Login, CKR_FUNCTION_NOT_SUPPORTED));
  EXPECT_FALSE(permitted(Fn::Initialize, CKR_CRYPTOKI_NOT_INITIALIZED));
  EXPECT_FALSE(permitted(Fn::GetInterfaceList, CKR_CRYPTOKI_NOT_INITIALIZED));
}

// Every internal error kind, through every function's mapping, lands in that function's row.
TEST(PermittedCodes, EveryErrorOfEveryFunctionIsPermitted) {
  for (Fn fn : allFunctions()) {
    for (Errc e : kAllErrc) {
      const CK_RV rv = rvFromError(jpki::Error(e, "x"), fn);
      EXPECT_TRUE(permitted(fn, rv)) << jpki::errcName(e) << ": " << describe(fn, rv);
    }
  }
  for (Errc e : kAllErrc) {
    EXPECT_NE(rvFromError(jpki::Error(e, "x"), Fn::Login), CKR_USER_NOT_LOGGED_IN);
  }
}

// The code that says what happened, where the function may return it.
TEST(PermittedCodes, ErrorsKeepTheirMeaningWherePermitted) {
  const auto map = [](Errc e, Fn fn) { return rvFromError(jpki::Error(e, "x"), fn); };
  EXPECT_EQ(map(Errc::CardRemoved, Fn::Sign), CKR_DEVICE_REMOVED);
  EXPECT_EQ(map(Errc::NoCard, Fn::GetTokenInfo), CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(map(Errc::NoCard, Fn::OpenSession), CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(map(Errc::NotJpki, Fn::GetTokenInfo), CKR_TOKEN_NOT_RECOGNIZED);
  EXPECT_EQ(map(Errc::NotJpki, Fn::GetAttributeValue), CKR_DEVICE_ERROR);
  EXPECT_EQ(map(Errc::SecurityStatus, Fn::Sign), CKR_USER_NOT_LOGGED_IN);
  EXPECT_EQ(map(Errc::SecurityStatus, Fn::Login), CKR_DEVICE_ERROR);
  EXPECT_EQ(map(Errc::SecurityStatus, Fn::GetTokenInfo), CKR_DEVICE_ERROR);
  EXPECT_EQ(map(Errc::InvalidInput, Fn::Sign), CKR_DATA_LEN_RANGE);
  EXPECT_EQ(map(Errc::InvalidInput, Fn::GetTokenInfo), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(map(Errc::Timeout, Fn::Sign), CKR_DEVICE_ERROR);
  EXPECT_EQ(map(Errc::Transport, Fn::GetSlotList), CKR_FUNCTION_FAILED);  // no DEVICE_ERROR there
}

// The guard itself: whatever a body throws, every function answers within its row.
TEST_F(ModuleTest, GuardKeepsEveryFunctionWithinItsCodes) {
  using jpki::module::Call;
  using jpki::module::CkError;
  using jpki::module::dispatch;
  using jpki::module::Pre;
  const std::size_t before = jpki::module::unpermittedReturns();
  for (Fn fn : allFunctions()) {
    for (Errc e : kAllErrc) {
      const CK_RV rv =
          dispatch(fn, Pre::Initialized, 0, [&](Call&) -> CK_RV { throw jpki::Error(e, "x"); });
      EXPECT_TRUE(permitted(fn, rv)) << jpki::errcName(e) << ": " << describe(fn, rv);
    }
    EXPECT_EQ(dispatch(fn, [](Call&) -> CK_RV { throw std::bad_alloc(); }), CKR_HOST_MEMORY);
    EXPECT_EQ(dispatch(fn, [](Call&) -> CK_RV { throw std::runtime_error("x"); }),
              CKR_GENERAL_ERROR);
    EXPECT_EQ(dispatch(fn, [](Call&) -> CK_RV { throw 1; }), CKR_GENERAL_ERROR);
    EXPECT_EQ(dispatch(fn, [](Call&) -> CK_RV { throw CkError{CKR_FUNCTION_FAILED}; }),
              CKR_FUNCTION_FAILED);
  }
  EXPECT_EQ(jpki::module::unpermittedReturns(), before);
  // A code the function may not return, thrown or returned, is a bug: replaced and counted.
  EXPECT_EQ(dispatch(Fn::Login, [](Call&) -> CK_RV { throw CkError{CKR_USER_NOT_LOGGED_IN}; }),
            CKR_GENERAL_ERROR);
  EXPECT_EQ(dispatch(Fn::GetSlotInfo, [](Call&) { return CKR_TOKEN_NOT_PRESENT; }),
            CKR_GENERAL_ERROR);
  EXPECT_EQ(jpki::module::unpermittedReturns(), before + 2);
  unpermittedExpected += 2;
}

// v2.40 §5.6.7 lists no CKR_USER_NOT_LOGGED_IN for C_Login: a 6982 from the card to the PIN EF's
// SELECT inside C_Login is a device error there, whatever it means for C_Sign.
TEST_F(ModuleTest, LoginAnswersOnlyItsOwnCodesToA6982) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  g_readers->setFaultHook([](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0xA4) {
      throw jpki::Error(jpki::Errc::SecurityStatus, "injected 6982", 0x6982);
    }
  });
  EXPECT_EQ(login(s, CKU_USER, kAuthPin), CKR_DEVICE_ERROR);
  g_readers->setFaultHook(nullptr);
}

}  // namespace
}  // namespace jt
