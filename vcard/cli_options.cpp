// SPDX-License-Identifier: MIT
#include "cli_options.h"

#include <getopt.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

#include "jpki/bytes.h"

namespace jpki::vcard {

const char* usageText() {
  return R"(usage: jpki-vcard [options]            run the virtual card as a vpcd client
       jpki-vcard pki --out DIR [--profile P]   write the test PKI to DIR and exit

  --host H                 vpcd host (default 127.0.0.1)
  --port N                 vpcd port (default 35963)
  --connect-timeout SEC    give up when vpcd is not reachable within SEC seconds (default 10)
  --pki-dir DIR            load the PKI from DIR, creating missing parts (default: in memory)
  --state FILE             persist the PIN retry counters (and PINs changed on the card) in FILE
  --profile P              normal | no-sign-cert | locked | expired | juki
  --atr HEX                answer-to-reset (default 3BE000FF8131FE4514)
  --auth-pin PIN           user-authentication PIN (default 1234)
  --sign-pin PIN           signature password (default ABC123)
  --log FILE               append an APDU log (PINs in VERIFY / CHANGE REFERENCE DATA masked)
  --latency-apdu-ms F      delay per APDU
  --latency-byte-ms F      delay per command+response byte
  --latency-sign-ms F      extra delay per COMPUTE SIGNATURE
  --fail-after N           remove the card (close the connection) after N APDUs
  --answer-sw HEX          answer APDU number N+1 with this status word ...
  --answer-sw-after N      ... where N is given here (default 0)
  --answer-hex HEX         like --answer-sw, but answer with these raw bytes (garbage, truncated)
  --hang-after N           never answer after N APDUs, until the card is removed (control)
  --control PATH           FIFO accepting lines: remove, insert, reset, quit
  --help                   this text
)";
}

namespace {

template <typename T>
T parseNumber(const std::string& option, const std::string& text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError("invalid number for " + option + ": '" + text + "'");
  }
  return value;
}

double parseNonNegative(const std::string& option, const std::string& text) {
  const auto value = parseNumber<double>(option, text);
  if (!std::isfinite(value) || value < 0) {
    throw UsageError(option + " must be a non-negative number, got '" + text + "'");
  }
  return value;
}

Profile parseProfileOption(const std::string& text) {
  if (auto p = parseProfile(text)) return *p;
  throw UsageError("unknown profile '" + text +
                   "' (expected normal, no-sign-cert, locked, expired or juki)");
}

// One option with its value, in the order given.
void apply(Options& o, const std::string& option, const std::string& value) {
  const bool pkiMode = o.mode == Options::Mode::WritePki;
  if (option == "--profile") {
    o.card.profile = parseProfileOption(value);
  } else if (pkiMode) {
    if (option != "--out") throw UsageError("option " + option + " is not valid with 'pki'");
    o.pkiDir = value;
  } else if (option == "--host") {
    o.host = value;
  } else if (option == "--port") {
    o.port = parseNumber<std::uint16_t>(option, value);
    if (o.port == 0) throw UsageError("--port must be 1..65535");
  } else if (option == "--connect-timeout") {
    o.connectTimeout =
        std::chrono::milliseconds(static_cast<long long>(parseNonNegative(option, value) * 1000));
  } else if (option == "--pki-dir") {
    o.pkiDir = value;
  } else if (option == "--state") {
    o.card.stateFile = value;
  } else if (option == "--atr") {
    try {
      o.card.atr = parseHex(value);
    } catch (const std::invalid_argument& e) {
      throw UsageError("invalid --atr: " + std::string(e.what()));
    }
    if (o.card.atr.size() < 2 || o.card.atr.size() > 33) {
      throw UsageError("--atr must be 2..33 bytes");
    }
  } else if (option == "--auth-pin") {
    if (value.empty()) throw UsageError("--auth-pin must not be empty");
    o.card.authPin = value;
  } else if (option == "--sign-pin") {
    if (value.empty()) throw UsageError("--sign-pin must not be empty");
    o.card.signPin = value;
  } else if (option == "--log") {
    o.logFile = value;
  } else if (option == "--latency-apdu-ms") {
    o.latencyApduMs = parseNonNegative(option, value);
  } else if (option == "--latency-byte-ms") {
    o.latencyByteMs = parseNonNegative(option, value);
  } else if (option == "--latency-sign-ms") {
    o.latencySignMs = parseNonNegative(option, value);
  } else if (option == "--fail-after") {
    o.failAfter = parseNumber<std::uint64_t>(option, value);
  } else if (option == "--answer-sw") {
    Bytes sw;
    try {
      sw = parseHex(value);
    } catch (const std::invalid_argument&) {
      // ignored: reported just below, as a value that is not 4 hex digits
    }
    if (sw.size() != 2) throw UsageError("--answer-sw needs 4 hex digits, got '" + value + "'");
    o.answerSw = static_cast<std::uint16_t>(sw[0] << 8 | sw[1]);
  } else if (option == "--answer-sw-after") {
    o.answerSwAfter = parseNumber<std::uint64_t>(option, value);
  } else if (option == "--answer-hex") {
    try {
      o.answerRaw = parseHex(value);
    } catch (const std::invalid_argument&) {
      throw UsageError("--answer-hex needs hex digits, got '" + value + "'");
    }
  } else if (option == "--hang-after") {
    o.hangAfter = parseNumber<std::uint64_t>(option, value);
  } else if (option == "--control") {
    o.controlPath = value;
  } else {
    throw UsageError("unknown option " + option);
  }
}

