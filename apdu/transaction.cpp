// SPDX-License-Identifier: MIT
// Transaction: holds one PC/SC transaction and sends command APDUs. Handles the ISO 7816-4
// §5.3 / T=0 status words 61xx (GET RESPONSE) and 6Cxx (resend with the exact Le) in bounded
// loops, counts APDUs and traces each exchange.
#include <string>

#include "jpki/apdu.h"
#include "jpki/error.h"
#include "trace_internal.h"

namespace jpki::apdu {

namespace {
constexpr int kMaxGetResponseRounds = 8;  // 8 x 256 bytes is far beyond any JPKI answer
constexpr int kMaxWrongLeRounds = 2;

// Wipes an encoded command that carries secret data when it goes out of scope.
class EncodedCommand {
 public:
  EncodedCommand(const Command& command) : bytes_(command.encode()), secret_(command.sensitive) {}
  EncodedCommand(const EncodedCommand&) = delete;
  EncodedCommand& operator=(const EncodedCommand&) = delete;
  ~EncodedCommand() {
    if (secret_) {
      secureWipe(bytes_.data(), bytes_.size());
    }
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
  bool secret_;
};

Command getResponse(std::uint8_t length) {
  Command c;
  c.ins = 0xC0;
  c.le = length == 0 ? 256U : length;
  return c;
}
}  // namespace

Transaction::Transaction(CardConnection& connection) : connection_(connection) {
  reset_ = connection_.beginTransaction();
  continued_ = !reset_ && connection_.continuesLastTransaction();
  if (reset_ && detail::traceEnabled()) {
    detail::traceLine("[" + connection_.readerName() + "] card was reset since last use");
  }
}

Transaction::~Transaction() { connection_.endTransaction(); }

namespace {
Response exchange(CardConnection& connection, const Command& command, unsigned& count) {
  EncodedCommand encoded(command);
  ++count;
  Bytes raw;
  try {
    raw = connection.transmit(encoded.bytes());
  } catch (const Error& e) {
    if (detail::traceEnabled()) {
      detail::traceLine("> " + command.traceText() + "  -> error " + errcName(e.code()) + ": " +
                        e.what());
    }
    throw;
  }
  if (detail::traceEnabled()) {
    detail::traceLine("> " + command.traceText() + "  < " + toHex(raw));
  }
  return Response::parse(raw);
}
}  // namespace

Response Transaction::send(const Command& command) {
  Response response = exchange(connection_, command, count_);

  // 6Cxx: wrong Le, resend the same command with Le = xx. Only a command that asked for data
  // (has Le) and carries no secret is resent: a VERIFY is never sent twice, whatever the card says
  // (its 6Cxx is then just an unexpected status for the caller).
  const bool resendable = command.le.has_value() && !command.sensitive;
  for (int round = 0; resendable && (response.sw >> 8) == 0x6C && round < kMaxWrongLeRounds;
       ++round) {
    Command again = command;
    const std::uint8_t exact = static_cast<std::uint8_t>(response.sw & 0xFF);
    again.le = exact == 0 ? 256U : exact;
    response = exchange(connection_, again, count_);
  }
  if (resendable && (response.sw >> 8) == 0x6C) {
    throw Error(Errc::BadResponse, "card keeps answering 6Cxx (wrong Le)", response.sw);
  }

  // 61xx: more data available, fetch it with GET RESPONSE and append.
  Bytes data = std::move(response.data);
  for (int round = 0; (response.sw >> 8) == 0x61; ++round) {
    if (round == kMaxGetResponseRounds) {
      throw Error(Errc::BadResponse, "too many 61xx (GET RESPONSE) rounds", response.sw);
    }
    response =
        exchange(connection_, getResponse(static_cast<std::uint8_t>(response.sw & 0xFF)), count_);
    data.insert(data.end(), response.data.begin(), response.data.end());
  }
  response.data = std::move(data);
  return response;
}

}  // namespace jpki::apdu
