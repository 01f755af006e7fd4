// SPDX-License-Identifier: MIT
// InProcessReaderSystem: the transport interface served by VirtualCards in the same process, with
// PC/SC-like semantics (shared connections, exclusive transactions, reset and removal reporting).
#include <condition_variable>

#include "core/virtual_card.h"
#include "jpki/error.h"

namespace jpki::vcard {

namespace {

struct Slot {
  std::string name;
  std::shared_ptr<VirtualCard> card;
  std::uint32_t eventCount = 0;
  std::uint64_t insertion = 0;  // changes with every insert: identifies "this card insertion"
  std::uint64_t resets = 0;     // number of resets of the current insertion
  std::uint64_t owner = 0;      // connection id holding the transaction, 0 = none
};

// The shared state of the reader system and its connections.
struct Shared {
  std::mutex mutex;
  std::condition_variable changed;  // reader/card events, transaction release, cancel
  std::vector<Slot> slots;
  bool serviceAvailable = true;
  std::uint64_t changes = 0;  // bumped on every reader or card event
  std::uint64_t cancels = 0;  // bumped by cancel()
  std::uint64_t nextConnection = 1;
  std::uint64_t nextInsertion = 1;
  std::function<void(std::size_t, const Bytes&)> faultHook;

  void requireService() const {
    if (!serviceAvailable) throw Error(Errc::NoService, "virtual PC/SC service unavailable");
  }
  void notifyChange() {
    ++changes;
    changed.notify_all();
  }
};

class InProcessConnection : public CardConnection {
 public:
  using Impl = Shared;

  InProcessConnection(std::shared_ptr<Impl> impl, std::size_t slot, std::uint64_t id, const Slot& s)
      : impl_(std::move(impl)),
        slot_(slot),
        id_(id),
        insertion_(s.insertion),
        resets_(s.resets),
        atr_(s.card->atr()),
        name_(s.name) {}

  ~InProcessConnection() override { endTransaction(); }

  // A re-inserted card counts as reset (the connection reconnects, like SCardReconnect after
  // SCARD_W_RESET_CARD / SCARD_W_REMOVED_CARD); a removed card throws CardRemoved.
  bool beginTransaction() override {
    std::unique_lock lock(impl_->mutex);
    impl_->requireService();
    Slot& s = impl_->slots[slot_];
    impl_->changed.wait(lock, [&] { return s.owner == 0 || s.owner == id_ || !s.card; });
    if (!s.card) throw Error(Errc::CardRemoved, "card removed from " + s.name);
    bool wasReset = false;
    if (s.insertion != insertion_ || s.resets != resets_) {
      wasReset = true;
      insertion_ = s.insertion;
      resets_ = s.resets;
      atr_ = s.card->atr();
    }
    s.owner = id_;
    return wasReset;
  }

  void endTransaction() noexcept override {
    std::lock_guard lock(impl_->mutex);
    Slot& s = impl_->slots[slot_];
    if (s.owner == id_) {
      s.owner = 0;
      impl_->changed.notify_all();
    }
  }

  Bytes transmit(const Bytes& command) override {
    std::unique_lock lock(impl_->mutex);
    checkUsable(impl_->slots[slot_]);
    // The hook may throw, or call back into the reader system (e.g. remove()), so it runs
    // without the lock; the card's state is checked again afterwards.
    if (auto hook = impl_->faultHook) {
      lock.unlock();
      hook(slot_, command);
      lock.lock();
      checkUsable(impl_->slots[slot_]);
    }
    return impl_->slots[slot_].card->process(command);
  }

  [[nodiscard]] Bytes atr() const override { return atr_; }
  [[nodiscard]] std::string readerName() const override { return name_; }

 private:
  void checkUsable(const Slot& s) const {
    impl_->requireService();
    if (!s.card || s.insertion != insertion_) {
      throw Error(Errc::CardRemoved, "card removed from " + s.name);
    }
    if (s.owner != id_) throw Error(Errc::Transport, "transmit outside a transaction");
    if (s.resets != resets_) throw Error(Errc::CardReset, "card reset during the transaction");
  }

