// The JPKI application client (jpki-card.md §1-§4, §10). Every public operation runs in one
// Transaction through a Session that tracks what is selected on the card during it, so no
// SELECT is repeated and files are only read while the JPKI AP is known to be current. A
// JpkiCard::Batch keeps one Session open across several calls.
//
// The AP is confirmed by SELECTing a JPKI-only EF (the PIN/key EF the operation needs, or a PIN EF
// before a file read); SELECT AID is the fallback when that fails, because SELECT AID clears the
// card's verified state for every process using the card.
#include "jpki/jpki_card.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "cert_der.h"
#include "jpki/cert_cache.h"

namespace jpki {

using apdu::Sw;

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

using detail::sha256;
constexpr std::size_t kChunk = detail::kCertChunk;  // short APDU Le=00
constexpr std::size_t kSignatureSize = 256;         // RSA-2048
constexpr std::size_t kLabelSize = 0x20;            // CK_TOKEN_INFO.label

std::size_t roleIndex(KeyRole role) { return role == KeyRole::Auth ? 0 : 1; }
std::size_t certIndex(CertFile file) { return static_cast<std::size_t>(file); }

// EFs that only exist in the JPKI AP: a successful SELECT of one proves the AP is current.
bool isJpkiOnlyEf(std::uint16_t fid) {
  return fid == layout::kEfAuthKey || fid == layout::kEfAuthPin || fid == layout::kEfSignKey ||
         fid == layout::kEfSignPin;
}

// Turns an unexpected status word into the typed error (the one SW -> Errc mapping here).
// 6983/6984 mean a blocked PIN or key only for the commands that use one (VERIFY, COMPUTE
// SIGNATURE: keyUse); on a SELECT or READ BINARY they are just an unexpected status.
[[noreturn]] void throwSw(std::uint16_t sw, const std::string& context, bool keyUse = false) {
  const std::string what = context + ": " + apdu::swText(sw);
  switch (static_cast<Sw>(sw)) {
    case Sw::SecurityStatusNotSatisfied:
      throw Error(Errc::SecurityStatus, what, sw);
    case Sw::FileNotFound:
      throw Error(Errc::FileNotFound, what, sw);
    case Sw::AuthMethodBlocked:
    case Sw::ReferenceDataBlocked:
      if (keyUse) {
        throw Error(Errc::PinLocked, what, sw);
      }
      throw Error(Errc::CardStatus, what, sw);
    default: throw Error(Errc::CardStatus, what, sw);
  }
}

// 6982 known without asking the card: the PIN the operation needs is not (or no longer) verified.
[[noreturn]] void throwLoginNeeded(const std::string& what) {
  throw Error(Errc::SecurityStatus, what, apdu::code(Sw::SecurityStatusNotSatisfied));
}

// Total length of a certificate from its DER header (SEQUENCE with a long-form length).
std::size_t derTotalLength(const Bytes& head) {
  if (const auto total = detail::certificateLength(head)) {
    return *total;
  }
  throw Error(Errc::BadResponse,
              "certificate EF does not start with a DER SEQUENCE (long-form length, <= 16 KiB)");
}

}  // namespace

namespace detail {
class Session;

// The first READ BINARY chunk of a certificate EF: up to 256 bytes, trimmed to the DER length.
struct CertHead {
  Bytes der;
  std::size_t total = 0;   // DER length from the header
  bool endOfFile = false;  // the card said there is nothing after this chunk
};

// Everything a JpkiCard knows between transactions (JpkiCard::State is this).
struct CardState {
  std::unique_ptr<CardConnection> connection;
  std::array<std::optional<Bytes>, 4> certs;
  std::optional<CertHead> authHead;  // first chunk of 000A while the whole certificate is not read
  std::optional<std::string> label;
  std::array<std::optional<bool>, 4> present;  // certificatePresent() answers
  std::optional<Bytes> identity;
  std::shared_ptr<CertificateStore> store;  // cross-process copies (public files only), optional
  std::array<bool, 2> verified{false, false};
  std::array<std::optional<int>, 2> tries;
  std::uint64_t resetGeneration = 0;
  bool jpkiSeen = false;  // the JPKI AP answered once on this card
  // Batch: declared after `connection` so the shared transaction ends before it goes away.
  int batchDepth = 0;
  std::unique_ptr<Session> batch;

