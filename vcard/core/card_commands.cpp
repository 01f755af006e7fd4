// SPDX-License-Identifier: MIT
// The command set of the virtual JPKI card, rule by rule as in jpki-card.md §3, §4 and §10.
// Choices where the real card's behaviour is unknown are marked "[choice]".
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstring>

#include "core/card_state.h"

namespace jpki::vcard {

namespace {

constexpr std::uint8_t kInsSelect = 0xA4, kInsReadBinary = 0xB0, kInsVerify = 0x20,
                       kInsChangeReferenceData = 0x24, kInsSign = 0x2A, kInsGetChallenge = 0x84;

// PKCS#1 v1.5 type-01 padding needs 11 bytes, so a 2048-bit key signs at most 245 bytes (§3.6).
constexpr std::size_t kMaxSignInput = 245;

// 63Cx: x = tries left (4 bits).
Bytes triesStatus(int tries) {
  return statusOnly(static_cast<Sw>(apdu::code(Sw::VerifyFailedBase) | std::min(tries, 15)));
}

}  // namespace

const FileTable* VirtualCard::Impl::currentFiles() const {
  switch (df) {
    case Df::Jpki:
      return &jpkiEfs;
    case Df::Text:
      return &textEfs;
    case Df::None:
      break;
  }
  return nullptr;
}

const CardFile* VirtualCard::Impl::currentFile() const {
  const FileTable* files = currentFiles();
  if (files == nullptr || !ef) return nullptr;
  const auto it = files->find(*ef);
  return it == files->end() ? nullptr : &it->second;
}

// CLA: interindustry 0x (ISO) or proprietary 8x; channel bits (b1-b2) → 6881 (only the basic
// channel exists); secure-messaging bits (b3-b4) → 6882 [C1: one SW chosen for every INS];
// anything else (chaining bit, 1x-7x, 9x-Fx) → 6E00. COMPUTE SIGNATURE is the only CLA 80
// command; the others are CLA 00. A known INS under the wrong class → 6D00 [choice].
Bytes VirtualCard::Impl::dispatch(const CommandApdu& c) {
  const std::uint8_t classBits = c.cla & 0xF0;
  if (classBits != 0x00 && classBits != 0x80) return statusOnly(Sw::ClaNotSupported);
  if ((c.cla & 0x03) != 0) return statusOnly(Sw::LogicalChannelNotSupported);
  if ((c.cla & 0x0C) != 0) return statusOnly(Sw::SecureMessagingNotSupported);
  const bool proprietary = classBits == 0x80;
  if (proprietary) {
    if (c.ins == kInsSign) return computeSignature(c);
    return statusOnly(Sw::InsNotSupported);
  }
  switch (c.ins) {
    case kInsSelect:
      return select(c);
    case kInsReadBinary:
      return readBinary(c);
    case kInsVerify:
      return verify(c);
    case kInsChangeReferenceData:
      return changeReferenceData(c);
    case kInsGetChallenge:
      return getChallenge(c);
    default:
      return statusOnly(Sw::InsNotSupported);
  }
}

// SELECT (§1, §3.1): P2 must be 0C (no FCI) → else 6A86. Case 3 only (data, no Le) → else 6700.
// P1=04 by DF name: the JPKI AID or the text-AP AID selects that DF, clears the current EF and
// both verified flags; any other AID → 6A82 with the state untouched (OpenSC probes foreign AIDs
// before it finds the JPKI driver, §6).
// P1=02 EF under the current DF, 2-byte FID: existing → current EF (flags kept); else 6A82 with
// the previous EF kept. With no DF selected nothing exists → 6A82. Other P1 → 6A86.
Bytes VirtualCard::Impl::select(const CommandApdu& c) {
  if (c.p2 != 0x0C) return statusOnly(Sw::WrongP1P2);
  if (c.p1 != 0x04 && c.p1 != 0x02) return statusOnly(Sw::WrongP1P2);
  if (!c.hasData() || c.le) return statusOnly(Sw::WrongLength);
  if (c.p1 == 0x04) {
    const auto is = [&](ByteView aid) { return std::ranges::equal(c.data, aid); };
    if (!is(kJpkiAid) && !is(kTextAid)) return statusOnly(Sw::FileNotFound);
    powerOn();
    df = is(kJpkiAid) ? Df::Jpki : Df::Text;
    return statusOnly(Sw::Ok);
  }
  if (c.data.size() != 2) return statusOnly(Sw::WrongLength);
  const std::uint16_t fid = static_cast<std::uint16_t>(c.data[0] << 8 | c.data[1]);
  const FileTable* files = currentFiles();
  if (files == nullptr || !files->contains(fid)) return statusOnly(Sw::FileNotFound);
  ef = fid;
  return statusOnly(Sw::Ok);
}

// READ BINARY (§3.2): case 2 only → else 6700. P1 b8=0: offset = P1P2 (15 bits) in the current
// EF, none → 6986. P1 b8=1: short EF identifier form [C1], P1 = 100xxxxx with SFI = FID 00xx in
// the current DF (becomes the current EF), offset = P2; P1 b6-b7 set → 6A86; no such EF → 6A82.
// Key/PIN IEFs → 6981 [choice: "command incompatible with file structure"]. EF 0001 without the
// sign PIN → 6982. Offset ≥ size → 6B00; else min(Le, remaining) bytes + 9000.
Bytes VirtualCard::Impl::readBinary(const CommandApdu& c) {
  if (c.hasData() || !c.le) return statusOnly(Sw::WrongLength);
  std::size_t offset = 0;
  if ((c.p1 & 0x80) != 0) {
    if ((c.p1 & 0x60) != 0) return statusOnly(Sw::WrongP1P2);
    const FileTable* files = currentFiles();
    const std::uint16_t fid = c.p1 & 0x1F;
    if (files == nullptr || !files->contains(fid)) return statusOnly(Sw::FileNotFound);
    ef = fid;
    offset = c.p2;
  } else {
    offset = static_cast<std::size_t>(c.p1) << 8 | c.p2;
  }
  const CardFile* file = currentFile();
  if (file == nullptr) return statusOnly(Sw::NoCurrentEf);
  if (file->kind != FileKind::Binary) return statusOnly(Sw::IncompatibleFile);
  if (file->needsSignPin && !signVerified) return statusOnly(Sw::SecurityStatusNotSatisfied);
  if (offset >= file->content.size()) return statusOnly(Sw::WrongP1P2Offset);
  const std::size_t n = std::min(*c.le, file->content.size() - offset);
  const auto begin = file->content.begin() + static_cast<std::ptrdiff_t>(offset);
  return withStatus(Bytes(begin, begin + static_cast<std::ptrdiff_t>(n)), Sw::Ok);
}

// VERIFY (§3.3, §3.4): P1=00 and P2=80 (the PIN of the current EF) → else 6A86 [the P2=80|SFI
// form is not modelled]. The current EF must be a PIN IEF (0018/001B); none, or another kind of
// EF → 6986 [choice]. Case 1: 63Cx with the tries left, always (also when verified or blocked —
// a blocked PIN answers 63C0 [choice, §11.3]); no try is spent. Case 3: blocked → 6984;
// correct (exact bytes, so a lower-case sign password is simply wrong) → counter back to max,
// flag set, 9000; wrong → flag cleared [choice], counter − 1, 63Cx (63C0 when it reaches 0).
// Case 2/4 (an Le) → 6700.
Bytes VirtualCard::Impl::verify(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x80) return statusOnly(Sw::WrongP1P2);
  if (c.le) return statusOnly(Sw::WrongLength);
  const CardFile* file = currentFile();
  if (file == nullptr || file->kind != FileKind::Pin) return statusOnly(Sw::NoCurrentEf);
  const bool sign = file->signSide;
  const int tries = pins.tries(sign);
  if (!c.hasData()) return triesStatus(tries);
  if (tries == 0) return statusOnly(Sw::ReferenceDataBlocked);
  const std::string& pin = pins.pin(sign);
  const bool match =
      pin.size() == c.data.size() && CRYPTO_memcmp(pin.data(), c.data.data(), pin.size()) == 0;
  if (match) {
    pins.set(sign, PinStore::maxTries(sign));
    verifiedFlag(sign) = true;
    return statusOnly(Sw::Ok);
  }
  verifiedFlag(sign) = false;
  pins.set(sign, tries - 1);
  return triesStatus(tries - 1);
}

