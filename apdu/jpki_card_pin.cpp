// SPDX-License-Identifier: MIT
// The JPKI application client, PIN and signature (jpki-card.md §3.3-§3.6, §4): the retry counter
// read without spending a try, VERIFY, CHANGE REFERENCE DATA and COMPUTE DIGITAL SIGNATURE.
#include <optional>
#include <string>

#include "jpki_card_session.h"

namespace jpki {

namespace {

constexpr std::size_t kSignatureSize = 256;  // RSA-2048

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
  session->setTriesExact(roleIndex(role));
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
  // The counter is read in this transaction (spends no try) unless it was learnt in this one or
  // in one it continues: another process may have used up the tries since, and a locked PIN never
  // receives a VERIFY with data.
  if (!session->triesExact(index)) {
    const apdu::Response r = session->send(apdu::verifyStatus());
    state_->tries[index] = statusFromSw(r.sw, info.maxTries).triesLeft;
    session->setTriesExact(index);
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
    state_->tries[index] = tries;
    return {*tries == 0 ? VerifyOutcome::Locked : VerifyOutcome::WrongPin, *tries};
  }
  if (r.sw == Sw::ReferenceDataBlocked || r.sw == Sw::AuthMethodBlocked) {
    state_->tries[index] = 0;
    return {VerifyOutcome::Locked, 0};
  }
  session->setTriesExact(index, false);  // whether this answer cost a try is unknown
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
    throw Error(Errc::BadResponse,
                "signature of " + std::to_string(r.data.size()) + " bytes instead of 256");
  }
  return r.data;
}

}  // namespace jpki