  ~CardState();
  // A VERIFY with a PIN went out and its answer was lost (transport error, timeout): the card may
  // hold a verified PIN that this object does not know about.
  bool verifyOutcomeUnknown = false;
  bool anyVerified() const { return verified[0] || verified[1]; }
  bool mayHoldLogin() const { return anyVerified() || verifyOutcomeUnknown; }
  void dropLogin() {
    verified = {false, false};
    verifyOutcomeUnknown = false;
  }
  void clearCaches() {
    for (auto& c : certs) {
      c.reset();
    }
    authHead.reset();
    label.reset();
    present = {};
    identity.reset();
    tries = {std::nullopt, std::nullopt};
  }
};

// One transaction plus what this client knows is selected on the card during it.
class Session {
 public:
  explicit Session(CardState& state) : state_(state), tx_(*state.connection) {
    if (tx_.cardWasReset()) {
      onReset();
    }
  }

  // True after a transport error: the shared transaction of a Batch is not reused.
  [[nodiscard]] bool broken() const { return broken_; }

  apdu::Response send(const apdu::Command& command) {
    try {
      return tx_.send(command);
    } catch (const Error& e) {
      broken_ = true;
      confirmed_ = false;
      current_.reset();
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
    state_.jpkiSeen = true;
  }

  // SELECT EF without any guard; returns the SW. Skipped when the EF is already current.
  std::uint16_t selectEf(std::uint16_t fid) {
    if (confirmed_ && current_ == fid) {
      return apdu::code(Sw::Ok);
    }
    const apdu::Response r = send(apdu::selectEf(fid));
    if (!r.ok()) {
      current_.reset();
      return r.sw;
    }
    current_ = fid;
    if (isJpkiOnlyEf(fid)) {
      confirmed_ = true;
      state_.jpkiSeen = true;
    }
    return r.sw;
  }

  // Confirms the JPKI AP (a PIN EF select, SELECT AID when that fails); nothing when known.
  void confirm() {
    if (confirmed_) {
      return;
    }
    if (selectEf(probeEf()) != Sw::Ok) {
      selectAid();
    }
  }

  // Makes `fid` the current EF while guaranteeing the JPKI AP is current; returns the SW of the
  // final SELECT EF. Unconfirmed: the first SELECT is of a JPKI-only EF (`fid` itself when it is
  // one, else a PIN EF) and 9000 confirms the AP; any other answer (6A82: another AP or the ISD)
  // means SELECT AID, which logs out. If loginLost is given and a login was believed, *loginLost
  // is set and nothing more is selected (the caller needed that login).
  std::uint16_t selectInJpki(std::uint16_t fid, bool* loginLost = nullptr) {
    if (!confirmed_) {
      const std::uint16_t probe = isJpkiOnlyEf(fid) ? fid : probeEf();
      const bool hadLogin = state_.anyVerified();
      const std::uint16_t sw = selectEf(probe);
      if (sw == Sw::Ok) {
        if (probe == fid) {
          return sw;
        }
      } else {
        selectAid();  // another application was selected (or none): our login is gone anyway
        if (hadLogin && loginLost != nullptr) {
          *loginLost = true;
          return sw;
        }
      }
    }
    return selectEf(fid);
  }

 private:
  // The JPKI-only EF that confirms the AP before a file read: the PIN EF of a verified key (the
  // operation after the read is likely to need it), else the auth PIN EF.
  std::uint16_t probeEf() const {
    return state_.verified[1] && !state_.verified[0] ? layout::kEfSignPin : layout::kEfAuthPin;
  }

  // Card reset since the last transaction: selection and login are gone; make sure the same
  // card answers (jpki-card.md §7 / OpenSC card_reader_lock_obtained) with one chunk.
  void onReset();

  CardState& state_;
  apdu::Transaction tx_;
  bool confirmed_ = false;                // JPKI AP known to be current in this transaction
  std::optional<std::uint16_t> current_;  // EF known to be current in this transaction
  bool broken_ = false;
};

CardState::~CardState() { batch.reset(); }

// The session for one call: the open Batch's (begun now if needed), else its own transaction.
class SessionRef {
 public:
  explicit SessionRef(CardState& state) {
    if (state.batchDepth > 0) {
      if (state.batch && state.batch->broken()) {
        state.batch.reset();  // ends the broken transaction before a new one begins
      }
      if (!state.batch) {
        state.batch = std::make_unique<Session>(state);
      }
      session_ = state.batch.get();
    } else {
      own_.emplace(state);
      session_ = &*own_;
    }
  }
  Session& operator*() { return *session_; }
  Session* operator->() { return session_; }

