// SPDX-License-Identifier: MIT
// The mechanisms the card can back: PKCS#1 v1.5 signing on a host-built DigestInfo (the card pads),
// software verification and software digests. Never RSA-PSS, RSA-X.509 or decryption: the card
// cannot do them, and advertising them breaks NSS/OpenSSL mechanism selection.
#include <algorithm>
#include <array>

#include "ops.h"

namespace jpki::module {
namespace {

constexpr CK_FLAGS kSign = CKF_HW | CKF_SIGN | CKF_VERIFY;

constexpr MechDef kMechanisms[] = {
    {CKM_RSA_PKCS, kSign, 2048, 2048, nullptr},
    {CKM_SHA1_RSA_PKCS, kSign, 2048, 2048, "SHA1"},
    {CKM_SHA224_RSA_PKCS, kSign, 2048, 2048, "SHA224"},
    {CKM_SHA256_RSA_PKCS, kSign, 2048, 2048, "SHA256"},
    {CKM_SHA384_RSA_PKCS, kSign, 2048, 2048, "SHA384"},
    {CKM_SHA512_RSA_PKCS, kSign, 2048, 2048, "SHA512"},
    {CKM_SHA_1, CKF_DIGEST, 0, 0, "SHA1"},
    {CKM_SHA224, CKF_DIGEST, 0, 0, "SHA224"},
    {CKM_SHA256, CKF_DIGEST, 0, 0, "SHA256"},
    {CKM_SHA384, CKF_DIGEST, 0, 0, "SHA384"},
    {CKM_SHA512, CKF_DIGEST, 0, 0, "SHA512"},
};

// What C_GetMechanismList lists.
constexpr auto kMechanismTypes = [] {
  std::array<CK_MECHANISM_TYPE, std::size(kMechanisms)> types{};
  for (std::size_t i = 0; i < types.size(); ++i) {
    types[i] = kMechanisms[i].type;
  }
  return types;
}();

}  // namespace

std::span<const MechDef> mechanismTable() { return kMechanisms; }

const MechDef* findMechanism(CK_MECHANISM_TYPE type) {
  for (const MechDef& m : kMechanisms) {
    if (m.type == type) {
      return &m;
    }
  }
  return nullptr;
}

// v2.40 §5.5: the mechanisms are the token's (Pre::Token: CKR_TOKEN_NOT_PRESENT without one).
CK_RV getMechanismList(Call&, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count) {
  return writeList<CK_MECHANISM_TYPE>(kMechanismTypes, list, count);
}

CK_RV getMechanismInfo(Call& c, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info) {
  if (info == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  const MechDef* m = findMechanism(type);
  if (m == nullptr) {
    return CKR_MECHANISM_INVALID;
  }
  info->ulMinKeySize = m->minBits;
  info->ulMaxKeySize = m->maxBits;
  info->flags = m->flags;
  // A hash-and-sign mechanism is a multi-part signature, and NSS (since 3.101, SGN_Begin) signs
  // through one whenever the token flags it CKF_SIGN — on a path that never makes the
  // C_Login(CKU_CONTEXT_SPECIFIC) a CKA_ALWAYS_AUTHENTICATE key needs, so every CMS, XML or PDF
  // signature fails with SEC_ERROR_TOKEN_NOT_LOGGED_IN. On a token whose key needs that login,
  // signing is therefore offered as CKM_RSA_PKCS only (NSS then hashes, signs with PK11_Sign and
  // logs in per signature); C_SignInit still accepts the hash-and-sign mechanisms from callers
  // that name one without asking (pkcs11-tool -m SHA256-RSA-PKCS).
  if (m->digest != nullptr && c.slot->role == KeyRole::Sign && c.st.config.signAlwaysAuthenticate) {
    info->flags &= ~static_cast<CK_FLAGS>(CKF_SIGN);
  }
  return CKR_OK;
}

const MechDef* checkInit(const Session& s, const CK_MECHANISM* mech, CK_FLAGS need, CK_RV* rv) {
  if (mech == nullptr) {
    *rv = CKR_ARGUMENTS_BAD;
    return nullptr;
  }
  if (!std::holds_alternative<std::monostate>(s.op)) {
    *rv = CKR_OPERATION_ACTIVE;
    return nullptr;
  }
  const MechDef* m = findMechanism(mech->mechanism);
  if (m == nullptr || (m->flags & need) == 0) {
    *rv = CKR_MECHANISM_INVALID;
    return nullptr;
  }
  if (mech->ulParameterLen != 0) {
    *rv = CKR_MECHANISM_PARAM_INVALID;
    return nullptr;
  }
  return m;
}

}  // namespace jpki::module
