// SPDX-License-Identifier: MIT
// The module's internal state: readers, slots, cards, tokens, sessions, operations.
//
// Lock order: the process-wide lifecycle mutex (library.cpp) only guards the pointer to the State
// and is never held while anything else is locked. Every C_* call then takes State::lock (the
// application's mutex callbacks, or a std::mutex) for its whole duration; it is the only lock, so
// all card I/O of the module is serialised. C_WaitForSlotEvent releases it while blocked in
// ReaderSystem::waitForChange. Card objects (JpkiCard) are not thread-safe and are only touched
// with State::lock held.
#pragma once

#include <openssl/evp.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "jpki/bytes.h"
#include "jpki/cert_cache.h"
#include "jpki/config.h"
#include "jpki/jpki_card.h"
#include "jpki/pkcs11_ext.h"
#include "jpki/transport.h"

namespace jpki::module {

// An internal failure with its PKCS#11 code; the guard (guard.cpp) returns rv.
struct CkError {
  CK_RV rv;
};
[[noreturn]] inline void fail(CK_RV rv) { throw CkError{rv}; }

using AttrMap = std::map<CK_ATTRIBUTE_TYPE, Bytes>;

// ---- objects.cpp: the card's fixed objects as one table ----
enum class ObjKind { Certificate, PublicKey, PrivateKey, Profile };
struct ObjectDef {
  KeyRole token;  // the token (slot role) that shows the object
  ObjKind kind;
  CertFile cert;      // where the data comes from (keys: the certificate with the public key)
  const char* label;  // CKA_LABEL (shared by a certificate and its key pair)
  std::uint8_t id;    // CKA_ID (one byte, never 00: NSS treats ID 0 specially)
  bool isPrivate;     // CKA_PRIVATE: hidden until the token's user is logged in
  bool authority;     // CKA_CERTIFICATE_CATEGORY 2 (authority) instead of 1 (token user)
};
std::span<const ObjectDef> objectTable();

struct Card;

struct ObjectEntry {
  CK_OBJECT_HANDLE handle;
  const ObjectDef* def;
};

// One token = one role (auth / sign) of one card insertion. Replaced, with fresh object handles,
// when a card is removed or another card is inserted.
struct Token {
  std::shared_ptr<Card> card;
  KeyRole role = KeyRole::Auth;
  bool userLogin = false;  // C_Login(CKU_USER) succeeded and no C_Logout since
  // JpkiCard::resetGeneration() at the successful login. Not redundant with JpkiCard::verified():
  // after a reset the card can hold this PIN verified again without a C_Login (C_SetPIN VERIFYs
  // the current PIN), and that must not bring the login the reset ended back.
  std::uint64_t loginGeneration = 0;
  bool signAlwaysAuthenticate = true;  // config: CKA_ALWAYS_AUTHENTICATE on the signature key
  std::vector<ObjectEntry> objects;
  struct CachedAttrs {
    AttrMap attrs;
    bool complete = false;  // the certificate-derived attributes are in too
  };
  std::map<CK_OBJECT_HANDLE, CachedAttrs> attrCache;

  [[nodiscard]] bool alive() const;
  // Logged in = our login succeeded and the card still has the PIN verified (a reset by another
  // process or a C_Logout on the other token of the same card clears it).
  [[nodiscard]] bool loggedIn() const;
};

struct Card {
  std::unique_ptr<JpkiCard> jpki;
  std::uint32_t eventCount = 0;  // reader eventCount when connected
  bool alive = true;
  std::string serial;  // 16 hex digits of identity(); empty until asked for (cardSerial)
};

struct Reader {
  std::string name;
  bool listed = false;   // seen in the last reader listing
  bool present = false;  // card present per the last listing
  std::uint32_t eventCount = 0;
  std::shared_ptr<Card> card;                    // connected lazily
  std::array<std::shared_ptr<Token>, 2> tokens;  // index = role
};

struct Slot {
  CK_SLOT_ID id = 0;
  std::size_t reader = 0;
  KeyRole role = KeyRole::Auth;
  // What C_WaitForSlotEvent reported last for this slot.
  bool reportedPresent = false;
  std::uint32_t reportedEventCount = 0;
};

// ---- operations: at most one active per session ----
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// v2.40 §5.10-5.12: the first C_Digest/C_Sign/C_Verify (a length query included) makes an
// operation single-part, the first C_*Update or C_*Final multi-part; the other kind then answers
// CKR_OPERATION_ACTIVE and ends it.
enum class Part { Open, Single, Multi };

struct FindOp {
  std::vector<CK_OBJECT_HANDLE> results;
  std::size_t next = 0;
};
struct SignOp {
  const EVP_MD* md = nullptr;  // null for CKM_RSA_PKCS
  MdCtx ctx;                   // hash-and-sign
  Bytes data;                  // CKM_RSA_PKCS: the data to sign
  Part part = Part::Open;
  bool needContextLogin = false;  // CKA_ALWAYS_AUTHENTICATE key
  bool contextLoggedIn = false;
  std::size_t sigLen = 256;
};
struct VerifyOp {
  const EVP_MD* md = nullptr;
  MdCtx ctx;
  Bytes data;
  Part part = Part::Open;
  Pkey key;
  std::size_t sigLen = 256;
};
struct DigestOp {
  const EVP_MD* md = nullptr;
  MdCtx ctx;
  Part part = Part::Open;
};
using Operation = std::variant<std::monostate, FindOp, SignOp, VerifyOp, DigestOp>;

struct Session {
  CK_SESSION_HANDLE handle = 0;
  CK_SLOT_ID slot = 0;
  CK_FLAGS flags = 0;
  std::shared_ptr<Token> token;
  Operation op;
};

// The State's lock: the application's mutex callbacks or a std::mutex (CK_C_INITIALIZE_ARGS).
class Lock {
 public:
  virtual ~Lock() = default;
  virtual CK_RV lock() noexcept = 0;
  virtual CK_RV unlock() noexcept = 0;
};

struct State {
  pid_t pid = 0;
  std::unique_ptr<Lock> lock;
  bool finalized = false;  // set by C_Finalize under lock: a blocked waiter must give up
  config::Config config;
  std::shared_ptr<ReaderSystem> readers;
  // The cross-process certificate cache; null when certificate-cache is off or has no directory.
  std::shared_ptr<CertificateStore> certStore;
  std::vector<Reader> readerList;  // never shrinks while initialized
  std::vector<Slot> slots;         // never shrinks while initialized
  bool synced = false;
  std::map<CK_SESSION_HANDLE, Session> sessions;

