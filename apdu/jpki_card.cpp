// The JPKI application client (jpki-card.md §1-§4, §10). Every public operation runs in one
// Transaction through a Session that tracks what is selected on the card during it, so no
// SELECT is repeated and files are only read while the JPKI AP is known to be current.
#include "jpki/jpki_card.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

namespace jpki {

namespace layout {
std::uint16_t certEf(CertFile file) {
  switch (file) {
    case CertFile::Auth: return kEfAuthCert;
    case CertFile::AuthCa: return kEfAuthCaCert;
    case CertFile::Sign: return kEfSignCert;
    case CertFile::SignCa: return kEfSignCaCert;
  }
  throw Error(Errc::InvalidInput, "unknown certificate file");
}
}  // namespace layout

namespace {

constexpr std::size_t kMaxCertSize = 16 * 1024;  // far above any JPKI certificate (~1.4 KB)
constexpr std::size_t kChunk = 256;               // short APDU Le=00
constexpr std::size_t kSignatureSize = 256;       // RSA-2048
constexpr std::size_t kLabelSize = 0x20;          // CK_TOKEN_INFO.label

std::size_t roleIndex(KeyRole role) { return role == KeyRole::Auth ? 0 : 1; }
std::size_t certIndex(CertFile file) { return static_cast<std::size_t>(file); }

// EFs that only exist in the JPKI AP: a successful SELECT of one proves the AP is current.
bool isJpkiOnlyEf(std::uint16_t fid) {
  return fid == layout::kEfAuthKey || fid == layout::kEfAuthPin || fid == layout::kEfSignKey ||
         fid == layout::kEfSignPin;
}

std::string hex4(std::uint16_t v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string s(4, '0');
  for (int i = 3; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = kDigits[v & 0xF];
    v = static_cast<std::uint16_t>(v >> 4);
  }
  return s;
}

// Turns an unexpected status word into the typed error (the one SW -> Errc mapping here).
[[noreturn]] void throwSw(std::uint16_t sw, const std::string& context) {
  const std::string what = context + ": " + apdu::swText(sw);
  switch (sw) {
    case 0x6982: throw Error(Errc::SecurityStatus, what, sw);
    case 0x6A82: throw Error(Errc::FileNotFound, what, sw);
    case 0x6983:
    case 0x6984: throw Error(Errc::PinLocked, what, sw);
    default: throw Error(Errc::CardStatus, what, sw);
  }
}

Bytes sha256(ByteView data) {
  Bytes out(32);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    throw Error(Errc::Transport, "SHA-256 failed (OpenSSL)");
  }
  return out;
}

// Total length of a certificate from its DER header (SEQUENCE with a long-form length).
std::size_t derTotalLength(const Bytes& head) {
  if (head.size() < 4 || head[0] != 0x30) {
    throw Error(Errc::BadResponse, "certificate EF does not start with a DER SEQUENCE");
  }
  std::size_t total = 0;
  if (head[1] == 0x81) {
    total = 3 + static_cast<std::size_t>(head[2]);
  } else if (head[1] == 0x82) {
    total = 4 + ((static_cast<std::size_t>(head[2]) << 8) | head[3]);
  } else {
    throw Error(Errc::BadResponse, "certificate EF has an unsupported DER length form");
  }
  if (total > kMaxCertSize) {
    throw Error(Errc::BadResponse, "certificate length in the DER header exceeds 16 KiB");
  }
  return total;
}

}  // namespace

namespace detail {
// Everything a JpkiCard knows between transactions (JpkiCard::State is this).
struct CardState {
  std::unique_ptr<CardConnection> connection;
  std::array<std::optional<Bytes>, 4> certs;
  std::optional<std::string> label;
  std::optional<Bytes> identity;
  std::array<bool, 2> verified{false, false};
  std::array<std::optional<int>, 2> tries;
  std::uint64_t resetGeneration = 0;

  bool anyVerified() const { return verified[0] || verified[1]; }
  void dropLogin() { verified = {false, false}; }
  void clearCaches() {
    for (auto& c : certs) {
      c.reset();
    }
    label.reset();
    identity.reset();
    tries = {std::nullopt, std::nullopt};
  }
};
}  // namespace detail

struct JpkiCard::State : detail::CardState {};

namespace {

// One transaction plus what this client knows is selected on the card during it.
class Session {
 public:
  Session(detail::CardState& state) : state_(state), tx_(*state.connection) {
    if (tx_.cardWasReset()) {
      onReset();
    }
  }

