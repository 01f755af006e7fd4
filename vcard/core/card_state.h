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

namespace jpki::vcard {

// ISO 7816-4 status words used by the card (jpki-card.md §4).
enum Sw : std::uint16_t {
  kSwOk = 0x9000,
  kSwWrongLength = 0x6700,
  kSwChannelNotSupported = 0x6881,
  kSwSecureMessagingNotSupported = 0x6882,
  kSwIncompatibleFile = 0x6981,
  kSwSecurityStatus = 0x6982,
  kSwPinBlocked = 0x6984,
  kSwConditionsNotSatisfied = 0x6985,
  kSwNoCurrentEf = 0x6986,
  kSwWrongData = 0x6A80,
  kSwFileNotFound = 0x6A82,
  kSwWrongP1P2 = 0x6A86,
  kSwOffsetOutside = 0x6B00,
  kSwInsNotSupported = 0x6D00,
  kSwClaNotSupported = 0x6E00,
};

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

Bytes statusOnly(std::uint16_t sw);
Bytes withStatus(Bytes data, std::uint16_t sw);

}  // namespace jpki::vcard
