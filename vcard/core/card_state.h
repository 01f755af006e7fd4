// SPDX-License-Identifier: MIT
// The private state of one VirtualCard (shared by virtual_card.cpp and card_commands.cpp).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "core/card_files.h"
#include "core/command_apdu.h"
#include "core/ossl.h"
#include "core/pin_store.h"
#include "core/virtual_card.h"
#include "jpki/status_word.h"

namespace jpki::vcard {

using apdu::Sw;  // the status words, shared with the client (jpki/status_word.h)

struct VirtualCard::Impl {
  Impl(CardPki p, CardOptions o);

  // Dispatches one well-formed command (card_commands.cpp).
  Bytes dispatch(const CommandApdu& c);
  Bytes select(const CommandApdu& c);
  Bytes readBinary(const CommandApdu& c);
  Bytes verify(const CommandApdu& c);
  Bytes changeReferenceData(const CommandApdu& c);
  Bytes computeSignature(const CommandApdu& c);
  Bytes getChallenge(const CommandApdu& c);

  [[nodiscard]] const FileTable* currentFiles() const;
  [[nodiscard]] const CardFile* currentFile() const;
  bool& verifiedFlag(bool sign) { return sign ? signVerified : authVerified; }
  void powerOn();

  CardPki pki;
  CardOptions options;
  ossl::PkeyPtr authKey, signKey;
  FileTable jpkiEfs, textEfs;
  PinStore pins;

  Df df = Df::None;
  std::optional<std::uint16_t> ef;  // current EF within `df`
  bool authVerified = false, signVerified = false;

  std::vector<LogEntry> log;
  mutable std::mutex mutex;  // process()/reset() may be called from several threads
};

Bytes statusOnly(Sw sw);
Bytes withStatus(Bytes data, Sw sw);

}  // namespace jpki::vcard
