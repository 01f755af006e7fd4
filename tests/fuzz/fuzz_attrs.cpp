// SPDX-License-Identifier: MIT
// Target (iii): C_GetAttributeValue and C_FindObjectsInit with fuzzed templates, through the
// module's function list, on the in-process virtual card. Output buffers are allocated with
// exactly the length the template announces, so any write past it is caught by ASan.
//
// Input: byte 0 flags (bit 0 signature token, bit 1 log in), byte 1 object index, then for each
// of up to 16 attributes: a type selector, a mode (0 NULL pValue, 1 buffer), a length, and for
// C_FindObjectsInit the value bytes.
#include <cstring>
#include <vector>

#include "core/virtual_card.h"
#include "fuzz_card_io.h"
#include "fuzz_drivers.h"

namespace {

using jpki::fuzz::Input;

const jpki::vcard::CardPki& basePki() {
  static const jpki::vcard::CardPki pki =
      jpki::vcard::generatePki(jpki::vcard::Profile::Normal, "JPKI FUZZ");
  return pki;
}

constexpr CK_ATTRIBUTE_TYPE kTypes[] = {CKA_CLASS,
                                        CKA_TOKEN,
                                        CKA_PRIVATE,
                                        CKA_LABEL,
                                        CKA_VALUE,
                                        CKA_CERTIFICATE_TYPE,
                                        CKA_ISSUER,
                                        CKA_SERIAL_NUMBER,
                                        CKA_KEY_TYPE,
                                        CKA_SUBJECT,
                                        CKA_ID,
                                        CKA_SENSITIVE,
                                        CKA_DECRYPT,
                                        CKA_SIGN,
                                        CKA_VERIFY,
                                        CKA_MODULUS,
                                        CKA_MODULUS_BITS,
                                        CKA_PUBLIC_EXPONENT,
                                        CKA_PRIVATE_EXPONENT,
                                        CKA_PRIME_1,
                                        CKA_EXTRACTABLE,
                                        CKA_ALWAYS_AUTHENTICATE,
                                        CKA_PUBLIC_KEY_INFO,
                                        CKA_ALLOWED_MECHANISMS,
                                        CKA_PROFILE_ID,
                                        CKA_START_DATE,
                                        CKA_END_DATE,
                                        CKA_CERTIFICATE_CATEGORY,
                                        CKA_MODIFIABLE,
                                        CKA_TRUSTED,
                                        CKA_WRAP_TEMPLATE,
                                        CKA_VENDOR_DEFINED};

CK_ATTRIBUTE_TYPE typeFrom(Input& in) {
  const std::uint8_t sel = in.byte();
  if ((sel & 0x80) == 0) {
    return kTypes[sel % std::size(kTypes)];
  }
  CK_ATTRIBUTE_TYPE t = 0;
  for (int i = 0; i < 4; ++i) {
    t = (t << 8) | in.byte();
  }
  return t;
}

struct Template {
  std::vector<CK_ATTRIBUTE> attrs;
  std::vector<std::vector<CK_BYTE>> buffers;
};

// withValues: C_FindObjectsInit (values from the input); else C_GetAttributeValue (empty buffers).
Template makeTemplate(Input& in, bool withValues) {
  Template t;
  const std::size_t n = in.byte() % 17;
  t.buffers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const CK_ATTRIBUTE_TYPE type = typeFrom(in);
    const std::uint8_t mode = in.byte();
    std::size_t len = in.byte();
    if ((mode & 0x02) != 0) {
      len = len * 16;  // room for CKA_VALUE
    }
    if ((mode & 0x01) == 0) {
      // NULL pValue: a length query (C_GetAttributeValue), or CKR_ARGUMENTS_BAD/ATTRIBUTE_VALUE
      // for a non-zero length in C_FindObjectsInit.
      t.attrs.push_back({type, nullptr, (mode & 0x04) != 0 ? CK_UNAVAILABLE_INFORMATION : len});
      continue;
    }
    t.buffers.emplace_back(withValues ? in.take(len) : jpki::Bytes(len));
    t.attrs.push_back({type, t.buffers.back().data(), t.buffers.back().size()});
  }
  return t;
}

void run(CK_FUNCTION_LIST_PTR f, Input& in) {
  const std::uint8_t flags = in.byte();
  const CK_SLOT_ID slot = flags & 1;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) {
    __builtin_trap();  // the card is present and good
  }
  const bool login = (flags & 2) != 0;
  if (login) {
    CK_UTF8CHAR pin[6];
    std::memcpy(pin, slot == 0 ? "1234" : "ABC123", slot == 0 ? 4 : 6);
    if (f->C_Login(s, CKU_USER, pin, slot == 0 ? 4 : 6) != CKR_OK) {
      __builtin_trap();
    }
  }
  // Objects, checking that private ones stay invisible before login.
  std::vector<CK_OBJECT_HANDLE> objects;
  if (f->C_FindObjectsInit(s, nullptr, 0) == CKR_OK) {
    CK_OBJECT_HANDLE h[16];
    CK_ULONG n = 0;
    if (f->C_FindObjects(s, h, 16, &n) == CKR_OK) {
      objects.assign(h, h + n);
    }
    f->C_FindObjectsFinal(s);
  }
  for (CK_OBJECT_HANDLE o : objects) {
    CK_BBOOL priv = CK_FALSE;
    CK_ATTRIBUTE a{CKA_PRIVATE, &priv, sizeof priv};
    if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK || (priv == CK_TRUE && !login)) {
      __builtin_trap();
    }
  }
  // C_GetAttributeValue with a fuzzed template on a chosen object (or a bogus handle).
  const std::uint8_t pick = in.byte();
  const CK_OBJECT_HANDLE obj =
      objects.empty() || pick == 0xFF ? CK_OBJECT_HANDLE{pick} : objects[pick % objects.size()];
  Template get = makeTemplate(in, false);
  const CK_RV rv = f->C_GetAttributeValue(s, obj, get.attrs.empty() ? nullptr : get.attrs.data(),
                                          get.attrs.size());
  if (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
      rv == CKR_BUFFER_TOO_SMALL) {
    for (const CK_ATTRIBUTE& a : get.attrs) {
      if (a.type == CKA_PRIVATE_EXPONENT && a.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
        __builtin_trap();  // a private key's secret never leaves
      }
    }
  }
  // C_FindObjectsInit with a fuzzed template.
  Template find = makeTemplate(in, true);
  if (f->C_FindObjectsInit(s, find.attrs.empty() ? nullptr : find.attrs.data(),
                           find.attrs.size()) == CKR_OK) {
    CK_OBJECT_HANDLE h[4];
    CK_ULONG n = 0;
    const CK_ULONG max = 1 + in.byte() % 4;
    while (f->C_FindObjects(s, h, max, &n) == CKR_OK && n > 0) {
      if (n > max) {
        __builtin_trap();
      }
    }
    f->C_FindObjectsFinal(s);
  }
  f->C_CloseSession(s);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  jpki::fuzz::quietModuleEnvironment();
  basePki();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jpki;
  Input in(data, size);
  auto readers = std::make_shared<vcard::InProcessReaderSystem>(1);
  readers->insert(0, std::make_shared<vcard::VirtualCard>(basePki(), vcard::CardOptions{}));
  fuzz::withModule(readers, [&](CK_FUNCTION_LIST_PTR f) { run(f, in); });
  return 0;
}
