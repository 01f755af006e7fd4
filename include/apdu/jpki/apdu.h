// SPDX-License-Identifier: MIT
// ISO 7816-4 command and response APDUs, status words, and the transaction object that card code
// must hold to talk to the card.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "jpki/bytes.h"
#include "jpki/status_word.h"
#include "jpki/transport.h"

namespace jpki::apdu {

struct Command {
  std::uint8_t cla = 0x00;
  std::uint8_t ins = 0x00;
  std::uint8_t p1 = 0x00;
  std::uint8_t p2 = 0x00;
  Bytes data;
  // Expected response length: nullopt = no Le (case 1/3); 256 = "00".
  std::optional<std::uint32_t> le;
  // True for commands whose data is secret (VERIFY, CHANGE REFERENCE DATA): traces print "**"
  // instead of the data, and the transaction never resends them.
  bool sensitive = false;

  // Short APDU encoding (JPKI needs no other, jpki-card.md §3.9); throws Error(InvalidInput) if
  // data > 255 or le > 256.
  [[nodiscard]] Bytes encode() const;
  // "00 A4 04 0C 0A D3.." with sensitive data masked.
  [[nodiscard]] std::string traceText() const;
};

// Named factories (ISO 7816-4 §11; JPKI deviations cited in apdu/commands.cpp).
Command selectAid(ByteView aid);                             // 00 A4 04 0C Lc AID      (no FCI)
Command selectEf(std::uint16_t fid);                         // 00 A4 02 0C 02 FID      (no FCI)
Command readBinary(std::uint16_t offset, std::uint32_t le);  // 00 B0 off Le (le 1..256)
Command verify(ByteView pin);                                // 00 20 00 80 Lc PIN (sensitive)
Command verifyStatus();  // 00 20 00 80        (case 1: tries left, no try spent)
Command changeReferenceData(ByteView newPin);   // 00 24 01 80 Lc PIN (sensitive; after VERIFY)
Command computeSignature(ByteView digestInfo);  // 80 2A 00 80 Lc data 00

struct Response {
  Bytes data;
  std::uint16_t sw = 0;

  // Splits data||SW1SW2; throws Error(BadResponse) when shorter than two bytes.
  static Response parse(const Bytes& raw);
  [[nodiscard]] bool ok() const noexcept { return sw == Sw::Ok; }
};

// Observer for the APDU trace (off by default). Receives one line per exchange, PIN bytes masked.
using TraceSink = std::function<void(const std::string& line)>;
void setTraceSink(TraceSink sink);
// A sink appending "jpki-apdu: <line>" to the file `target` ("stderr": standard error); empty when
// the file cannot be opened.
TraceSink traceFile(const std::string& target);

// The capability to talk to the card: holds one PC/SC transaction for its lifetime. send() handles
// 61xx (GET RESPONSE) and 6Cxx (resend with the right Le) with bounded loops.
class Transaction {
 public:
  explicit Transaction(CardConnection& connection);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // True when the card was reset since this connection last used it (see CardConnection).
  [[nodiscard]] bool cardWasReset() const noexcept { return reset_; }
  // True when this continues the connection's previous transaction, kept open (see
  // CardConnection::continuesLastTransaction): the card is as that transaction left it.
  [[nodiscard]] bool continued() const noexcept { return continued_; }
  Response send(const Command& command);
  [[nodiscard]] unsigned apduCount() const noexcept { return count_; }

 private:
  CardConnection& connection_;
  bool reset_ = false;
  bool continued_ = false;
  unsigned count_ = 0;
};

}  // namespace jpki::apdu
