// SPDX-License-Identifier: MIT
// jpki-vcard: the virtual JPKI card as a vpcd client, so that pcscd (with vsmartcard's vpcd
// reader driver) sees a real-looking card; plus `jpki-vcard pki` to write the test PKI.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "cli_options.h"
#include "control_channel.h"
#include "core/virtual_card.h"
#include "vpcd_client.h"

namespace jpki::vcard {
namespace {

int gSignalPipe[2] = {-1, -1};

extern "C" void onSignal(int) {
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = write(gSignalPipe[1], &byte, 1);
}

void installSignalHandlers() {
  if (pipe(gSignalPipe) != 0) throw std::runtime_error("pipe failed");
  struct sigaction sa = {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Runs the card: keeps a vpcd connection while the card is "inserted" and answers frames.
class Runner {
 public:
  Runner(const Options& options, VirtualCard& card) : o_(options), card_(card) {
    if (!o_.logFile.empty()) {
      log_.open(o_.logFile, std::ios::app);
      if (!log_) throw std::runtime_error("cannot open log file " + o_.logFile);
    }
    if (!o_.controlPath.empty()) control_ = std::make_unique<ControlChannel>(o_.controlPath);
  }

  int run() {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      if (inserted_ && !conn_) {
        std::string error;
        conn_ = VpcdConnection::tryConnect(o_.host, o_.port, error);
        if (conn_) {
          everConnected_ = true;
          card_.reset();
          note("connected to vpcd (card inserted)");
        } else if (!everConnected_ &&
                   std::chrono::steady_clock::now() - start > o_.connectTimeout) {
          std::cerr << "jpki-vcard: " << error << " (gave up after --connect-timeout)\n";
          return 1;
        }
      }
      std::vector<pollfd> fds{{gSignalPipe[0], POLLIN, 0}};
      if (control_) fds.push_back({control_->fd(), POLLIN, 0});
      if (conn_) fds.push_back({conn_->fd(), POLLIN, 0});
      const int timeout = (inserted_ && !conn_) ? 100 : -1;  // reconnect every 100 ms
      if (poll(fds.data(), fds.size(), timeout) < 0) {
        if (errno == EINTR) continue;
        std::perror("jpki-vcard: poll");
        return 1;
      }
      if (fds[0].revents != 0) {
        note("terminated by signal");
        return 0;
      }
      if (control_ && fds[1].revents != 0) {
        for (const std::string& line : control_->readLines()) {
          if (!handleControl(line)) return 0;
        }
      }
      if (conn_ && (fds.back().revents & (POLLIN | POLLHUP | POLLERR)) != 0) serveFrame();
    }
  }

 private:
  // Returns false for "quit".
  bool handleControl(const std::string& line) {
    if (line == "remove") {
      removeCard("control: remove");
    } else if (line == "insert") {
      inserted_ = true;
      note("control: insert");
    } else if (line == "reset") {
      card_.reset();
      note("control: reset");
    } else if (line == "quit") {
      note("control: quit");
      return false;
    } else {
      std::cerr << "jpki-vcard: unknown control command '" << line << "'\n";
    }
    return true;
  }

  void removeCard(const std::string& why) {
    if (hanging_) {
      hanging_ = false;
      hangDone_ = true;  // answers again once re-inserted
    }
    conn_.reset();  // vpcd reports the card absent when its client goes away
    inserted_ = false;
    note(why + " (card removed)");
  }

  void serveFrame() {
    const auto frame = conn_->readFrame();
    if (!frame) {
      conn_.reset();  // vpcd went away; reconnect while the card stays "inserted"
      note("vpcd closed the connection");
      return;
    }
    if (frame->size() == 1) {
      switch ((*frame)[0]) {
        case kVpcdPowerOff:
          note("power off");
          card_.reset();
          return;
        case kVpcdPowerOn:
          note("power on");
          card_.reset();
          return;
        case kVpcdReset:
          note("reset");
          card_.reset();
          return;
        case kVpcdGetAtr:
          conn_->writeFrame(card_.atr());
          return;
        default:
          break;  // not a control code: a (malformed) one-byte APDU
      }
    }
    ++apdus_;
    if (o_.hangAfter && !hangDone_ && apdus_ > *o_.hangAfter) {
      hanging_ = true;
      writeLog(maskedCommand(*frame), {}, std::chrono::microseconds(0),
               " [not answered: --hang-after]");
      return;  // the card never answers
    }
    Bytes response;
    if (o_.answerRaw && !answerSwDone_ && apdus_ == o_.answerSwAfter + 1) {
      answerSwDone_ = true;
      response = *o_.answerRaw;
      writeLog(maskedCommand(*frame), response, std::chrono::microseconds(0), " [injected]");
    } else if (o_.answerSw && !answerSwDone_ && apdus_ == o_.answerSwAfter + 1) {
      answerSwDone_ = true;
      response = {static_cast<std::uint8_t>(*o_.answerSw >> 8),
                  static_cast<std::uint8_t>(*o_.answerSw & 0xFF)};
      writeLog(maskedCommand(*frame), response, std::chrono::microseconds(0), " [injected]");
    } else {
      response = card_.process(*frame);
      const LogEntry& entry = card_.log().back();
      writeLog(entry.command, response, entry.elapsed, "");
    }
    sleepLatency(*frame, response);
    if (!conn_->writeFrame(response)) {
      conn_.reset();
      note("write to vpcd failed");
      return;
    }
    if (o_.failAfter && !failDone_ && apdus_ >= *o_.failAfter) {
      failDone_ = true;
      removeCard("fault: --fail-after " + std::to_string(*o_.failAfter));
    }
  }

  void sleepLatency(const Bytes& command, const Bytes& response) const {
    double ms =
        o_.latencyApduMs + o_.latencyByteMs * static_cast<double>(command.size() + response.size());
    if (command.size() > 1 && command[1] == 0x2A) ms += o_.latencySignMs;
    if (ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
  }

  void writeLog(const std::string& command, const Bytes& response, std::chrono::microseconds t,
                const char* suffix) {
    if (!log_) return;
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2f", static_cast<double>(t.count()) / 1000.0);
    log_ << "> " << command << "\n< " << toHex(response, false) << " (" << elapsed << " ms)"
         << suffix << '\n'
         << std::flush;  // flushed per APDU
  }

  void note(const std::string& text) {
    if (log_) log_ << "# " << text << '\n' << std::flush;
  }

  const Options& o_;
  VirtualCard& card_;
  std::ofstream log_;
  std::unique_ptr<ControlChannel> control_;
  std::optional<VpcdConnection> conn_;
  bool inserted_ = true;
  bool everConnected_ = false;
  std::uint64_t apdus_ = 0;
  bool failDone_ = false;
  bool answerSwDone_ = false;
  bool hanging_ = false;
  bool hangDone_ = false;
};

int runMain(int argc, char** argv) {
  Options options;
  try {
    options = parseOptions(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "jpki-vcard: error: " << e.what() << "\n(see jpki-vcard --help)\n";
    return 2;
  }
  if (options.mode == Options::Mode::Help) {
    std::cout << usageText();
    return 0;
  }
  if (options.mode == Options::Mode::WritePki) {
    loadOrCreatePki(options.pkiDir, options.card.profile);
    return 0;
  }
  installSignalHandlers();
  CardPki pki = options.pkiDir.empty() ? generatePki(options.card.profile)
                                       : loadOrCreatePki(options.pkiDir, options.card.profile);
  VirtualCard card(std::move(pki), options.card);
  Runner runner(options, card);
  return runner.run();
}

}  // namespace
}  // namespace jpki::vcard

int main(int argc, char** argv) {
  try {
    return jpki::vcard::runMain(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "jpki-vcard: " << e.what() << "\n";
    return 1;
  }
}
