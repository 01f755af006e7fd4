// SPDX-License-Identifier: MIT
// The JPKI application (公的個人認証AP) client: knows the file layout as data and the command
// sequences for each operation. Never sees a CK_* type. Not thread-safe: the caller serialises.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "jpki/apdu.h"
#include "jpki/bytes.h"
#include "jpki/error.h"
#include "jpki/transport.h"

namespace jpki {

enum class KeyRole { Auth, Sign };                   // 利用者証明用 / 署名用
enum class CertFile { Auth, AuthCa, Sign, SignCa };  // EF 000A / 000B / 0001 / 0002
enum class CardKind { MyNumberCard, JukiCard, Smartphone, Unknown };
class CertificateStore;  // jpki/cert_cache.h

// Every name of a CardKind, in one table: the token label in EF 0006 that identifies it
// (jpki-card.md §2 [C]; "" for Unknown, which is any other label), the id of jpki-tool's --json,
// the text for people, and the PKCS#11 CK_TOKEN_INFO.model.
struct CardKindInfo {
  CardKind kind;
  const char* label;
  const char* id;
  const char* text;
  const char* model;
};
inline constexpr std::array<CardKindInfo, 4> kCardKinds{{
    {CardKind::MyNumberCard, "JPKIAPICCTOKEN2", "my-number-card", "My Number Card", "MyNumberCard"},
    {CardKind::JukiCard, "JPKIAPICCTOKEN", "juki-card",
     "old Basic Resident Register card (juki card)", "JukiCard"},
    {CardKind::Smartphone, "JPKIAPGPSETOKEN", "smartphone", "smartphone JPKI (not a card)",
     "Smartphone"},
    {CardKind::Unknown, "", "unknown", "other JPKI token", "Unknown"},
}};
constexpr const CardKindInfo& cardKindInfo(CardKind kind) {
  for (const CardKindInfo& info : kCardKinds) {
    if (info.kind == kind) {
      return info;
    }
  }
  return kCardKinds.back();
}

// The card's layout, as data (shared/reference/jpki-card.md §1-§2, §9).
namespace layout {
inline constexpr std::array<std::uint8_t, 10> kAid = {0xD3, 0x92, 0xF0, 0x00, 0x26,
                                                      0x01, 0x00, 0x00, 0x00, 0x01};
inline constexpr std::uint16_t kEfSignCert = 0x0001;
inline constexpr std::uint16_t kEfSignCaCert = 0x0002;
inline constexpr std::uint16_t kEfTokenInfo = 0x0006;
inline constexpr std::uint16_t kEfAuthCert = 0x000A;
inline constexpr std::uint16_t kEfAuthCaCert = 0x000B;
inline constexpr std::uint16_t kEfAuthKey = 0x0017;
inline constexpr std::uint16_t kEfAuthPin = 0x0018;
inline constexpr std::uint16_t kEfSignKey = 0x001A;
inline constexpr std::uint16_t kEfSignPin = 0x001B;

struct KeyInfo {
  std::uint16_t keyEf;
  std::uint16_t pinEf;
  int maxTries;
  std::size_t minPinLen;
  std::size_t maxPinLen;
};
inline constexpr KeyInfo kAuthKey{kEfAuthKey, kEfAuthPin, 3, 4, 4};
inline constexpr KeyInfo kSignKey{kEfSignKey, kEfSignPin, 5, 6, 16};
inline constexpr const KeyInfo& key(KeyRole role) {
  return role == KeyRole::Auth ? kAuthKey : kSignKey;
}
std::uint16_t certEf(CertFile file);
inline constexpr std::size_t kMaxSignInput = 245;  // k - 11 for RSA-2048 PKCS#1 v1.5
}  // namespace layout

// PIN format rules, applied before anything reaches the card (the only copy of these rules on the
// client side: VERIFY, and both values of a PIN change, go through it):
//   Auth: exactly 4 ASCII digits.
//   Sign: 6-16 characters of A-Z / 0-9; a-z are upper-cased first (the card stores upper case).
// Returns the normalised PIN, or nullopt with *reason set (for the debug log; never contains
// the PIN itself) and *fault saying which rule was broken.
enum class PinFault { Length, Characters };
std::optional<SecretBytes> normalisePin(KeyRole role, ByteView pin, std::string* reason,
                                        PinFault* fault = nullptr);

struct PinStatus {
  int triesLeft = 0;
  int maxTries = 0;
  [[nodiscard]] bool locked() const noexcept { return triesLeft == 0; }
};

enum class VerifyOutcome { Ok, WrongPin, Locked };
struct VerifyResult {
  VerifyOutcome outcome = VerifyOutcome::WrongPin;
  int triesLeft = 0;  // after the attempt
};

// WrongPin / Locked: the VERIFY of the current PIN failed, nothing was changed. NewPinRefused: the
// current PIN was right (its counter is full again) but the card refused the new value.
enum class ChangePinOutcome { Ok, WrongPin, Locked, NewPinRefused };
struct ChangePinResult {
  ChangePinOutcome outcome = ChangePinOutcome::WrongPin;
  int triesLeft = 0;  // of the current PIN, after its VERIFY
};

// One card in one reader. Each public method runs in one PC/SC transaction and throws jpki::Error,
// unless a JpkiCard::Batch is open: then every call shares the batch's one transaction (and what is
// known to be selected in it), so a multi-call operation confirms the AP once and never re-selects
// the current EF.
//
// Selection guard: files are only read in a transaction in which the JPKI AP is known to be the
// current DF. At the start of a transaction the AP is confirmed WITHOUT SELECT AID: the first
// SELECT is of a JPKI-only EF (0017/0018/001A/001B: the key or PIN EF the operation needs anyway,
// or the PIN EF 0018/001B before a file read), and 9000 proves the JPKI AP is current. Only when
// that SELECT fails (6A82: another AP, or the ISD after power-on; any answer other than 9000 is
// treated the same, since the JPKI AP always has these EFs) is SELECT AID sent, and the
// card's verified state is then gone (flags dropped; a sign() in progress fails with
// SecurityStatus). SELECT AID clears the verified state for EVERY process using the card, so it is
// never sent while the AP is known current, except by logout().
class JpkiCard {
 public:
  explicit JpkiCard(std::unique_ptr<CardConnection> connection);
  ~JpkiCard();
  JpkiCard(const JpkiCard&) = delete;
  JpkiCard& operator=(const JpkiCard&) = delete;