// CHANGE REFERENCE DATA (§3.5, §10.7): P1=01 (new value only) and P2=80 (the PIN of the current
// EF) → else 6A86 [the ISO P1=00 form, current and new value together, is not modelled]. Case 3
// only → else 6700. The current EF must be a PIN IEF → else 6986 (as VERIFY). Blocked → 6984.
// The PIN must have been verified since the AP was last selected (SELECT AID and reset clear it;
// a failed VERIFY too) → else 6982. The new value must obey the rule of the PIN it replaces
// (validPinValue: 4 digits; 6-16 of A-Z and 0-9, so lower case is refused) → else 6A80 and the
// PIN is kept. Otherwise the PIN is replaced and persisted with the counters (--state), the
// counter stays full and the PIN stays verified [choice], 9000.
Bytes VirtualCard::Impl::changeReferenceData(const CommandApdu& c) {
  if (c.p1 != 0x01 || c.p2 != 0x80) return statusOnly(Sw::WrongP1P2);
  if (!c.hasData() || c.le) return statusOnly(Sw::WrongLength);
  const CardFile* file = currentFile();
  if (file == nullptr || file->kind != FileKind::Pin) return statusOnly(Sw::NoCurrentEf);
  const bool sign = file->signSide;
  if (pins.tries(sign) == 0) return statusOnly(Sw::ReferenceDataBlocked);
  if (!verifiedFlag(sign)) return statusOnly(Sw::SecurityStatusNotSatisfied);
  if (!validPinValue(sign, c.data)) return statusOnly(Sw::WrongData);
  pins.setPin(sign, std::string(c.data.begin(), c.data.end()));
  return statusOnly(Sw::Ok);
}

