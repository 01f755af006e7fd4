// SPDX-License-Identifier: MIT
// Tokens: one per role of one card insertion. The card is connected the first time a caller asks
// for a token (C_GetTokenInfo, C_OpenSession); C_Initialize and C_GetSlotInfo never touch it.
// Identity: serial = the first 8 bytes of SHA-256(authentication certificate) in hex, so two cards
// differ and a card keeps its serial across insertions; labels "JPKI Auth <8 hex>" /
// "JPKI Sign <8 hex>" (≤32 bytes, no colon: NSS uses "token:nickname").
#include <algorithm>
#include <cstring>
#include <optional>

#include "log.h"
#include "ops.h"

namespace jpki::module {
namespace {

std::size_t roleIndex(KeyRole role) { return role == KeyRole::Auth ? 0 : 1; }

const char* modelName(CardKind kind) { return cardKindInfo(kind).model; }

}  // namespace

bool Token::alive() const { return card && card->alive; }

bool Token::loggedIn() const {
  return alive() && userLogin && card->jpki->verified(role) &&
         card->jpki->resetGeneration() == loginGeneration;
}

void invalidateCard(State& st, Card& card) {
  card.alive = false;
  for (Reader& r : st.readerList) {
    if (r.card.get() == &card) {
      r.card.reset();
      r.tokens = {};
    }
  }
}

const std::string& cardSerial(Card& card) {
  if (card.serial.empty()) {
    const Bytes& identity = card.jpki->identity();  // one chunk of 000A, cached
    card.serial = toHex(ByteView(identity).first(std::min<std::size_t>(8, identity.size())), false);
    std::transform(card.serial.begin(), card.serial.end(), card.serial.begin(),
                   [](char ch) { return static_cast<char>(std::toupper(ch)); });
  }
  return card.serial;
}

std::string tokenLabel(const Token& token) {
  return std::string(token.role == KeyRole::Auth ? "JPKI Auth " : "JPKI Sign ") +
         cardSerial(*token.card).substr(0, 8);
}

std::shared_ptr<CertificateStore> makeCertificateStore(const config::Config& config) {
  if (!config.certificateCache) {
    JPKI_LOG_INFO("certificate cache off (certificate-cache = no)");
    return nullptr;
  }
  const std::string& dir = config.cacheDir;  // the default filled in by config::load()
  if (dir.empty()) {
    JPKI_LOG_INFO("certificate cache off: no cache-dir, XDG_CACHE_HOME or HOME");
    return nullptr;
  }
  JPKI_LOG_INFO("certificate cache in %s", dir.c_str());
  return makeDiskCertificateStore(
      dir, [](const std::string& problem) { JPKI_LOG_WARN("%s", problem.c_str()); });
}

std::shared_ptr<Token> ensureToken(State& st, Slot& slot, bool confirmJpki) {
  Reader& reader = readerOf(st, slot);
  if (!reader.present) {
    fail(CKR_TOKEN_NOT_PRESENT);
  }
  auto& token = reader.tokens[roleIndex(slot.role)];
  if (token && token->alive()) {
    return token;
  }
  if (!reader.card) {
    auto card = std::make_shared<Card>();
    card->eventCount = reader.eventCount;
    card->jpki = std::make_unique<JpkiCard>(st.readers->connect(reader.name));
    card->jpki->setCertificateStore(st.certStore);
    // One SELECT EF (SELECT AID only when the AP is not current), once per insertion:
    // Errc::NotJpki → CKR_TOKEN_NOT_RECOGNIZED. Label and identity are read when asked for.
    if (confirmJpki) {
      card->jpki->ensureJpki();
    }
    JPKI_LOG_INFO("JPKI card in reader \"%s\"", reader.name.c_str());
    reader.card = std::move(card);
    reader.tokens = {};
  }
  auto fresh = std::make_shared<Token>();
  fresh->card = reader.card;
  fresh->role = slot.role;
  fresh->signAlwaysAuthenticate = st.config.signAlwaysAuthenticate;
  for (const ObjectDef& def : objectTable()) {
    if (def.token == slot.role) {
      fresh->objects.push_back({newObjectHandle(), &def});
    }
  }
  token = fresh;
  return token;
}

CK_RV getTokenInfo(Call& c, CK_TOKEN_INFO_PTR info) {
  if (info == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  Slot& slot = *c.slot;
  std::shared_ptr<Token> token = ensureToken(c.st, slot, false);
  Card& card = *token->card;
  // One transaction: the PIN EF select confirms the AP, the reads follow without re-confirming.
  JpkiCard::Batch batch(*card.jpki);
  // Issue 20: the counter this process learnt since the card was last reset or reconnected (an
  // empty VERIFY or a VERIFY; JpkiCard::knownPinStatus) is shown without an APDU (the transaction
  // still tells of a reset, as before, so that a login ended by one is seen); otherwise an empty
  // VERIFY (no try spent), whose PIN EF select is also the first contact's AP check (Errc::NotJpki
  // → CKR_TOKEN_NOT_RECOGNIZED). A wrong PIN typed in another process since is not seen here until
  // this process asks the card again; it cannot make a PIN reach a locked card, since
  // JpkiCard::verify reads the counter in the VERIFY's own transaction.
  card.jpki->noticeReset();  // a transaction, no APDU: a reset forgets the counters
  const std::optional<PinStatus> known = card.jpki->knownPinStatus(slot.role);
  const PinStatus pin = known ? *known : card.jpki->pinStatus(slot.role);
  const auto& key = layout::key(slot.role);
  const std::string label = tokenLabel(*token);  // identity: one chunk of 000A, once
  // EF 0006, read once; after the identity, so that a label stored for this card costs nothing.
  const CardKind kind = card.jpki->kind();

  *info = {};
  padCopy(info->label, sizeof info->label, label);
  padCopy(info->manufacturerID, sizeof info->manufacturerID, "J-LIS");
  padCopy(info->model, sizeof info->model, modelName(kind));
  padCopy(info->serialNumber, sizeof info->serialNumber, cardSerial(card));
  // CKF_WRITE_PROTECTED: no object can be created, changed or deleted. It does not forbid C_SetPIN:
  // what a write-protected token refuses is the token's choice (v2.40 §3.2, the note on
  // CKF_WRITE_PROTECTED: changing the user's PIN is one possibility among others), and neither
  // pkcs11-tool --change-pin nor NSS's PK11_ChangePW checks it, while NSS keeps never choosing this
  // token when it needs a writable one (key generation, certificate import).
  info->flags =
      CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED;
  if (pin.triesLeft == 0) {
    info->flags |= CKF_USER_PIN_LOCKED;
  } else {
    if (pin.triesLeft < pin.maxTries) {
      info->flags |= CKF_USER_PIN_COUNT_LOW;
    }
    if (pin.triesLeft == 1) {
      info->flags |= CKF_USER_PIN_FINAL_TRY;
    }
  }
  CK_ULONG sessions = 0, rw = 0;
  for (const auto& [h, s] : c.st.sessions) {
    if (s.token == token) {
      ++sessions;
      if ((s.flags & CKF_RW_SESSION) != 0) {
        ++rw;
      }
    }
  }
  info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
  info->ulSessionCount = sessions;
  info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
  info->ulRwSessionCount = rw;
  info->ulMaxPinLen = key.maxPinLen;
  info->ulMinPinLen = key.minPinLen;
  info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info->hardwareVersion = {0, 0};
  info->firmwareVersion = {0, 0};
  std::memset(info->utcTime, ' ', sizeof info->utcTime);
  return CKR_OK;
}

}  // namespace jpki::module
