// SPDX-License-Identifier: MIT
// The JPKI application client, certificates, token label and identity (jpki-card.md §2, §3.2):
// certificate EFs read once in 256-byte chunks after their DER header, optionally checked against
// a cross-process store; the card's identity and the reset check that uses it.
#include <algorithm>
#include <optional>
#include <string>

#include "jpki/cert_cache.h"
#include "jpki/digest.h"
#include "jpki_card_session.h"

namespace jpki {

namespace {

constexpr std::size_t kLabelSize = 0x20;  // CK_TOKEN_INFO.label

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
}  // namespace detail

namespace {

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
                                       std::to_string(der.size()) + " of " + std::to_string(total) +
                                       " bytes)");
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
  state_.tries = {std::nullopt, std::nullopt};  // not known to be current any more (issue 20)
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
bool JpkiCard::certificateCached(CertFile file) const {
  return state_->certs[certIndex(file)].has_value();
}

bool JpkiCard::identityKnown() const { return state_->identity.has_value(); }
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
}  // namespace jpki
