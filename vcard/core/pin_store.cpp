#include "core/pin_store.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace jpki::vcard {

// File format: two lines "auth=N" and "sign=N". Unknown lines are ignored; a missing or
// unparsable value keeps the initial value.
PinStore::PinStore(std::filesystem::path file, int initialAuth, int initialSign)
    : file_(std::move(file)), auth_(initialAuth), sign_(initialSign) {
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
    int value = 0;
    try {
      value = std::stoi(line.substr(eq + 1));
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

// Written to a temporary file in the same directory and renamed over the old one, so a crash
// never leaves a half-written state file.
void PinStore::save() const {
  if (file_.empty()) return;
  std::filesystem::path tmp = file_;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "auth=" << auth_ << "\nsign=" << sign_ << "\n";
    out.flush();
    if (!out) throw std::runtime_error("cannot write PIN state file " + tmp.string());
  }
  std::filesystem::rename(tmp, file_);
}

}  // namespace jpki::vcard
