// SPDX-License-Identifier: MIT
// The transport interface: bytes in, bytes out, inside transactions. The PC/SC implementation
// (apdu/pcsc/) is the only code that includes winscard.h; the virtual card provides an in-process
// implementation for unit tests. Every method may throw jpki::Error with a transport Errc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jpki/bytes.h"

namespace jpki {

// A connection to the card in one reader (PC/SC: one SCARDHANDLE, shared mode, T=1).
class CardConnection {
 public:
  virtual ~CardConnection() = default;

  // Starts an exclusive transaction: no other process can send APDUs until endTransaction().
  // Returns true when the card has been reset (by anyone) since this connection last talked to
  // it; the connection has already reconnected, but everything selected or verified on the card
  // is gone. Throws Errc::NoCard / CardRemoved when the card is gone.
  virtual bool beginTransaction() = 0;
  // Ends the transaction. An implementation may keep it open for a moment (PC/SC: until the
  // connection has been idle a few milliseconds) so that a beginTransaction() soon after continues
  // it instead of starting another.
  virtual void endTransaction() noexcept = 0;
  // True when the last beginTransaction() continued the transaction ended before, kept open:
  // nothing else has reached the card in between, so what was selected then is still selected.
  [[nodiscard]] virtual bool continuesLastTransaction() const { return false; }

  // Sends one command APDU and returns the full response (data + SW1 SW2). Must be called inside
  // a transaction. Throws Errc::CardRemoved, CardReset (reset during the transaction), Timeout...
  virtual Bytes transmit(const Bytes& command) = 0;

  [[nodiscard]] virtual Bytes atr() const = 0;
  [[nodiscard]] virtual std::string readerName() const = 0;

  // False once a call on this connection was given up (Errc::Timeout): the card never answered.
  // Such a connection fails every later call at once; the owner drops it and connects again
  // (which fails fast with Errc::Timeout while the reader is still stuck).
  [[nodiscard]] virtual bool usable() const { return true; }
};

struct ReaderState {
  std::string name;
  bool cardPresent = false;
  Bytes atr;                     // empty when no card
  std::uint32_t eventCount = 0;  // changes whenever a card is inserted or removed (PC/SC counter)
};

// The set of readers (PC/SC: one SCARDCONTEXT).
class ReaderSystem {
 public:
  virtual ~ReaderSystem() = default;

  // Current readers and their states. Cheap: no APDU is sent. Throws Errc::NoService when the
  // service is unreachable (an empty list means a reachable service with no readers).
  virtual std::vector<ReaderState> readers() = 0;

  // Whether a reader of readers()' last answer may have changed: a card inserted, removed or
  // replaced (the event counter moved), the reader gone, the service lost. Never a false "no" about
  // those; true until readers() has answered once. A reader ADDED since is not covered (pcsc-lite
  // before 2.0 has no cheap way to tell): callers that show the set of readers (slot list, slot
  // events) list. Cheap: PC/SC asks once, with timeout 0, on the last states (one round trip
  // instead of readers()' three); the in-process card asks nothing. With watchChanges() on, PC/SC
  // answers from a thread of its own that waits on those states: no round trip at all (the one
  // check is made only while that thread is not yet waiting). The default always says yes.
  virtual bool changedSinceListing() { return true; }

  // Allows the reader system a thread of its own for changedSinceListing() (started at the next
  // readers(), stopped with the object). Not called when the application forbids threads
  // (CKF_LIBRARY_CANT_CREATE_OS_THREADS). Implementations without round trips ignore it.
  virtual void watchChanges() {}

  virtual std::unique_ptr<CardConnection> connect(const std::string& reader) = 0;

  // Gives up on any call to a card (connect, transaction, APDU) after `limit` with Errc::Timeout;
  // zero waits forever (also the only choice when no thread may be created). Applies to
  // connections made afterwards. Implementations without blocking calls ignore it.
  virtual void setCallTimeout(std::chrono::milliseconds limit) { (void)limit; }

  // Blocks until a reader is added or removed or a card is inserted or removed, the timeout runs
  // out, or cancel() is called from another thread. Returns true when something changed.
  virtual bool waitForChange(std::chrono::milliseconds timeout) = 0;
  virtual void cancel() noexcept = 0;
};

// The PC/SC implementation (apdu/pcsc/pcsc_transport.cpp). Establishes its context lazily.
std::unique_ptr<ReaderSystem> makePcscReaderSystem();

}  // namespace jpki
