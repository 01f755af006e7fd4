// Tokens: one per role of one card insertion. The card is connected the first time a caller asks
// for a token (C_GetTokenInfo, C_OpenSession); C_Initialize and C_GetSlotInfo never touch it.
// Identity: serial = the first 8 bytes of SHA-256(authentication certificate) in hex, so two cards
// differ and a card keeps its serial across insertions; labels "JPKI Auth <8 hex>" /
// "JPKI Sign <8 hex>" (≤32 bytes, no colon: NSS uses "token:nickname").
#include <algorithm>
#include <cstring>

#include "log.h"
#include "ops.h"

namespace jpki::module {
namespace {

std::size_t roleIndex(KeyRole role) { return role == KeyRole::Auth ? 0 : 1; }

const char* modelName(CardKind kind) {
  switch (kind) {
    case CardKind::MyNumberCard:
      return "MyNumberCard";
    case CardKind::JukiCard:
      return "JukiCard";
    case CardKind::Smartphone:
      return "Smartphone";
    case CardKind::Unknown:
      break;
  }
  return "Unknown";
}

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

std::string tokenLabel(const Token& token) {
  return std::string(token.role == KeyRole::Auth ? "JPKI Auth " : "JPKI Sign ") +
         token.card->serial.substr(0, 8);
}

std::shared_ptr<Token> ensureToken(State& st, Slot& slot) {
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
    card->kind = card->jpki->kind();  // Errc::NotJpki → CKR_TOKEN_NOT_RECOGNIZED
    const Bytes& identity = card->jpki->identity();
    card->serial =
        toHex(ByteView(identity).first(std::min<std::size_t>(8, identity.size())), false);
    std::transform(card->serial.begin(), card->serial.end(), card->serial.begin(),
                   [](char ch) { return static_cast<char>(std::toupper(ch)); });
    JPKI_LOG_INFO("card %s in reader \"%s\"", card->serial.c_str(), reader.name.c_str());
    reader.card = std::move(card);
    reader.tokens = {};
  }
  auto fresh = std::make_shared<Token>();
  fresh->card = reader.card;
  fresh->role = slot.role;
  fresh->slot = slot.id;
  fresh->signAlwaysAuthenticate = st.config.signAlwaysAuthenticate;
  for (const ObjectDef& def : objectTable()) {
    if (def.token == slot.role) {
      fresh->objects.push_back({newObjectHandle(), &def});
    }
  }
  token = fresh;
  return token;
}

CK_RV getTokenInfo(Call& c, CK_SLOT_ID id, CK_TOKEN_INFO_PTR info) {
  if (info == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  syncReaders(c.st);
  Slot& slot = findSlot(c.st, id);
  std::shared_ptr<Token> token = ensureToken(c.st, slot);
  const PinStatus pin = token->card->jpki->pinStatus(slot.role);  // empty VERIFY: no try spent
  const auto& key = layout::key(slot.role);

  *info = {};
  padCopy(info->label, sizeof info->label, tokenLabel(*token));
  padCopy(info->manufacturerID, sizeof info->manufacturerID, "J-LIS");
  padCopy(info->model, sizeof info->model, modelName(token->card->kind));
  padCopy(info->serialNumber, sizeof info->serialNumber, token->card->serial);
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
