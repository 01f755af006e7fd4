// SPDX-License-Identifier: MIT
// VirtualCard: construction, power-on, the APDU entry point and its log. The command handlers
// are in card_commands.cpp.
#include <openssl/pem.h>

#include <chrono>
#include <stdexcept>

#include "core/card_state.h"

namespace jpki::vcard {

std::optional<Profile> parseProfile(const std::string& name) {
  if (name == "normal") return Profile::Normal;
  if (name == "no-sign-cert") return Profile::NoSignCert;
  if (name == "locked") return Profile::Locked;
  if (name == "expired") return Profile::Expired;
  if (name == "juki") return Profile::Juki;
  return std::nullopt;
}

const char* profileName(Profile profile) {
  switch (profile) {
    case Profile::Normal:
      return "normal";
    case Profile::NoSignCert:
      return "no-sign-cert";
    case Profile::Locked:
      return "locked";
    case Profile::Expired:
      return "expired";
    case Profile::Juki:
      return "juki";
  }
  return "normal";
}

Bytes withStatus(Bytes data, Sw sw) {
  const std::uint16_t raw = apdu::code(sw);
  data.push_back(static_cast<std::uint8_t>(raw >> 8));
  data.push_back(static_cast<std::uint8_t>(raw & 0xFF));
  return data;
}

Bytes statusOnly(Sw sw) { return withStatus({}, sw); }

namespace {

ossl::PkeyPtr loadKey(const std::string& pem, const char* what) {
  if (pem.empty()) return nullptr;
  ossl::BioPtr bio(ossl::check(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), what));
  return ossl::PkeyPtr(
      ossl::check(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), what));
}

// The Locked profile starts with both counters exhausted (unless a state file says otherwise).
int initialTries(Profile profile, bool sign) {
  return profile == Profile::Locked ? 0 : PinStore::maxTries(sign);
}

}  // namespace

std::string maskedCommand(ByteView raw) {
  // VERIFY (20) and CHANGE REFERENCE DATA (24) carry a PIN: only the header and Lc are shown.
  const bool pin = raw.size() > 5 && (raw[1] == 0x20 || raw[1] == 0x24);
  return pin ? toHex(raw.first(5), false) + "**" : toHex(raw, false);
}

VirtualCard::Impl::Impl(CardPki p, CardOptions o)
    : pki(std::move(p)),
      options(std::move(o)),
      authKey(loadKey(pki.authKeyPem, "auth private key")),
      signKey(loadKey(pki.signKeyPem, "sign private key")),
      jpkiEfs(jpkiFiles(pki, options.profile)),
      textEfs(textApFiles()),
      pins(options.stateFile, initialTries(options.profile, false),
           initialTries(options.profile, true), options.authPin, options.signPin) {}

void VirtualCard::Impl::powerOn() {
  df = Df::None;
  ef.reset();
  authVerified = false;
  signVerified = false;
}

VirtualCard::VirtualCard(CardPki pki, CardOptions options)
    : impl_(std::make_unique<Impl>(std::move(pki), std::move(options))) {}

VirtualCard::~VirtualCard() = default;

void VirtualCard::reset() {
  std::lock_guard lock(impl_->mutex);
  impl_->powerOn();
}

const Bytes& VirtualCard::atr() const { return impl_->options.atr; }

Bytes VirtualCard::process(const Bytes& command) {
  std::lock_guard lock(impl_->mutex);
  const auto start = std::chrono::steady_clock::now();
  Bytes response;
  if (const auto parsed = parseCommand(command)) {
    response = impl_->dispatch(*parsed);
  } else {
    response = statusOnly(Sw::WrongLength);
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  // Bounded so that a long-running jpki-vcard does not grow without limit.
  if (impl_->log.size() >= 100000) impl_->log.erase(impl_->log.begin(), impl_->log.begin() + 50000);
  const std::uint16_t sw =
      static_cast<std::uint16_t>(response[response.size() - 2] << 8 | response.back());
  impl_->log.push_back({maskedCommand(command), toHex(response, false), sw, elapsed});
  return response;
}

const std::vector<LogEntry>& VirtualCard::log() const { return impl_->log; }

void VirtualCard::clearLog() {
  std::lock_guard lock(impl_->mutex);
  impl_->log.clear();
}

int VirtualCard::triesLeft(bool signPin) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pins.tries(signPin);
}

bool VirtualCard::verified(bool signPin) const {
  std::lock_guard lock(impl_->mutex);
  return signPin ? impl_->signVerified : impl_->authVerified;
}

Profile VirtualCard::profile() const { return impl_->options.profile; }

}  // namespace jpki::vcard