// Every option but --help takes a value; getopt_long returns kLong + its index here.
constexpr int kLong = 0x100;
// clang-format off
constexpr std::array<const char*, 20> kValued = {
    "out", "profile", "host", "port", "connect-timeout", "pki-dir", "state", "atr", "auth-pin",
    "sign-pin", "log", "latency-apdu-ms", "latency-byte-ms", "latency-sign-ms", "fail-after",
    "answer-sw", "answer-sw-after", "control", "answer-hex", "hang-after"};
// clang-format on

}  // namespace

Options parseOptions(int argc, char** argv) {
  Options o;
  // `jpki-vcard pki ...`: "pki" takes the place of the program name, getopt starts after it.
  if (argc > 1 && std::string_view(argv[1]) == "pki") {
    o.mode = Options::Mode::WritePki;
    --argc;
    ++argv;
  }
  std::vector<option> longOpts;
  longOpts.reserve(kValued.size() + 2);
  for (std::size_t i = 0; i < kValued.size(); ++i) {
    longOpts.push_back({kValued[i], required_argument, nullptr, kLong + static_cast<int>(i)});
  }
  longOpts.push_back({"help", no_argument, nullptr, 'h'});
  longOpts.push_back({});
  optind = 0;  // glibc: start afresh
  opterr = 0;
  for (;;) {
    const int at = optind == 0 ? 1 : optind;  // the element the option is read from
    // '-': operands in order (code 1); ':': a missing value returns ':'.
    const int c = getopt_long(argc, argv, "-:h", longOpts.data(), nullptr);
    if (c == -1) break;
    const std::string arg = argv[at];
    const std::string typed = arg.substr(0, arg.find('='));
    const int code = c == '?' || c == ':' ? optopt : c;  // the option concerned; 0: unknown long
    if (code == 'h' && (typed == "-h" || typed == "--help")) {
      o.mode = Options::Mode::Help;
      return o;
    }
    if (c == 1 || arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
    // getopt_long also takes a prefix (--prof for --profile): only the whole name is accepted.
    if (code < kLong ||
        typed != "--" + std::string(kValued[static_cast<std::size_t>(code - kLong)])) {
      throw UsageError("unknown option " + typed);
    }
    if (c == ':') throw UsageError(typed + " needs a value");
    apply(o, typed, optarg);
  }
  if (optind < argc) throw UsageError("unexpected argument '" + std::string(argv[optind]) + "'");
  if (o.mode == Options::Mode::WritePki && o.pkiDir.empty()) {
    throw UsageError("'pki' needs --out DIR");
  }
  return o;
}

}  // namespace jpki::vcard
