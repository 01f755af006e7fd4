// SPDX-License-Identifier: MIT
// A strict scripted CardConnection for unit tests: every APDU must match the next expected
// command (hex), which answers with the scripted response or transport error. An unexpected APDU
// fails the test; so does an unused expectation (checkDone(), called from TearDown).
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jpki/bytes.h"
#include "jpki/error.h"
#include "jpki/transport.h"

namespace jpki::test {

inline std::string normHex(const std::string& hex) { return toHex(parseHex(hex), false); }

struct Script {
  struct Exchange {
    std::string command;  // normalised hex
    Bytes response;
    std::optional<Errc> error;
  };
  std::deque<Exchange> exchanges;
  std::deque<bool> resets;         // beginTransaction() answers, front first; default false
  std::deque<bool> continues;      // continuesLastTransaction() after each begin; default false
  std::optional<Errc> beginError;  // thrown by the next beginTransaction()
  std::vector<std::string> sent;   // every command received, normalised hex
  int begins = 0;
  int ends = 0;
  bool inTransaction = false;

  Script& expect(const std::string& command, const std::string& response) {
    exchanges.push_back({normHex(command), parseHex(response), std::nullopt});
    return *this;
  }
  Script& expect(const std::string& command, const Bytes& response) {
    exchanges.push_back({normHex(command), response, std::nullopt});
    return *this;
  }
  Script& expectError(const std::string& command, Errc error) {
    exchanges.push_back({normHex(command), {}, error});
    return *this;
  }
  Script& resetOnNextBegin() {
    resets.push_back(true);
    return *this;
  }
  // The next beginTransaction() continues the transaction before it (kept open by the transport).
  Script& continueOnNextBegin() {
    continues.push_back(true);
    return *this;
  }

  void checkDone() {
    for (const auto& e : exchanges) {
      ADD_FAILURE() << "expected APDU never sent: " << e.command;
    }
    exchanges.clear();
    EXPECT_FALSE(inTransaction) << "transaction left open";
    EXPECT_EQ(begins, ends) << "unbalanced begin/endTransaction";
  }
};

class ScriptedConnection final : public CardConnection {
 public:
  explicit ScriptedConnection(std::shared_ptr<Script> script) : script_(std::move(script)) {}

  bool beginTransaction() override {
    EXPECT_FALSE(script_->inTransaction) << "nested transaction";
    if (script_->beginError) {
      const Errc e = *script_->beginError;
      script_->beginError.reset();
      throw Error(e, "scripted beginTransaction failure");
    }
    ++script_->begins;
    script_->inTransaction = true;
    continued_ = !script_->continues.empty() && script_->continues.front();
    if (!script_->continues.empty()) {
      script_->continues.pop_front();
    }
    if (script_->resets.empty()) {
      return false;
    }
    const bool reset = script_->resets.front();
    script_->resets.pop_front();
    return reset;
  }

  void endTransaction() noexcept override {
    ++script_->ends;
    script_->inTransaction = false;
  }

  Bytes transmit(const Bytes& command) override {
    const std::string hex = toHex(command, false);
    script_->sent.push_back(hex);
    EXPECT_TRUE(script_->inTransaction) << "APDU outside a transaction: " << hex;
    if (script_->exchanges.empty()) {
      ADD_FAILURE() << "unexpected APDU (script exhausted): " << hex;
      throw Error(Errc::Transport, "unexpected APDU");
    }
    Script::Exchange next = script_->exchanges.front();
    script_->exchanges.pop_front();
    if (next.command != hex) {
      ADD_FAILURE() << "unexpected APDU: " << hex << "\n      expected: " << next.command;
      throw Error(Errc::Transport, "unexpected APDU");
    }
    if (next.error) {
      throw Error(*next.error, "scripted transport error");
    }
    return next.response;
  }

  [[nodiscard]] bool continuesLastTransaction() const override { return continued_; }

  [[nodiscard]] Bytes atr() const override { return parseHex("3B E0 00 FF 81 31 FE 45 14"); }
  [[nodiscard]] std::string readerName() const override { return "Scripted Reader 00 00"; }

 private:
  std::shared_ptr<Script> script_;
  bool continued_ = false;
};

}  // namespace jpki::test
