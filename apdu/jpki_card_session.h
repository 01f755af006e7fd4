// SPDX-License-Identifier: MIT
// Internal to apdu/: what the three files of the JPKI application client share. jpki_card.cpp:
// selection, sessions and batches; jpki_card_certs.cpp: certificates, token label and identity;
// jpki_card_pin.cpp: PIN status, VERIFY, PIN change and signature.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "cert_der.h"
#include "jpki/jpki_card.h"

namespace jpki::detail {

using apdu::Sw;
constexpr std::size_t kChunk = kCertChunk;  // short APDU Le=00

inline std::size_t roleIndex(KeyRole role) { return role == KeyRole::Auth ? 0 : 1; }
inline std::size_t certIndex(CertFile file) { return static_cast<std::size_t>(file); }

// EFs that only exist in the JPKI AP: a successful SELECT of one proves the AP is current.
inline bool isJpkiOnlyEf(std::uint16_t fid) {
  return fid == layout::kEfAuthKey || fid == layout::kEfAuthPin || fid == layout::kEfSignKey ||
         fid == layout::kEfSignPin;
}

// Turns an unexpected status word into the typed error (the one SW -> Errc mapping here).
// 6983/6984 mean a blocked PIN or key only for the commands that use one (VERIFY, COMPUTE
// SIGNATURE: keyUse); on a SELECT or READ BINARY they are just an unexpected status.
[[noreturn]] void throwSw(std::uint16_t sw, const std::string& context, bool keyUse = false);
// 6982 known without asking the card: the PIN the operation needs is not (or no longer) verified.
[[noreturn]] void throwLoginNeeded(const std::string& what);

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
  // What the last transaction left selected (Session's confirmed_ and current_): still so in a
  // transaction that continues it (apdu::Transaction::continued), unknown in any other.
  bool leftConfirmed = false;
  std::optional<std::uint16_t> leftCurrent;
  std::array<bool, 2> leftTriesExact{false, false};
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
    } else if (tx_.continued()) {
      confirmed_ = state_.leftConfirmed;
      current_ = state_.leftCurrent;
      triesExact_ = state_.leftTriesExact;
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {  // before tx_ ends the transaction
    state_.leftConfirmed = confirmed_ && !broken_;
    state_.leftCurrent = broken_ ? std::nullopt : current_;
    state_.leftTriesExact = broken_ ? std::array<bool, 2>{false, false} : triesExact_;
  }

  // Whether CardState::tries of a key is exact: learnt from the card in this transaction or in
  // one it continues, so that no other program can have spent a try since.
  [[nodiscard]] bool triesExact(std::size_t index) const { return triesExact_.at(index); }
  void setTriesExact(std::size_t index, bool exact = true) { triesExact_.at(index) = exact; }

  // True after a transport error: the shared transaction of a Batch is not reused.
  [[nodiscard]] bool broken() const { return broken_; }

  apdu::Response send(const apdu::Command& command) {
    try {
      return tx_.send(command);
    } catch (const Error& e) {
      broken_ = true;
      confirmed_ = false;
      current_.reset();
      triesExact_ = {false, false};
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
  // means SELECT AID, which logs out. Confirmed: a JPKI-only EF that cannot be selected means the
  // same. If loginLost is given and a login was believed, *loginLost is set and nothing more is
  // selected (the caller needed that login).
  std::uint16_t selectInJpki(std::uint16_t fid, bool* loginLost = nullptr) {
    const bool hadLogin = state_.anyVerified();
    std::uint16_t sw = 0;
    if (!confirmed_) {
      const std::uint16_t probe = isJpkiOnlyEf(fid) ? fid : probeEf();
      sw = selectEf(probe);
      if (sw == Sw::Ok) {
        return probe == fid ? sw : selectEf(fid);
      }
    } else {
      sw = selectEf(fid);
      // A JPKI-only EF missing while the AP was believed current (in this transaction or the one
      // it continues): the card lost its state without PC/SC telling (a power glitch).
      if (sw == Sw::Ok || !isJpkiOnlyEf(fid)) {
        return sw;
      }
    }
    selectAid();  // another application was selected (or none): our login is gone anyway
    if (hadLogin && loginLost != nullptr) {
      *loginLost = true;
      return sw;
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
  std::array<bool, 2> triesExact_{false, false};
  bool broken_ = false;
};

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

// Selects a certificate EF (JPKI confirmed) and reads its first chunk, which also carries the DER
// header (jpki-card.md §3.2).
CertHead readHead(Session& session, CertFile file);

}  // namespace jpki::detail

namespace jpki {
struct JpkiCard::State : detail::CardState {};

// What the three files use unqualified (this header is private to apdu/).
using detail::CardState;
using detail::CertHead;
using detail::certIndex;
using detail::kChunk;
using detail::readHead;
using detail::roleIndex;
using detail::Session;
using detail::SessionRef;
using detail::Sw;
using detail::throwLoginNeeded;
using detail::throwSw;
}  // namespace jpki
