// SPDX-License-Identifier: MIT
#include "core/pin_store.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace jpki::vcard {

bool validPinValue(bool sign, ByteView value) {
  const std::size_t min = sign ? 6 : 4;
  const std::size_t max = sign ? 16 : 4;
  if (value.size() < min || value.size() > max) return false;
  return std::ranges::all_of(value, [sign](std::uint8_t c) {
    return (c >= '0' && c <= '9') || (sign && c >= 'A' && c <= 'Z');
  });
}

namespace {
ByteView viewOf(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

// File format: lines "auth=N" and "sign=N", plus "auth-pin=PIN" / "sign-pin=PIN" once a PIN was
// changed (a test card: the PIN is stored as it is, like the keys in --pki-dir). Unknown lines are
// ignored; a missing or unparsable value (a stored PIN that breaks the card's rule included) keeps
// the initial value.
PinStore::PinStore(std::filesystem::path file, int initialAuth, int initialSign,
                   std::string authPin, std::string signPin)
    : file_(std::move(file)),
      auth_(initialAuth),
      sign_(initialSign),
      authPin_(std::move(authPin)),
      signPin_(std::move(signPin)) {
  if (file_.empty()) return;
  std::ifstream in(file_);
  if (!in) {
    save();
    return;
  }
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string text = line.substr(eq + 1);
    if (key == "auth-pin" || key == "sign-pin") {
      const bool sign = key == "sign-pin";
      if (!validPinValue(sign, viewOf(text))) continue;
      (sign ? signPin_ : authPin_) = text;
      (sign ? signChanged_ : authChanged_) = true;
      continue;
    }
    int value = 0;
    try {
      value = std::stoi(text);
    } catch (const std::exception&) {
      continue;
    }
    if (key == "auth") auth_ = std::clamp(value, 0, kAuthPinMaxTries);
    if (key == "sign") sign_ = std::clamp(value, 0, kSignPinMaxTries);
  }
}

void PinStore::set(bool sign, int tries) {
  int& counter = sign ? sign_ : auth_;
  const int clamped = std::clamp(tries, 0, maxTries(sign));
  if (counter == clamped) return;
  counter = clamped;
  save();
}

void PinStore::setPin(bool sign, std::string value) {
  (sign ? signPin_ : authPin_) = std::move(value);
  (sign ? signChanged_ : authChanged_) = true;
  save();
}

// Written to a temporary file in the same directory and renamed over the old one, so a crash
// never leaves a half-written state file.
void PinStore::save() const {
  if (file_.empty()) return;
  std::filesystem::path tmp = file_;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "auth=" << auth_ << "\nsign=" << sign_ << "\n";
    if (authChanged_) out << "auth-pin=" << authPin_ << "\n";
    if (signChanged_) out << "sign-pin=" << signPin_ << "\n";
    out.flush();
    if (!out) throw std::runtime_error("cannot write PIN state file " + tmp.string());
  }
  std::filesystem::rename(tmp, file_);
}

}  // namespace jpki::vcard