  apdu::Response send(const apdu::Command& command) {
    try {
      return tx_.send(command);
    } catch (const Error& e) {
      if (e.code() == Errc::CardReset) {
        // The card lost its selection and login; the next transaction re-checks the identity.
        state_.dropLogin();
        ++state_.resetGeneration;
      }
      throw;
    }
  }

  // SELECT of the JPKI AID; the card clears both verified flags when it is (re)selected.
  void selectAid() {
    const apdu::Response r = send(apdu::selectAid(layout::kAid));
    current_.reset();
    state_.dropLogin();
    if (!r.ok()) {
      confirmed_ = false;
      throw Error(Errc::NotJpki, "the card has no JPKI application: " + apdu::swText(r.sw), r.sw);
    }
    confirmed_ = true;
  }

  // SELECT EF without any guard; returns the SW. Skipped when the EF is already current.
  std::uint16_t selectEf(std::uint16_t fid) {
    if (confirmed_ && current_ == fid) {
      return 0x9000;
    }
    const apdu::Response r = send(apdu::selectEf(fid));
    if (!r.ok()) {
      current_.reset();
      return r.sw;
    }
    current_ = fid;
    if (isJpkiOnlyEf(fid)) {
      confirmed_ = true;
    }
    return r.sw;
  }

  // Makes `fid` the current EF while guaranteeing the JPKI AP is current. Returns the SW of the
  // final SELECT EF. When another application turned out to be selected while a PIN was believed
  // verified, the AP is re-selected (the login is gone); if loginLost is given, *loginLost is set
  // and nothing more is selected.
  std::uint16_t selectInJpki(std::uint16_t fid, bool* loginLost = nullptr) {
    if (!confirmed_) {
      if (state_.anyVerified()) {
        // SELECT AID would log us out: confirm the AP with a JPKI-only EF instead.
        const std::uint16_t probe =
            isJpkiOnlyEf(fid) ? fid
                              : layout::key(state_.verified[0] ? KeyRole::Auth : KeyRole::Sign).pinEf;
        const std::uint16_t sw = selectEf(probe);
        if (sw == 0x9000) {
          if (probe == fid) {
            return sw;
          }
        } else if (sw == 0x6A82) {
          selectAid();  // another application was selected: our login is gone anyway
          if (loginLost != nullptr) {
            *loginLost = true;
            return sw;  // the caller needed the login: nothing more to select
          }
        } else {
          throwSw(sw, "SELECT EF " + hex4(probe));
        }
      } else {
        selectAid();
      }
    }
    return selectEf(fid);
  }

  apdu::Transaction& transaction() { return tx_; }

 private:
  // Card reset since the last transaction: selection and login are gone; make sure the same
  // card answers (jpki-card.md §7 / OpenSC card_reader_lock_obtained).
  void onReset();

  detail::CardState& state_;
  apdu::Transaction tx_;
  bool confirmed_ = false;                // JPKI AP known to be current in this transaction
  std::optional<std::uint16_t> current_;  // EF known to be current in this transaction

  friend Bytes readCertificate(Session& session, CertFile file);
};

// Reads a certificate EF: the first READ BINARY (Le=256) also carries the DER header, the rest
// follows in 256-byte chunks with the last Le exact (jpki-card.md §3.2).
Bytes readCertificate(Session& session, CertFile file) {
  const std::uint16_t fid = layout::certEf(file);
  const std::string context = "certificate EF " + hex4(fid);
  const std::uint16_t selectSw = session.selectInJpki(fid);
  if (selectSw != 0x9000) {
    throwSw(selectSw, "SELECT " + context);
  }
  apdu::Response first = session.send(apdu::readBinary(0, kChunk));
  if (!first.ok() && first.sw != 0x6282) {
    throwSw(first.sw, "READ BINARY " + context);
  }
  if (first.data.size() > kChunk) {
    throw Error(Errc::BadResponse, context + ": card returned more data than requested");
  }
  const std::size_t total = derTotalLength(first.data);
  Bytes der = std::move(first.data);
  bool endOfFile = der.size() < kChunk || first.sw == 0x6282;
  if (der.size() > total) {
    der.resize(total);  // filler after the DER object
  }
  while (der.size() < total && !endOfFile) {
    const std::size_t offset = der.size();
    const std::size_t want = std::min(kChunk, total - offset);
    const apdu::Response r = session.send(
        apdu::readBinary(static_cast<std::uint16_t>(offset), static_cast<std::uint32_t>(want)));
    if (r.sw == 0x6B00) {
      break;  // offset beyond the EF
    }
    if (!r.ok() && r.sw != 0x6282) {
      throwSw(r.sw, "READ BINARY " + context);
    }
    if (r.data.size() > want) {
      throw Error(Errc::BadResponse, context + ": card returned more data than requested");
    }
    der.insert(der.end(), r.data.begin(), r.data.end());
    endOfFile = r.data.size() < want || r.sw == 0x6282;
  }
  if (der.size() < total) {
    throw Error(Errc::BadResponse, context + ": certificate truncated (" +
                                       std::to_string(der.size()) + " of " +
                                       std::to_string(total) + " bytes)");
  }
  return der;
}

void Session::onReset() {
  state_.dropLogin();
  ++state_.resetGeneration;
  if (!state_.identity) {
    return;
  }
  const Bytes cert = readCertificate(*this, CertFile::Auth);
  if (sha256(cert) != *state_.identity) {
    state_.clearCaches();
    throw Error(Errc::CardReplaced, "a different card answered after the reset");
  }
  state_.certs[certIndex(CertFile::Auth)] = cert;
}

}  // namespace

