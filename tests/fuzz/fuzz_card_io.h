// SPDX-License-Identifier: MIT
// A card whose every answer comes from the fuzz input, behind the transport interface
// (CardConnection / ReaderSystem), and a recorder that writes real answers in the same format so
// the seed corpora start from a working card.
//
// Input format, consumed in the order the client talks to the card:
//   beginTransaction(): a leading byte A5 is consumed and reported as "the card was reset".
//   transmit():         two bytes H L, then the answer:
//                         H < 0x80: an answer of (H << 8 | L) bytes (cut short at the end of the
//                                   input: a truncated response);
//                         H >= 0x80: the transport throws the error numbered H & 0x0F
//                                   (card removed, reset, timeout, ...); L is ignored.
//                       At the end of the input every transmit() throws Errc::CardRemoved.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "jpki/bytes.h"
#include "jpki/error.h"
#include "jpki/transport.h"

namespace jpki::fuzz {

inline constexpr std::uint8_t kResetMarker = 0xA5;

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  [[nodiscard]] bool empty() const { return pos_ >= size_; }
  [[nodiscard]] std::uint8_t peek() const { return empty() ? 0 : data_[pos_]; }
  std::uint8_t byte() { return empty() ? 0 : data_[pos_++]; }
  Bytes take(std::size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    Bytes out(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

inline Errc transportError(std::uint8_t n) {
  static constexpr Errc kErrors[] = {Errc::CardRemoved, Errc::CardReset, Errc::Timeout,
                                     Errc::Transport,   Errc::NoCard,    Errc::Sharing,
                                     Errc::NoService,   Errc::NoReader};
  return kErrors[n % std::size(kErrors)];
}

class FuzzConnection final : public CardConnection {
 public:
  explicit FuzzConnection(std::shared_ptr<Input> in) : in_(std::move(in)) {}
  bool beginTransaction() override {
    if (!in_->empty() && in_->peek() == kResetMarker) {
      in_->byte();
      return true;
    }
    return false;
  }
  void endTransaction() noexcept override {}
  Bytes transmit(const Bytes& /*command*/) override {
    if (in_->empty()) {
      throw Error(Errc::CardRemoved, "fuzz input exhausted: card removed");
    }
    const std::uint8_t hi = in_->byte();
    const std::uint8_t lo = in_->byte();
    if (hi >= 0x80) {
      throw Error(transportError(hi & 0x0F), "fuzzed transport error");
    }
    return in_->take((static_cast<std::size_t>(hi) << 8) | lo);
  }
  [[nodiscard]] Bytes atr() const override { return {0x3B, 0xE0, 0x00, 0xFF, 0x81}; }
  [[nodiscard]] std::string readerName() const override { return "Fuzz Reader 00 00"; }

 private:
  std::shared_ptr<Input> in_;
};

// One reader with a card always present; each connect() talks to the same fuzz input.
class FuzzReaderSystem final : public ReaderSystem {
 public:
  explicit FuzzReaderSystem(std::shared_ptr<Input> in) : in_(std::move(in)) {}
  std::vector<ReaderState> readers() override {
    return {ReaderState{"Fuzz Reader 00 00", true, {0x3B, 0xE0, 0x00, 0xFF, 0x81}, 1}};
  }
  std::unique_ptr<CardConnection> connect(const std::string& /*reader*/) override {
    return std::make_unique<FuzzConnection>(in_);
  }
  bool waitForChange(std::chrono::milliseconds /*timeout*/) override { return false; }
  void cancel() noexcept override {}

 private:
  std::shared_ptr<Input> in_;
};

// Wraps a real connection and appends every answer to `out` in the input format above.
class RecordingConnection final : public CardConnection {
 public:
  RecordingConnection(std::unique_ptr<CardConnection> inner, std::shared_ptr<Bytes> out)
      : inner_(std::move(inner)), out_(std::move(out)) {}
  bool beginTransaction() override { return inner_->beginTransaction(); }
  void endTransaction() noexcept override { inner_->endTransaction(); }
  Bytes transmit(const Bytes& command) override {
    Bytes r = inner_->transmit(command);
    out_->push_back(static_cast<std::uint8_t>(r.size() >> 8));
    out_->push_back(static_cast<std::uint8_t>(r.size() & 0xFF));
    out_->insert(out_->end(), r.begin(), r.end());
    return r;
  }
  [[nodiscard]] Bytes atr() const override { return inner_->atr(); }
  [[nodiscard]] std::string readerName() const override { return inner_->readerName(); }

 private:
  std::unique_ptr<CardConnection> inner_;
  std::shared_ptr<Bytes> out_;
};

class RecordingReaderSystem final : public ReaderSystem {
 public:
  RecordingReaderSystem(std::shared_ptr<ReaderSystem> inner, std::shared_ptr<Bytes> out)
      : inner_(std::move(inner)), out_(std::move(out)) {}
  std::vector<ReaderState> readers() override { return inner_->readers(); }
  std::unique_ptr<CardConnection> connect(const std::string& reader) override {
    return std::make_unique<RecordingConnection>(inner_->connect(reader), out_);
  }
  bool waitForChange(std::chrono::milliseconds t) override { return inner_->waitForChange(t); }
  void cancel() noexcept override { inner_->cancel(); }

 private:
  std::shared_ptr<ReaderSystem> inner_;
  std::shared_ptr<Bytes> out_;
};

}  // namespace jpki::fuzz