 private:
  std::optional<Session> own_;
  Session* session_ = nullptr;
};

}  // namespace detail

struct JpkiCard::State : detail::CardState {};

namespace {

using detail::CertHead;
using detail::CardState;
using detail::Session;
using detail::SessionRef;

// Selects a certificate EF (JPKI confirmed) and reads its first chunk, which also carries the DER
// header (jpki-card.md §3.2).
CertHead readHead(Session& session, CertFile file) {
  const std::uint16_t fid = layout::certEf(file);
  const std::string context = "certificate EF " + toHex(fid);
  const std::uint16_t selectSw = session.selectInJpki(fid);
  if (selectSw != Sw::Ok) {
    throwSw(selectSw, "SELECT " + context);
  }
  apdu::Response first = session.send(apdu::readBinary(0, kChunk));
  if (!first.ok() && first.sw != Sw::WarningEndOfFile) {
    throwSw(first.sw, "READ BINARY " + context);
  }
  if (first.data.size() > kChunk) {
    throw Error(Errc::BadResponse, context + ": card returned more data than requested");
  }
  CertHead head;
  head.total = derTotalLength(first.data);
  head.der = std::move(first.data);
  head.endOfFile = head.der.size() < kChunk || first.sw == Sw::WarningEndOfFile;
  if (head.der.size() > head.total) {
    head.der.resize(head.total);  // filler after the DER object
  }
  return head;
}

// The rest of a certificate after its first chunk, in 256-byte chunks with the last Le exact.
Bytes readRest(Session& session, CertFile file, CertHead head) {
  const std::uint16_t fid = layout::certEf(file);
  const std::string context = "certificate EF " + toHex(fid);
  Bytes der = std::move(head.der);
  bool endOfFile = head.endOfFile;
  const std::size_t total = head.total;
  if (der.size() < total && !endOfFile) {
    const std::uint16_t selectSw = session.selectInJpki(fid);  // no APDU when still current
    if (selectSw != Sw::Ok) {
      throwSw(selectSw, "SELECT " + context);
    }
  }
  while (der.size() < total && !endOfFile) {
    const std::size_t offset = der.size();
    const std::size_t want = std::min(kChunk, total - offset);
    const apdu::Response r = session.send(
        apdu::readBinary(static_cast<std::uint16_t>(offset), static_cast<std::uint32_t>(want)));
    if (r.sw == Sw::WrongP1P2Offset) {
      break;  // offset beyond the EF
    }
    if (!r.ok() && r.sw != Sw::WarningEndOfFile) {
      throwSw(r.sw, "READ BINARY " + context);
    }
    if (r.data.size() > want) {
      throw Error(Errc::BadResponse, context + ": card returned more data than requested");
    }
    der.insert(der.end(), r.data.begin(), r.data.end());
    endOfFile = r.data.size() < want || r.sw == Sw::WarningEndOfFile;
  }
  if (der.size() < total) {
    throw Error(Errc::BadResponse, context + ": certificate truncated (" +
                                       std::to_string(der.size()) + " of " +
                                       std::to_string(total) + " bytes)");
  }
  return der;
}

// Identity = SHA-256 of the first min(256, length) bytes of the authentication certificate.
ByteView firstChunkOf(ByteView der) { return der.first(std::min(kChunk, der.size())); }
Bytes identityOf(ByteView der) { return sha256(firstChunkOf(der)); }

// A stored copy of a public certificate, accepted only when it begins with exactly the first
// chunk the card just gave and has the length of the card's DER header (the store checks the
// same; checked here again so that no store can hand out another card's certificate).
std::optional<Bytes> storedCertificate(CardState& state, CertFile file, const CertHead& head) {
  if (!state.store || file == CertFile::Sign || head.der.size() != std::min(kChunk, head.total)) {
    return std::nullopt;
  }
  std::optional<Bytes> der = state.store->find(file, head.der);
  if (!der || der->size() != head.total ||
      !std::equal(head.der.begin(), head.der.end(), der->begin())) {
    return std::nullopt;
  }
  return der;
}

void keepInStore(CardState& state, CertFile file, const Bytes& der) {
  if (state.store && file != CertFile::Sign) {
    state.store->store(file, der);
  }
}

// The first chunk of the authentication certificate when this object has it (identity known).
std::optional<ByteView> authFirstChunk(const CardState& state) {
  if (state.authHead) {
    return ByteView(state.authHead->der);
  }
  if (const auto& cert = state.certs[certIndex(CertFile::Auth)]) {
    return firstChunkOf(*cert);
  }
  return std::nullopt;
}

}  // namespace

namespace detail {
void Session::onReset() {
  state_.dropLogin();
  ++state_.resetGeneration;
  if (!state_.identity) {
    return;
  }
  CertHead head = readHead(*this, CertFile::Auth);
  if (identityOf(head.der) != *state_.identity) {
    state_.clearCaches();
    throw Error(Errc::CardReplaced, "a different card answered after the reset");
  }
  if (!state_.certs[certIndex(CertFile::Auth)]) {
    state_.authHead = std::move(head);
  }
}
}  // namespace detail

JpkiCard::JpkiCard(std::unique_ptr<CardConnection> connection) : state_(std::make_unique<State>()) {
  if (!connection) {
    throw Error(Errc::InvalidInput, "JpkiCard needs a connection");
  }
  state_->connection = std::move(connection);
}

JpkiCard::~JpkiCard() = default;

JpkiCard::Batch::Batch(JpkiCard& card) noexcept : card_(card) { ++card_.state_->batchDepth; }

JpkiCard::Batch::~Batch() {
  if (--card_.state_->batchDepth == 0) {
    card_.state_->batch.reset();  // ends the shared transaction
  }
}

CardConnection& JpkiCard::connection() { return *state_->connection; }

void JpkiCard::setCertificateStore(std::shared_ptr<CertificateStore> store) {
  state_->store = std::move(store);
}

bool JpkiCard::verified(KeyRole role) const { return state_->verified[roleIndex(role)]; }

std::uint64_t JpkiCard::resetGeneration() const { return state_->resetGeneration; }

bool JpkiCard::certificateCached(CertFile file) const {
  return state_->certs[certIndex(file)].has_value();
}

bool JpkiCard::identityKnown() const { return state_->identity.has_value(); }

void JpkiCard::ensureJpki() {
  if (state_->jpkiSeen) {
    return;
  }
  SessionRef session(*state_);
  if (state_->jpkiSeen) {
    return;  // the reset check confirmed it
  }
  session->confirm();  // a PIN EF select (SELECT AID when it fails): NotJpki for another card
}

bool JpkiCard::certificatePresent(CertFile file) {
  const std::size_t index = certIndex(file);
  if (state_->certs[index] || (file == CertFile::Auth && state_->authHead)) {
    return true;
  }
  if (state_->present[index]) {
    return *state_->present[index];
  }
  SessionRef session(*state_);
  const std::uint16_t fid = layout::certEf(file);
  const std::uint16_t sw = session->selectInJpki(fid);
  if (sw != Sw::Ok && sw != Sw::FileNotFound) {
    throwSw(sw, "SELECT certificate EF " + toHex(fid));
  }
  state_->present[index] = sw == Sw::Ok;
  return sw == Sw::Ok;
}

std::string JpkiCard::tokenLabel() {
  if (state_->label) {
    return *state_->label;
  }
  // A copy: a reset check in the transaction below may replace the chunk it points into.
  std::optional<Bytes> cardKey;
  if (const std::optional<ByteView> chunk = authFirstChunk(*state_); chunk && state_->store) {
    cardKey.emplace(chunk->begin(), chunk->end());
  }
  if (cardKey) {
    if (std::optional<std::string> stored = state_->store->findTokenLabel(*cardKey)) {
      state_->label = std::move(*stored);
      return *state_->label;
    }
  }
  SessionRef session(*state_);
  const std::uint16_t sw = session->selectInJpki(layout::kEfTokenInfo);
  if (sw != Sw::Ok) {
    throwSw(sw, "SELECT token info EF 0006");
  }
  const apdu::Response r = session->send(apdu::readBinary(0, kLabelSize));
  if (!r.ok() && r.sw != Sw::WarningEndOfFile) {
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
  if (cardKey) {
    state_->store->storeTokenLabel(*cardKey, label);
  }
  return label;
}

CardKind JpkiCard::kind() {
  const std::string label = tokenLabel();
  for (const CardKindInfo& info : kCardKinds) {
    if (label == info.label) {
      return info.kind;
    }
  }
  return CardKind::Unknown;
}

const Bytes& JpkiCard::certificate(CertFile file) {
  auto& slot = state_->certs[certIndex(file)];
  if (slot) {
    return *slot;
  }
  if (file == CertFile::Sign && !state_->verified[roleIndex(KeyRole::Sign)]) {
    throwLoginNeeded("the signature certificate needs the signature PIN");
  }
  const std::size_t index = certIndex(file);
  if (state_->present[index] == false) {  // learnt earlier: no SELECT again
    throw Error(Errc::FileNotFound, "certificate EF " + toHex(layout::certEf(file)) + " not found",
                apdu::code(Sw::FileNotFound));
  }
  bool storeMissed = false;  // the store was asked for this first chunk already
  if (file == CertFile::Auth && state_->authHead) {
    // identity() read the first chunk in an earlier call: a stored copy needs no transaction.
    if (std::optional<Bytes> stored = storedCertificate(*state_, file, *state_->authHead)) {
      slot = std::move(stored);
      state_->authHead.reset();
      return *slot;
    }
    storeMissed = true;
  }
  SessionRef session(*state_);
  if (slot) {
    return *slot;
  }
  if (file == CertFile::Sign && !state_->verified[roleIndex(KeyRole::Sign)]) {
    throwLoginNeeded("the login was lost (card reset)");
  }
  CertHead head;
  if (file == CertFile::Auth && state_->authHead) {
    head = *state_->authHead;  // identity() already read the first chunk
  } else {
    storeMissed = false;
    try {
      head = readHead(*session, file);
    } catch (const Error& e) {
      if (e.code() == Errc::FileNotFound) {
        state_->present[index] = false;
      }
      throw;
    }
  }
  if (file == CertFile::Auth && !state_->identity) {
    state_->identity = identityOf(head.der);
  }
  std::optional<Bytes> stored;
  if (!storeMissed) {
    stored = storedCertificate(*state_, file, head);
  }
  if (stored) {
    slot = std::move(stored);
  } else {
    slot = readRest(*session, file, std::move(head));
    keepInStore(*state_, file, *slot);
  }
  if (file == CertFile::Auth) {
    state_->authHead.reset();
  }
  return *slot;
}

const Bytes& JpkiCard::identity() {
  if (state_->identity) {
    return *state_->identity;
  }
  if (const auto& cert = state_->certs[certIndex(CertFile::Auth)]) {
    state_->identity = identityOf(*cert);
    return *state_->identity;
  }
  SessionRef session(*state_);
  if (!state_->identity) {
    CertHead head = readHead(*session, CertFile::Auth);
    state_->identity = identityOf(head.der);
    state_->authHead = std::move(head);
  }
  return *state_->identity;
}

namespace {
PinStatus statusFromSw(std::uint16_t sw, int maxTries) {
  if (auto tries = apdu::triesLeft(sw)) {
    return PinStatus{*tries, maxTries};
  }
  if (sw == Sw::ReferenceDataBlocked || sw == Sw::AuthMethodBlocked) {
    return PinStatus{0, maxTries};
  }
  throwSw(sw, "PIN status (empty VERIFY)", true);
}

std::uint16_t selectPinEf(Session& session, KeyRole role) {
  const std::uint16_t pinEf = layout::key(role).pinEf;
  const std::uint16_t sw = session.selectInJpki(pinEf);
  if (sw != Sw::Ok) {
    throwSw(sw, "SELECT PIN EF " + toHex(pinEf));
  }
  return pinEf;
}
}  // namespace

PinStatus JpkiCard::pinStatus(KeyRole role) {
  const layout::KeyInfo& info = layout::key(role);
  SessionRef session(*state_);
  selectPinEf(*session, role);
  const apdu::Response r = session->send(apdu::verifyStatus());
  const PinStatus status = statusFromSw(r.sw, info.maxTries);
  state_->tries[roleIndex(role)] = status.triesLeft;
  return status;
}

std::optional<PinStatus> JpkiCard::knownPinStatus(KeyRole role) const {
  const auto& tries = state_->tries[roleIndex(role)];
  if (!tries) {
    return std::nullopt;
  }
  return PinStatus{*tries, layout::key(role).maxTries};
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
    throw Error(Errc::PinLocked, "the PIN is locked (no tries left)",
                apdu::code(Sw::ReferenceDataBlocked));
  }

  SessionRef session(*state_);
  selectPinEf(*session, role);
  if (!state_->tries[index]) {
    // Learn the counter first (spends no try) so a locked PIN never receives a VERIFY with data.
    const apdu::Response r = session->send(apdu::verifyStatus());
    state_->tries[index] = statusFromSw(r.sw, info.maxTries).triesLeft;
    if (state_->tries[index] == 0) {
      throw Error(Errc::PinLocked, "the PIN is locked (no tries left)", r.sw);
    }
  }

  apdu::Command command = apdu::verify(normalised->view());
  normalised->clear();
  apdu::Response r;
  state_->verifyOutcomeUnknown = true;  // until an answer arrives
  try {
    r = session->send(command);
  } catch (...) {
    secureWipe(command.data.data(), command.data.size());
    throw;
  }
  secureWipe(command.data.data(), command.data.size());
  state_->verifyOutcomeUnknown = false;

  if (r.ok()) {
    state_->verified[index] = true;
    state_->tries[index] = info.maxTries;
    return {VerifyOutcome::Ok, info.maxTries};
  }
  state_->verified[index] = false;
  if (auto tries = apdu::triesLeft(r.sw)) {
    state_->tries[index] = *tries;
    return {*tries == 0 ? VerifyOutcome::Locked : VerifyOutcome::WrongPin, *tries};
  }
  if (r.sw == Sw::ReferenceDataBlocked || r.sw == Sw::AuthMethodBlocked) {
    state_->tries[index] = 0;
    return {VerifyOutcome::Locked, 0};
  }
  throwSw(r.sw, "VERIFY", true);
}

// jpki-card.md §3.5: SELECT PIN EF, VERIFY the current PIN, CHANGE REFERENCE DATA P1=01 (new value
// only) on the same EF, all in one transaction. The card is said to check the new value's format
// itself [C1]; which SW a real card gives for a bad one is not documented, so 6A80 (ISO: incorrect
// data) and 6700 (wrong length) both count as a refused value [I].
ChangePinResult JpkiCard::changePin(KeyRole role, ByteView currentPin, ByteView newPin) {
  const layout::KeyInfo& info = layout::key(role);
  const std::size_t index = roleIndex(role);
  std::string reason;
  std::optional<SecretBytes> current = normalisePin(role, currentPin, &reason);
  if (!current) {
    throw Error(Errc::PinFormat, "current PIN refused before reaching the card: " + reason);
  }
  std::optional<SecretBytes> replacement = normalisePin(role, newPin, &reason);
  if (!replacement) {
    throw Error(Errc::NewPinFormat, "new PIN refused before reaching the card: " + reason);
  }

  Batch batch(*this);  // the VERIFY below and the CHANGE share one transaction
  const VerifyResult verified = verify(role, current->view());
  current->clear();
  if (verified.outcome != VerifyOutcome::Ok) {
    return {verified.outcome == VerifyOutcome::Locked ? ChangePinOutcome::Locked
                                                      : ChangePinOutcome::WrongPin,
            verified.triesLeft};
  }

  SessionRef session(*state_);
  selectPinEf(*session, role);  // still the current EF after the VERIFY: no APDU
  apdu::Command command = apdu::changeReferenceData(replacement->view());
  replacement->clear();
  apdu::Response r;
  try {
    r = session->send(command);
  } catch (const Error& e) {
    secureWipe(command.data.data(), command.data.size());
    throw Error(e.code(),
                std::string(e.what()) +
                    " (CHANGE REFERENCE DATA was sent: whether the PIN was changed is unknown)",
                e.sw());
  }
  secureWipe(command.data.data(), command.data.size());

  if (r.ok()) {
    return {ChangePinOutcome::Ok, info.maxTries};
  }
  if (r.sw == Sw::WrongData || r.sw == Sw::WrongLength) {
    return {ChangePinOutcome::NewPinRefused, info.maxTries};
  }
  if (r.sw == Sw::SecurityStatusNotSatisfied) {
    state_->verified[index] = false;  // the card does not hold the VERIFY it just answered 9000
  }
  throwSw(r.sw, "CHANGE REFERENCE DATA", true);
}

Bytes JpkiCard::sign(KeyRole role, ByteView digestInfo) {
  const std::size_t index = roleIndex(role);
  if (digestInfo.empty() || digestInfo.size() > layout::kMaxSignInput) {
    throw Error(Errc::InvalidInput, "data to sign must be 1..245 bytes");
  }
  if (!state_->verified[index]) {
    throwLoginNeeded("the PIN for this key is not verified");
  }
  SessionRef session(*state_);
  if (!state_->verified[index]) {
    throwLoginNeeded("the login was lost (card reset)");
  }
  const std::uint16_t keyEf = layout::key(role).keyEf;
  bool loginLost = false;
  const std::uint16_t sw = session->selectInJpki(keyEf, &loginLost);
  if (loginLost) {
    throwLoginNeeded("another application was selected: the login was lost");
  }
  if (sw != Sw::Ok) {
    throwSw(sw, "SELECT key EF " + toHex(keyEf));
  }
  const apdu::Response r = session->send(apdu::computeSignature(digestInfo));
  if (r.sw == Sw::SecurityStatusNotSatisfied) {
    state_->verified[index] = false;
    throw Error(Errc::SecurityStatus, "the card refused to sign: PIN not verified", r.sw);
  }
  if (!r.ok()) {
    throwSw(r.sw, "COMPUTE DIGITAL SIGNATURE", true);
  }
  if (r.data.size() != kSignatureSize) {
    throw Error(Errc::BadResponse, "signature of " + std::to_string(r.data.size()) +
                                       " bytes instead of 256");
  }
  return r.data;
}

bool JpkiCard::mayHoldLogin() const { return state_->mayHoldLogin(); }

void JpkiCard::logout() {
  // SELECT AID is the only way to clear the card's verified state; it logs out every process, so
  // it is sent only when this client may have left a PIN verified (not after a refused or never
  // attempted login).
  if (!state_->mayHoldLogin()) {
    return;
  }
  SessionRef session(*state_);
  session->selectAid();
}

}  // namespace jpki