  ~State();
};

// ---- library.cpp ----
// The current State, or null when not initialized (or initialized in the parent of a fork).
std::shared_ptr<State> currentState();
CK_RV initialize(CK_VOID_PTR args);
CK_RV finalize(CK_VOID_PTR reserved);
CK_SESSION_HANDLE newSessionHandle();  // monotonic, never reused in the process
CK_OBJECT_HANDLE newObjectHandle();    // monotonic, never reused in the process

// ---- slots.cpp ----
void syncReaders(State& st);  // lists the readers (no APDU); invalidates removed cards
// syncReaders() only when the reader system says its last listing may be stale; otherwise only
// drops the cards the last listing or their connections already show dead (no round trip).
void refreshReaders(State& st);
void dropDeadCards(State& st);
Slot& findSlot(State& st, CK_SLOT_ID id);
Reader& readerOf(State& st, const Slot& slot);
std::vector<CK_SLOT_ID> slotIds(State& st, bool tokenPresent);

// ---- session.cpp ----
// Clears the card's verified state (JpkiCard::logout) unless a token of the card is logged in;
// never throws a card error (a card that is gone has nothing left to clear).
void releaseCardLogin(State& st, Card& card);

// ---- token.cpp ----
// The cross-process certificate cache the configuration asks for (certificate-cache, cache-dir;
// else $XDG_CACHE_HOME or ~/.cache), or null. No disk access here: the store works lazily.
std::shared_ptr<CertificateStore> makeCertificateStore(const config::Config& config);
// Connects to the card when needed; confirmJpki: check the AP at first contact (one SELECT EF;
// off when the caller's first card access does that anyway).
std::shared_ptr<Token> ensureToken(State& st, Slot& slot, bool confirmJpki = true);
void invalidateCard(State& st, Card& card);
std::string tokenLabel(const Token& token);
const std::string& cardSerial(Card& card);

// ---- objects.cpp ----
const ObjectEntry* findObject(const Token& token, CK_OBJECT_HANDLE handle);
[[nodiscard]] bool visible(const Token& token, const ObjectEntry& obj);
// Attributes of an object; nullopt when its data does not exist on this card (no sign cert).
// full = false: only what the object table fixes (no certificate read); nullptr when the object
// does not exist on this card (its certificate EF is absent) or is not readable right now.
const AttrMap* attributes(Token& token, const ObjectEntry& obj, bool full = true);
// Whether an attribute (or any of a template) is derived from the certificate's bytes.
bool needsCertificate(const ObjectEntry& obj, CK_ATTRIBUTE_TYPE type);
bool needsCertificate(const ObjectEntry& obj, const CK_ATTRIBUTE* tmpl, CK_ULONG count);
// The sensitive attributes of a private key (CKR_ATTRIBUTE_SENSITIVE).
[[nodiscard]] bool isSensitive(const ObjectEntry& obj, CK_ATTRIBUTE_TYPE type);
// The object for handle when it exists and the session may see it, else CKR_OBJECT_HANDLE_INVALID.
const ObjectEntry& visibleObject(Token& token, CK_OBJECT_HANDLE handle, CK_RV invalid);
bool alwaysAuthenticate(const Token& token, const ObjectDef& def);

// ---- attributes.cpp ----
CK_RV fillTemplate(const AttrMap& attrs, const ObjectEntry& obj, CK_ATTRIBUTE_PTR tmpl,
                   CK_ULONG count);
bool matches(const AttrMap& attrs, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
Bytes ulongBytes(CK_ULONG v);
Bytes boolBytes(bool v);

// ---- output buffers: size query and CKR_BUFFER_TOO_SMALL implemented once ----
// Returns CKR_OK and sets *len when out is null (a size query), CKR_BUFFER_TOO_SMALL when *len is
// less than needed, or nullopt when the caller may produce the output.
std::optional<CK_RV> checkOutput(CK_BYTE_PTR out, CK_ULONG_PTR len, std::size_t needed);
void writeOutput(CK_BYTE_PTR out, CK_ULONG_PTR len, ByteView data);

// ---- mechanisms.cpp ----
struct MechDef {
  CK_MECHANISM_TYPE type;
  CK_FLAGS flags;
  CK_ULONG minBits, maxBits;
  const char* digest;  // EVP digest name, null for CKM_RSA_PKCS
};
std::span<const MechDef> mechanismTable();
const MechDef* findMechanism(CK_MECHANISM_TYPE type);
// The checks every C_*Init shares: mechanism pointer, no active operation, a mechanism that can
// do `need` (CKF_SIGN, CKF_VERIFY, CKF_DIGEST) and takes no parameter. On failure returns
// nullptr and sets *rv.
const MechDef* checkInit(const Session& s, const CK_MECHANISM* mech, CK_FLAGS need, CK_RV* rv);

}  // namespace jpki::module
