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

enum class KeyRole { Auth, Sign };                  // 利用者証明用 / 署名用
enum class CertFile { Auth, AuthCa, Sign, SignCa };  // EF 000A / 000B / 0001 / 0002
enum class CardKind { MyNumberCard, JukiCard, Smartphone, Unknown };

// The card's layout, as data (shared/reference/jpki-card.md §1-§2, §9).
namespace layout {
inline constexpr std::array<std::uint8_t, 10> kAid = {0xD3, 0x92, 0xF0, 0x00, 0x26,
                                                       0x01, 0x00, 0x00, 0x00, 0x01};
inline constexpr std::uint16_t kEfSignCert = 0x0001;
inline constexpr std::uint16_t kEfSignCaCert = 0x0002;
inline constexpr std::uint16_t kEfTokenInfo = 0x0006;
inline constexpr std::uint16_t kEfCertPresence = 0x0008;
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
inline constexpr const KeyInfo& key(KeyRole role) { return role == KeyRole::Auth ? kAuthKey : kSignKey; }
std::uint16_t certEf(CertFile file);
inline constexpr std::size_t kMaxSignInput = 245;  // k - 11 for RSA-2048 PKCS#1 v1.5
}  // namespace layout

// PIN format rules, applied before anything reaches the card:
//   Auth: exactly 4 ASCII digits.
//   Sign: 6-16 characters of A-Z / 0-9; a-z are upper-cased first (the card stores upper case).
// Returns the normalised PIN, or nullopt with *reason set (for the debug log; never contains
// the PIN itself).
std::optional<SecretBytes> normalisePin(KeyRole role, ByteView pin, std::string* reason);

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

// One card in one reader. Each public method runs in one PC/SC transaction and throws jpki::Error.
//
// Selection guard: files are only read in a transaction in which the JPKI AP is known to be the
// current DF, i.e. after this transaction's SELECT AID or a successful SELECT of a JPKI-only EF
// (0017/0018/001A/001B). SELECT AID clears the card's verified state, so it is skipped while a PIN
// is verified and the state is still trusted; a failing key/PIN EF select reveals another AP.
class JpkiCard {
 public:
  explicit JpkiCard(std::unique_ptr<CardConnection> connection);
  ~JpkiCard();
  JpkiCard(const JpkiCard&) = delete;
  JpkiCard& operator=(const JpkiCard&) = delete;

  // Selects the AP and reads the token-info label (EF 0006). Throws Errc::NotJpki for other cards.
  CardKind kind();
  std::string tokenLabel();

  // Certificate DER, read once and cached. CertFile::Sign needs the sign PIN verified (else
  // Errc::SecurityStatus); it is read in the same transaction as a successful sign verify().
  const Bytes& certificate(CertFile file);
  [[nodiscard]] bool certificateCached(CertFile file) const;

  // Tries left without spending a try (empty VERIFY).
  PinStatus pinStatus(KeyRole role);

  // Validates with normalisePin() first (Errc::PinFormat, no APDU), refuses a locked PIN
  // (Errc::PinLocked) when the counter is already known to be 0, then VERIFYs.
  VerifyResult verify(KeyRole role, ByteView pin);

  // Signs a DigestInfo (1..245 bytes) with PKCS#1 v1.5 padding applied by the card.
  // Errc::SecurityStatus when the PIN is not (or no longer) verified.
  Bytes sign(KeyRole role, ByteView digestInfo);

  // Clears the card's verified state for both keys (re-SELECT of the AP).
  void logout();

  // Whether this client believes the PIN is verified on the card (drops to false on reset).
  [[nodiscard]] bool verified(KeyRole role) const;
  // Increases whenever a reset was observed (verified state lost); lets callers notice.
  [[nodiscard]] std::uint64_t resetGeneration() const;
  // SHA-256 of the authentication certificate: the card's identity.
  const Bytes& identity();

  [[nodiscard]] CardConnection& connection();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace jpki