// COMPUTE DIGITAL SIGNATURE (§3.6): CLA 80, P1=00 (only the standard variant) and P2=80 (the key
// of the current EF) → else 6A86. The current EF must be 0017 with the auth PIN verified or 001A
// with the sign PIN verified → else 6982. Data 1..245 bytes → else 6700 (case 3 without Le is
// accepted too). The data is PKCS#1 v1.5 type-01 padded and RSA-signed: 256 bytes + 9000.
Bytes VirtualCard::Impl::computeSignature(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x80) return statusOnly(Sw::WrongP1P2);
  const CardFile* file = currentFile();
  if (df != Df::Jpki || file == nullptr || file->kind != FileKind::Key) {
    return statusOnly(Sw::SecurityStatusNotSatisfied);
  }
  const bool sign = file->signSide;
  if (!(sign ? signVerified : authVerified)) return statusOnly(Sw::SecurityStatusNotSatisfied);
  if (c.data.empty() || c.data.size() > kMaxSignInput) return statusOnly(Sw::WrongLength);
  EVP_PKEY* key = sign ? signKey.get() : authKey.get();
  if (key == nullptr) return statusOnly(Sw::ConditionsNotSatisfied);

  // EVP_PKEY_sign without a message digest and with PKCS#1 padding pads the input as given.
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, c.data.data(), c.data.size()) <= 0) {
    return statusOnly(Sw::ConditionsNotSatisfied);
  }
  Bytes signature(len);
  if (EVP_PKEY_sign(ctx.get(), signature.data(), &len, c.data.data(), c.data.size()) <= 0) {
    return statusOnly(Sw::ConditionsNotSatisfied);
  }
  signature.resize(len);
  return withStatus(std::move(signature), Sw::Ok);
}

// GET CHALLENGE (§3.7): P1=P2=00 → else 6A86; case 2 only → else 6700; extended Le → 6985.
Bytes VirtualCard::Impl::getChallenge(const CommandApdu& c) {
  if (c.p1 != 0x00 || c.p2 != 0x00) return statusOnly(Sw::WrongP1P2);
  if (c.hasData() || !c.le) return statusOnly(Sw::WrongLength);
  if (c.extended) return statusOnly(Sw::ConditionsNotSatisfied);
  Bytes random(*c.le);
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return statusOnly(Sw::ConditionsNotSatisfied);
  }
  return withStatus(std::move(random), Sw::Ok);
}

}  // namespace jpki::vcard