JpkiCard::JpkiCard(std::unique_ptr<CardConnection> connection) : state_(std::make_unique<State>()) {
  if (!connection) {
    throw Error(Errc::InvalidInput, "JpkiCard needs a connection");
  }
  state_->connection = std::move(connection);
}

JpkiCard::~JpkiCard() = default;

CardConnection& JpkiCard::connection() { return *state_->connection; }

bool JpkiCard::verified(KeyRole role) const { return state_->verified[roleIndex(role)]; }

std::uint64_t JpkiCard::resetGeneration() const { return state_->resetGeneration; }

bool JpkiCard::certificateCached(CertFile file) const {
  return state_->certs[certIndex(file)].has_value();
}

std::string JpkiCard::tokenLabel() {
  if (state_->label) {
    return *state_->label;
  }
  Session session(*state_);
  const std::uint16_t sw = session.selectInJpki(layout::kEfTokenInfo);
  if (sw != 0x9000) {
    throwSw(sw, "SELECT token info EF 0006");
  }
  const apdu::Response r = session.send(apdu::readBinary(0, kLabelSize));
  if (!r.ok() && r.sw != 0x6282) {
    throwSw(r.sw, "READ BINARY token info EF 0006");
  }
  if (r.data.size() > kLabelSize) {
    throw Error(Errc::BadResponse, "token info: card returned more data than requested");
  }
  std::string label(r.data.begin(), r.data.end());
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) {
    label.pop_back();
  }
  state_->label = label;
  return label;
}

CardKind JpkiCard::kind() {
  const std::string label = tokenLabel();
  if (label == "JPKIAPICCTOKEN2") return CardKind::MyNumberCard;
  if (label == "JPKIAPICCTOKEN") return CardKind::JukiCard;
  if (label == "JPKIAPGPSETOKEN") return CardKind::Smartphone;
  return CardKind::Unknown;
}

const Bytes& JpkiCard::certificate(CertFile file) {
  auto& slot = state_->certs[certIndex(file)];
  if (slot) {
    return *slot;
  }
  if (file == CertFile::Sign && !state_->verified[roleIndex(KeyRole::Sign)]) {
    throw Error(Errc::SecurityStatus, "the signature certificate needs the signature PIN",
                0x6982);
  }
  Session session(*state_);
  if (slot) {
    return *slot;  // the reset check in Session may have re-read it
  }
  slot = readCertificate(session, file);
  return *slot;
}

const Bytes& JpkiCard::identity() {
  if (!state_->identity) {
    state_->identity = sha256(certificate(CertFile::Auth));
  }
  return *state_->identity;
}

namespace {
PinStatus statusFromSw(std::uint16_t sw, int maxTries) {
  if (auto tries = apdu::triesLeft(sw)) {
    return PinStatus{*tries, maxTries};
  }
  if (sw == 0x6984 || sw == 0x6983) {
    return PinStatus{0, maxTries};
  }
  throwSw(sw, "PIN status (empty VERIFY)");
}

std::uint16_t selectPinEf(Session& session, KeyRole role) {
  const std::uint16_t pinEf = layout::key(role).pinEf;
  const std::uint16_t sw = session.selectInJpki(pinEf);
  if (sw != 0x9000) {
    throwSw(sw, "SELECT PIN EF " + hex4(pinEf));
  }
  return pinEf;
}
}  // namespace

PinStatus JpkiCard::pinStatus(KeyRole role) {
  const layout::KeyInfo& info = layout::key(role);
  Session session(*state_);
  selectPinEf(session, role);
  const apdu::Response r = session.send(apdu::verifyStatus());
  const PinStatus status = statusFromSw(r.sw, info.maxTries);
  state_->tries[roleIndex(role)] = status.triesLeft;
  return status;
}

