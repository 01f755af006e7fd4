// SPDX-License-Identifier: MIT
// The JPKI application client (jpki-card.md §1-§4, §10). Every public operation runs in one
// Transaction through a Session that tracks what is selected on the card during it, so no
// SELECT is repeated and files are only read while the JPKI AP is known to be current. A
// JpkiCard::Batch keeps one Session open across several calls.
//
// The AP is confirmed by SELECTing a JPKI-only EF (the PIN/key EF the operation needs, or a PIN EF
// before a file read); SELECT AID is the fallback when that fails, because SELECT AID clears the
// card's verified state for every process using the card.
#include "jpki/jpki_card.h"

#include <string>

#include "jpki_card_session.h"

namespace jpki {

namespace layout {
std::uint16_t certEf(CertFile file) {
  switch (file) {
    case CertFile::Auth:
      return kEfAuthCert;
    case CertFile::AuthCa:
      return kEfAuthCaCert;
    case CertFile::Sign:
      return kEfSignCert;
    case CertFile::SignCa:
      return kEfSignCaCert;
  }
  throw Error(Errc::InvalidInput, "unknown certificate file");
}
}  // namespace layout

namespace detail {

[[noreturn]] void throwSw(std::uint16_t sw, const std::string& context, bool keyUse) {
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
    default:
      throw Error(Errc::CardStatus, what, sw);
  }
}

// 6982 known without asking the card: the PIN the operation needs is not (or no longer) verified.
[[noreturn]] void throwLoginNeeded(const std::string& what) {
  throw Error(Errc::SecurityStatus, what, apdu::code(Sw::SecurityStatusNotSatisfied));
}

CardState::~CardState() { batch.reset(); }

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
void JpkiCard::noticeReset() { SessionRef session(*state_); }

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
