// SPDX-License-Identifier: MIT
// Slots: two per selected reader (authentication and signature token; config `tokens` may keep
// one). Slot id = reader index * 2 + role (0 auth, 1 sign): stable for the life of the
// initialization. Readers are appended when they appear and never removed (NSS rejects a
// shrinking slot list); a vanished reader's slots stay, without a token.
#include <algorithm>
#include <cstring>
#include <thread>

#include "guard.h"
#include "log.h"
#include "ops.h"

namespace jpki::module {
namespace {

bool roleEnabled(const config::Config& config, KeyRole role) {
  switch (config.tokens) {
    case config::Tokens::Both:
      return true;
    case config::Tokens::AuthOnly:
      return role == KeyRole::Auth;
    case config::Tokens::SignOnly:
      return role == KeyRole::Sign;
  }
  return true;
}

}  // namespace

void syncReaders(State& st) {
  std::vector<ReaderState> states;
  try {
    states = st.readers->readers();
  } catch (const jpki::Error& e) {
    // Service gone (pcscd stopped): no reader has a card; the slots themselves stay.
    JPKI_LOG_DEBUG("reader listing failed: %s", e.what());
  }
  const bool first = !st.synced;
  st.synced = true;
  for (Reader& r : st.readerList) {
    r.listed = false;
  }
  for (const ReaderState& rs : states) {
    if (!config::readerSelected(st.config, rs.name)) {
      continue;
    }
    auto it = std::find_if(st.readerList.begin(), st.readerList.end(),
                           [&](const Reader& r) { return r.name == rs.name; });
    if (it == st.readerList.end()) {
      Reader r;
      r.name = rs.name;
      st.readerList.push_back(std::move(r));
      const std::size_t index = st.readerList.size() - 1;
      for (KeyRole role : {KeyRole::Auth, KeyRole::Sign}) {
        if (!roleEnabled(st.config, role)) {
          continue;
        }
        Slot slot;
        slot.id = index * 2 + (role == KeyRole::Auth ? 0 : 1);
        slot.reader = index;
        slot.role = role;
        // Readers present at the first listing are the baseline (no event); later ones are news.
        slot.reportedPresent = first && rs.cardPresent;
        slot.reportedEventCount = first ? rs.eventCount : rs.eventCount - 1;
        st.slots.push_back(slot);
      }
      it = st.readerList.end() - 1;
    }
    it->listed = true;
    it->present = rs.cardPresent;
    it->eventCount = rs.eventCount;
  }
  for (Reader& r : st.readerList) {
    if (!r.listed) {
      r.present = false;
    }
  }
  dropDeadCards(st);
}

// What the last listing and the connections already say, without asking the reader system: a card
// no longer present, replaced (event counter), marked dead, or whose connection gave up on a mute
// card (card-timeout) is dropped with its tokens; the next use connects again, which fails fast
// while the reader is still stuck.
void dropDeadCards(State& st) {
  for (Reader& r : st.readerList) {
    if (r.card && (!r.present || r.eventCount != r.card->eventCount || !r.card->alive ||
                   !r.card->jpki->connection().usable())) {
      invalidateCard(st, *r.card);
    }
  }
}

// Issue 20: a call about a known session or slot lists no readers unless the reader system says
// a reader of its last listing may have changed (ReaderSystem::changedSinceListing: nothing asked
// of the in-process card, one SCardGetStatusChange with timeout 0 for PC/SC instead of the
// listing's three). A reader plugged in since cannot concern such a call (its slots are not known
// yet); C_GetSlotList and C_WaitForSlotEvent list. Independently of the listing, an APDU never
// reaches a card swapped in behind an old connection: its next transaction fails with CardRemoved
// (transport.h), and the guard's catch paths list again.
void refreshReaders(State& st) {
  bool changed = true;
  if (st.synced) {
    try {
      changed = st.readers->changedSinceListing();
    } catch (const jpki::Error& e) {
      JPKI_LOG_DEBUG("reader change check failed: %s", e.what());
    }
  }
  if (changed) {
    syncReaders(st);
  } else {
    dropDeadCards(st);
  }
}

Slot& findSlot(State& st, CK_SLOT_ID id) {
  if (!st.synced) {
    syncReaders(st);
  }
  for (Slot& s : st.slots) {
    if (s.id == id) {
      return s;
    }
  }
  fail(CKR_SLOT_ID_INVALID);
}

Reader& readerOf(State& st, const Slot& slot) { return st.readerList.at(slot.reader); }

std::vector<CK_SLOT_ID> slotIds(State& st, bool tokenPresent) {
  std::vector<CK_SLOT_ID> ids;
  for (const Slot& s : st.slots) {
    if (!tokenPresent || readerOf(st, s).present) {
      ids.push_back(s.id);
    }
  }
  return ids;
}

// Lists the readers: a reader plugged in since is news only a listing brings (refreshReaders).
CK_RV getSlotList(Call& c, CK_BBOOL tokenPresent, CK_SLOT_ID_PTR list, CK_ULONG_PTR count) {
  syncReaders(c.st);
  const std::vector<CK_SLOT_ID> ids = slotIds(c.st, tokenPresent != CK_FALSE);
  return writeList<CK_SLOT_ID>(ids, list, count);
}

// Cheap (NSS polls it once a second per slot): reader state only, no APDU.
CK_RV getSlotInfo(Call& c, CK_SLOT_INFO_PTR info) {
  if (info == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  const Slot& slot = *c.slot;
  const Reader& reader = readerOf(c.st, slot);
  *info = {};
  padCopy(info->slotDescription, sizeof info->slotDescription,
          reader.name + (slot.role == KeyRole::Auth ? " (JPKI Auth)" : " (JPKI Sign)"));
  if (reader.name.size() > 52) {  // keep the role visible when the reader name is long
    padCopy(
        info->slotDescription, sizeof info->slotDescription,
        reader.name.substr(0, 52) + (slot.role == KeyRole::Auth ? " (JPKI Auth)" : " (JPKI Sign)"));
  }
  padCopy(info->manufacturerID, sizeof info->manufacturerID, "jpki-pkcs11");
  info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | (reader.present ? CKF_TOKEN_PRESENT : 0);
  info->hardwareVersion = {0, 0};
  info->firmwareVersion = {0, 1};
  return CKR_OK;
}

namespace {

// The next slot whose presence / event counter differs from what was last reported.
std::optional<CK_SLOT_ID> pendingEvent(State& st) {
  for (Slot& s : st.slots) {
    const Reader& r = readerOf(st, s);
    if (r.present != s.reportedPresent || (r.present && r.eventCount != s.reportedEventCount)) {
      s.reportedPresent = r.present;
      s.reportedEventCount = r.eventCount;
      return s.id;
    }
  }
  return std::nullopt;
}

}  // namespace

// CKF_DONT_BLOCK: report one pending event or CKR_NO_EVENT. Blocking: wait on the reader system
// with the lock released; C_Finalize from another thread cancels the wait and the call returns
// CKR_CRYPTOKI_NOT_INITIALIZED (what NSS's SECMOD_CancelWait expects).
CK_RV waitForSlotEvent(Call& c, CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved) {
  if (slot == nullptr || reserved != nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  for (;;) {
    if (c.st.finalized) {
      return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    syncReaders(c.st);  // a reader plugged in is an event too
    if (auto id = pendingEvent(c.st)) {
      *slot = *id;
      return CKR_OK;
    }
    if ((flags & CKF_DONT_BLOCK) != 0) {
      return CKR_NO_EVENT;
    }
    std::shared_ptr<ReaderSystem> readers = c.st.readers;
    c.lock.release();
    bool waited = false;
    try {
      readers->waitForChange(std::chrono::milliseconds(500));
      waited = true;
    } catch (const jpki::Error& e) {
      JPKI_LOG_DEBUG("waitForChange: %s", e.what());
    }
    if (!waited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // service down
    }
    if (CK_RV rv = c.lock.acquire(); rv != CKR_OK) {
      return rv;
    }
  }
}

}  // namespace jpki::module
