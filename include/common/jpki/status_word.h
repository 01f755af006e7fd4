// SPDX-License-Identifier: MIT
// ISO 7816-4 status words (§5.6) as this card answers them (jpki-card.md §4): the one table of
// {Sw, meaning} that the JPKI client (apdu/) and the virtual card (vcard/) both use.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace jpki::apdu {

// 63Cx is a family: use triesLeft(). Values not listed here still round-trip as
// plain numbers.
enum class Sw : std::uint16_t {
  Ok = 0x9000,
  WarningCorruptedData = 0x6281,
  WarningEndOfFile = 0x6282,  // READ BINARY: EF ended before Le bytes (jpki-card.md §3.2)
  WarningDeactivated = 0x6283,
  VerifyFailed = 0x6300,
  VerifyFailedBase = 0x63C0,  // 63Cx: x tries left (§3.3, §3.4)
  MemoryFailure = 0x6581,
  WrongLength = 0x6700,
  LogicalChannelNotSupported = 0x6881,
  SecureMessagingNotSupported = 0x6882,
  IncompatibleFile = 0x6981,
  SecurityStatusNotSatisfied = 0x6982,  // JPKI: sign certificate or key without the sign PIN
  AuthMethodBlocked = 0x6983,
  ReferenceDataBlocked = 0x6984,  // JPKI: VERIFY on a locked PIN
  ConditionsNotSatisfied = 0x6985,
  NoCurrentEf = 0x6986,
  WrongData = 0x6A80,  // CHANGE REFERENCE DATA: the new value breaks the PIN's rules
  FunctionNotSupported = 0x6A81,
  FileNotFound = 0x6A82,
  WrongP1P2 = 0x6A86,
  ReferencedDataNotFound = 0x6A88,
  WrongP1P2Offset = 0x6B00,  // READ BINARY offset beyond the EF
  InsNotSupported = 0x6D00,
  ClaNotSupported = 0x6E00,
  NoPreciseDiagnosis = 0x6F00,
};

struct SwMeaning {
  Sw sw;
  const char* text;
};

inline constexpr std::array kSwMeanings{
    SwMeaning{Sw::Ok, "success"},
    SwMeaning{Sw::WarningCorruptedData, "part of returned data may be corrupted"},
    SwMeaning{Sw::WarningEndOfFile, "end of file reached before reading Le bytes"},
    SwMeaning{Sw::WarningDeactivated, "selected file deactivated"},
    SwMeaning{Sw::VerifyFailed, "verification failed"},
    SwMeaning{Sw::MemoryFailure, "memory failure"},
    SwMeaning{Sw::WrongLength, "wrong length"},
    SwMeaning{Sw::LogicalChannelNotSupported, "logical channel not supported"},
    SwMeaning{Sw::SecureMessagingNotSupported, "secure messaging not supported"},
    SwMeaning{Sw::IncompatibleFile, "command incompatible with file structure"},
    SwMeaning{Sw::SecurityStatusNotSatisfied, "security status not satisfied"},
    SwMeaning{Sw::AuthMethodBlocked, "authentication method blocked"},
    SwMeaning{Sw::ReferenceDataBlocked, "reference data not usable (PIN blocked)"},
    SwMeaning{Sw::ConditionsNotSatisfied, "conditions of use not satisfied"},
    SwMeaning{Sw::NoCurrentEf, "command not allowed (no current EF)"},
    SwMeaning{Sw::WrongData, "incorrect parameters in the data field"},
    SwMeaning{Sw::FunctionNotSupported, "function not supported"},
    SwMeaning{Sw::FileNotFound, "file or application not found"},
    SwMeaning{Sw::WrongP1P2, "incorrect parameters P1-P2"},
    SwMeaning{Sw::ReferencedDataNotFound, "referenced data not found"},
    SwMeaning{Sw::WrongP1P2Offset, "wrong parameters P1-P2 (offset outside the EF)"},
    SwMeaning{Sw::InsNotSupported, "instruction not supported"},
    SwMeaning{Sw::ClaNotSupported, "class not supported"},
    SwMeaning{Sw::NoPreciseDiagnosis, "no precise diagnosis"},
};

// A raw status word (Response::sw, Error::sw()) compared with a named one; != follows (C++20).
constexpr bool operator==(std::uint16_t raw, Sw sw) noexcept {
  return raw == static_cast<std::uint16_t>(sw);
}
constexpr std::uint16_t code(Sw sw) noexcept { return static_cast<std::uint16_t>(sw); }

// Human-readable text for any status word ("6982 security status not satisfied").
std::string swText(std::uint16_t sw);
// For 63Cx, x; otherwise nullopt.
std::optional<int> triesLeft(std::uint16_t sw);

}  // namespace jpki::apdu