  // Groups the calls made while it lives into ONE transaction (begun lazily at the first APDU,
  // ended by the destructor of the outermost Batch; nesting is allowed). A transport error inside
  // ends the shared transaction; the next call begins a fresh one. Keep it short-lived (one C_*
  // call): no other process can use the card while it holds the transaction.
  class Batch {
   public:
    explicit Batch(JpkiCard& card) noexcept;
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    JpkiCard& card_;
  };

  // Optional store shared between processes (jpki/cert_cache.h) for the public certificates and
  // the token label; none (the default) keeps them in this object only. Never used for the
  // signature certificate.
  void setCertificateStore(std::shared_ptr<CertificateStore> store);

  // Reads the token-info label (EF 0006) once. Throws Errc::NotJpki for other cards. With a store
  // and the identity known (call identity() first), a stored label for this card costs no APDU.
  CardKind kind();
  std::string tokenLabel();
  // Makes sure the card has the JPKI AP (once per JpkiCard; at most one SELECT EF, or SELECT AID
  // when the AP is not current). Throws Errc::NotJpki for other cards.
  void ensureJpki();

  // Certificate DER, read once and cached. CertFile::Sign needs the sign PIN verified (else
  // Errc::SecurityStatus without an APDU); it is read when asked for, not by verify(). The
  // authentication certificate continues from the chunk identity() already read. With a store,
  // the first chunk is read as always and looked up: a stored copy that starts with exactly that
  // chunk and has the length of the card's DER header is used without reading the rest; on a
  // miss the rest is read and the certificate stored (never the signature certificate).
  const Bytes& certificate(CertFile file);
  [[nodiscard]] bool certificateCached(CertFile file) const;
  // Whether the certificate EF exists (SELECT EF: 9000 / 6A82, no READ, no PIN needed even for
  // the sign certificate), cached; true without an APDU once the certificate was read. A card
  // without a signature certificate (a minor's) answers false for CertFile::Sign.
  bool certificatePresent(CertFile file);