VerifyResult JpkiCard::verify(KeyRole role, ByteView pin) {
  const layout::KeyInfo& info = layout::key(role);
  const std::size_t index = roleIndex(role);
  std::string reason;
  std::optional<SecretBytes> normalised = normalisePin(role, pin, &reason);
  if (!normalised) {
    throw Error(Errc::PinFormat, "PIN refused before reaching the card: " + reason);
  }
  if (state_->tries[index] == 0) {
    throw Error(Errc::PinLocked, "the PIN is locked (no tries left)", 0x6984);
  }

  Session session(*state_);
  selectPinEf(session, role);
  if (!state_->tries[index]) {
    // Learn the counter first (spends no try) so a locked PIN never receives a VERIFY with data.
    const apdu::Response r = session.send(apdu::verifyStatus());
    state_->tries[index] = statusFromSw(r.sw, info.maxTries).triesLeft;
    if (state_->tries[index] == 0) {
      throw Error(Errc::PinLocked, "the PIN is locked (no tries left)", r.sw);
    }
  }

  apdu::Command command = apdu::verify(normalised->view());
  normalised->clear();
  apdu::Response r;
  try {
    r = session.send(command);
  } catch (...) {
    secureWipe(command.data.data(), command.data.size());
    throw;
  }
  secureWipe(command.data.data(), command.data.size());

  VerifyResult result;
  if (r.ok()) {
    state_->verified[index] = true;
    state_->tries[index] = info.maxTries;
    result = {VerifyOutcome::Ok, info.maxTries};
    if (role == KeyRole::Sign && !state_->certs[certIndex(CertFile::Sign)]) {
      // The sign certificate is only readable now: fetch it in the same transaction.
      try {
        state_->certs[certIndex(CertFile::Sign)] = readCertificate(session, CertFile::Sign);
      } catch (const Error& e) {
        const Errc c = e.code();
        if (c != Errc::FileNotFound && c != Errc::SecurityStatus && c != Errc::CardStatus &&
            c != Errc::BadResponse) {
          throw;  // transport trouble: let the caller see it
        }
        // A card without a sign certificate (e.g. a minor's) still has a valid login.
      }
    }
    return result;
  }
  state_->verified[index] = false;
  if (auto tries = apdu::triesLeft(r.sw)) {
    state_->tries[index] = *tries;
    result = {*tries == 0 ? VerifyOutcome::Locked : VerifyOutcome::WrongPin, *tries};
    return result;
  }
  if (r.sw == 0x6984 || r.sw == 0x6983) {
    state_->tries[index] = 0;
    return {VerifyOutcome::Locked, 0};
  }
  throwSw(r.sw, "VERIFY");
}

Bytes JpkiCard::sign(KeyRole role, ByteView digestInfo) {
  const std::size_t index = roleIndex(role);
  if (digestInfo.empty() || digestInfo.size() > layout::kMaxSignInput) {
    throw Error(Errc::InvalidInput, "data to sign must be 1..245 bytes");
  }
  if (!state_->verified[index]) {
    throw Error(Errc::SecurityStatus, "the PIN for this key is not verified", 0x6982);
  }
  Session session(*state_);
  if (!state_->verified[index]) {
    throw Error(Errc::SecurityStatus, "the login was lost (card reset)", 0x6982);
  }
  const std::uint16_t keyEf = layout::key(role).keyEf;
  bool loginLost = false;
  const std::uint16_t sw = session.selectInJpki(keyEf, &loginLost);
  if (loginLost) {
    throw Error(Errc::SecurityStatus, "another application was selected: the login was lost",
                0x6982);
  }
  if (sw != 0x9000) {
    throwSw(sw, "SELECT key EF " + hex4(keyEf));
  }
  const apdu::Response r = session.send(apdu::computeSignature(digestInfo));
  if (r.sw == 0x6982) {
    state_->verified[index] = false;
    throw Error(Errc::SecurityStatus, "the card refused to sign: PIN not verified", r.sw);
  }
  if (!r.ok()) {
    throwSw(r.sw, "COMPUTE DIGITAL SIGNATURE");
  }
  if (r.data.size() != kSignatureSize) {
    throw Error(Errc::BadResponse, "signature of " + std::to_string(r.data.size()) +
                                       " bytes instead of 256");
  }
  return r.data;
}

void JpkiCard::logout() {
  Session session(*state_);
  session.selectAid();
}

}  // namespace jpki