  std::shared_ptr<Impl> impl_;
  std::size_t slot_;
  std::uint64_t id_;
  std::uint64_t insertion_;
  std::uint64_t resets_;
  Bytes atr_;
  std::string name_;
};

}  // namespace

struct InProcessReaderSystem::Impl : Shared {};

InProcessReaderSystem::InProcessReaderSystem(std::size_t readers, const std::string& namePrefix)
    : impl_(std::make_shared<Impl>()) {
  for (std::size_t i = 0; i < readers; ++i) {
    impl_->slots.push_back(Slot{namePrefix + std::to_string(i), nullptr});
  }
}

InProcessReaderSystem::~InProcessReaderSystem() { cancel(); }

void InProcessReaderSystem::insert(std::size_t reader, std::shared_ptr<VirtualCard> card) {
  std::lock_guard lock(impl_->mutex);
  Slot& s = impl_->slots.at(reader);
  card->reset();  // power-on
  s.card = std::move(card);
  s.insertion = impl_->nextInsertion++;
  s.resets = 0;
  s.owner = 0;
  ++s.eventCount;
  impl_->notifyChange();
}

void InProcessReaderSystem::remove(std::size_t reader) {
  std::lock_guard lock(impl_->mutex);
  Slot& s = impl_->slots.at(reader);
  if (!s.card) return;
  s.card.reset();
  s.owner = 0;
  ++s.eventCount;
  impl_->notifyChange();
}

void InProcessReaderSystem::resetCard(std::size_t reader) {
  std::lock_guard lock(impl_->mutex);
  Slot& s = impl_->slots.at(reader);
  if (!s.card) return;
  s.card->reset();
  ++s.resets;
}

void InProcessReaderSystem::addReader(std::string name) {
  std::lock_guard lock(impl_->mutex);
  impl_->slots.push_back(Slot{std::move(name), nullptr});
  impl_->notifyChange();
}

void InProcessReaderSystem::setServiceAvailable(bool available) {
  std::lock_guard lock(impl_->mutex);
  impl_->serviceAvailable = available;
  impl_->notifyChange();
}

void InProcessReaderSystem::setFaultHook(
    std::function<void(std::size_t reader, const Bytes& command)> hook) {
  std::lock_guard lock(impl_->mutex);
  impl_->faultHook = std::move(hook);
}

std::shared_ptr<VirtualCard> InProcessReaderSystem::card(std::size_t reader) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->slots.at(reader).card;
}

std::vector<ReaderState> InProcessReaderSystem::readers() {
  std::lock_guard lock(impl_->mutex);
  impl_->requireService();
  std::vector<ReaderState> out;
  for (const Slot& s : impl_->slots) {
    out.push_back({s.name, s.card != nullptr, s.card ? s.card->atr() : Bytes{}, s.eventCount});
  }
  return out;
}

std::unique_ptr<CardConnection> InProcessReaderSystem::connect(const std::string& reader) {
  std::lock_guard lock(impl_->mutex);
  impl_->requireService();
  for (std::size_t i = 0; i < impl_->slots.size(); ++i) {
    const Slot& s = impl_->slots[i];
    if (s.name != reader) continue;
    if (!s.card) throw Error(Errc::NoCard, "no card in " + reader);
    return std::make_unique<InProcessConnection>(impl_, i, impl_->nextConnection++, s);
  }
  throw Error(Errc::NoReader, "no reader named " + reader);
}

bool InProcessReaderSystem::waitForChange(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  impl_->requireService();
  const std::uint64_t changes = impl_->changes;
  const std::uint64_t cancels = impl_->cancels;
  impl_->changed.wait_for(lock, timeout,
                          [&] { return impl_->changes != changes || impl_->cancels != cancels; });
  return impl_->changes != changes;
}

void InProcessReaderSystem::cancel() noexcept {
  std::lock_guard lock(impl_->mutex);
  ++impl_->cancels;
  impl_->changed.notify_all();
}

}  // namespace jpki::vcard