  // Opens a transaction (the Batch's, if one is open) without sending an APDU, so that a reset of
  // the card since the last one is noticed: login dropped, PIN counters forgotten, and the identity
  // re-checked as after any reset (one READ BINARY chunk then).
  void noticeReset();

  // Tries left without spending a try (empty VERIFY).
  PinStatus pinStatus(KeyRole role);
  // The counter as last learnt (pinStatus, verify) since the card was last reset or reconnected,
  // without an APDU; nullopt when unknown.
  [[nodiscard]] std::optional<PinStatus> knownPinStatus(KeyRole role) const;

  // Validates with normalisePin() first (Errc::PinFormat, no APDU), refuses a locked PIN
  // (Errc::PinLocked) when the counter is already known to be 0, then, in one transaction, reads
  // the counter with an empty VERIFY and VERIFYs only if it is not 0: a locked PIN never receives a
  // VERIFY with data, whatever another process did since the counter was last learnt.
  VerifyResult verify(KeyRole role, ByteView pin);

  // Changes the PIN of `role` (jpki-card.md §3.5, [C1]). Both values pass normalisePin() before
  // any APDU: a malformed current PIN is Errc::PinFormat, a malformed new one Errc::NewPinFormat
  // (the new PIN obeys the rules of the PIN it replaces; a-z upper-cased). Then, in ONE
  // transaction: the current PIN is verified exactly as by verify() (counter known to be 0:
  // Errc::PinLocked without an APDU; else an empty VERIFY first, so a locked PIN never receives
  // a VERIFY with data), and only after its 9000 CHANGE REFERENCE DATA (P1=01) carries the new PIN
  // to the same PIN EF. Nothing is ever resent; both values are wiped after use. 6A80 or 6700 to
  // the CHANGE is NewPinRefused; any other status throws (6982: SecurityStatus, 6983/6984:
  // PinLocked, else CardStatus); a transport error after the CHANGE went out says in its message
  // that whether the PIN changed is unknown. After Ok or NewPinRefused the PIN stays verified, as
  // after verify().
  ChangePinResult changePin(KeyRole role, ByteView currentPin, ByteView newPin);

  // Signs a DigestInfo (1..245 bytes) with PKCS#1 v1.5 padding applied by the card.
  // Errc::SecurityStatus when the PIN is not (or no longer) verified.
  Bytes sign(KeyRole role, ByteView digestInfo);

  // Clears the card's verified state for both keys by re-SELECTing the AP. The card offers no
  // per-key or per-process logout: this logs out EVERY process (and both tokens) using the card.
  // No APDU when mayHoldLogin() is false (nothing of ours can be verified on the card).
  void logout();
  // Whether a PIN this client sent may still be verified on the card: verified(), or a VERIFY whose
  // answer was lost. False after logout, a reset, or only refused/unsent PINs.
  [[nodiscard]] bool mayHoldLogin() const;

  // Whether this client believes the PIN is verified on the card (drops to false on reset).
  [[nodiscard]] bool verified(KeyRole role) const;
  // Increases whenever a reset was observed (verified state lost); lets callers notice.
  [[nodiscard]] std::uint64_t resetGeneration() const;
  // The card's identity: SHA-256 of the first READ BINARY chunk of the authentication certificate
  // (its first min(256, length) bytes, which hold the serial number and the issuer), cached. Costs
  // one SELECT EF + one READ BINARY when the certificate was not read yet. After a card reset the
  // next transaction re-reads that one chunk and throws Errc::CardReplaced if it differs.
  const Bytes& identity();
  [[nodiscard]] bool identityKnown() const;

  [[nodiscard]] CardConnection& connection();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace jpki
