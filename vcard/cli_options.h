// SPDX-License-Identifier: MIT
// Command line of jpki-vcard.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/virtual_card.h"

namespace jpki::vcard {

struct Options {
  enum class Mode { Run, WritePki, Help } mode = Mode::Run;
  std::string host = "127.0.0.1";
  std::uint16_t port = 35963;
  std::chrono::milliseconds connectTimeout{10000};
  std::string pkiDir;  // empty: an in-memory PKI generated at start-up
  std::string logFile;
  std::string controlPath;
  CardOptions card;
  // Latency model: sleep before answering each APDU.
  double latencyApduMs = 0, latencyByteMs = 0, latencySignMs = 0;
  // Faults: close the connection (card removed) after answering N APDUs; answer the APDU that
  // follows the first N with a fixed status word instead of processing it (both one-shot).
  std::optional<std::uint64_t> failAfter;
  std::optional<std::uint16_t> answerSw;
  std::uint64_t answerSwAfter = 0;
  // --answer-hex: like answerSw, but any raw bytes (garbage, a truncated 1-byte answer, ...).
  std::optional<Bytes> answerRaw;
  // A card that never answers: after N answered APDUs, commands are read and not answered until
  // the card is removed (control "remove"); after re-insertion it answers again (one-shot).
  std::optional<std::uint64_t> hangAfter;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws UsageError with a message naming the bad option.
Options parseOptions(int argc, char** argv);
const char* usageText();

}  // namespace jpki::vcard
