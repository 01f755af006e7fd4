// SPDX-License-Identifier: MIT
// C_GetAttributeValue's five cases implemented once (v2.40 §5.7 C_GetAttributeValue), template
// matching for C_FindObjects, the output-buffer helper, and C_GetObjectSize.
#include <cstring>

#include "ops.h"

namespace jpki::module {

Bytes ulongBytes(CK_ULONG v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
  return Bytes(p, p + sizeof v);
}

Bytes boolBytes(bool v) { return Bytes{static_cast<std::uint8_t>(v ? CK_TRUE : CK_FALSE)}; }

std::optional<CK_RV> checkOutput(CK_BYTE_PTR out, CK_ULONG_PTR len, std::size_t needed) {
  if (out == nullptr) {
    *len = needed;
    return CKR_OK;  // size query: the operation stays active
  }
  if (*len < needed) {
    *len = needed;
    return CKR_BUFFER_TOO_SMALL;  // the operation stays active
  }
  return std::nullopt;
}

void writeOutput(CK_BYTE_PTR out, CK_ULONG_PTR len, ByteView data) {
  if (!data.empty()) {
    std::memcpy(out, data.data(), data.size());
  }
  *len = data.size();
}

// For each attribute: (1) sensitive → CKR_ATTRIBUTE_SENSITIVE, (2) unknown for this object →
// CKR_ATTRIBUTE_TYPE_INVALID, both with ulValueLen = CK_UNAVAILABLE_INFORMATION; (3) pValue NULL
// → the length; (4) buffer large enough → the value; (5) too small → CKR_BUFFER_TOO_SMALL with
// CK_UNAVAILABLE_INFORMATION. Processing continues over the whole template; an error is returned.
CK_RV fillTemplate(const AttrMap& attrs, const ObjectEntry& obj, CK_ATTRIBUTE_PTR tmpl,
                   CK_ULONG count) {
  CK_RV rv = CKR_OK;
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_ATTRIBUTE& a = tmpl[i];
    if (isSensitive(obj, a.type)) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_ATTRIBUTE_SENSITIVE;
      continue;
    }
    auto it = attrs.find(a.type);
    if (it == attrs.end()) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_ATTRIBUTE_TYPE_INVALID;
      continue;
    }
    const Bytes& value = it->second;
    if (a.pValue == nullptr) {
      a.ulValueLen = value.size();
    } else if (a.ulValueLen < value.size()) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_BUFFER_TOO_SMALL;
    } else {
      if (!value.empty()) {
        std::memcpy(a.pValue, value.data(), value.size());
      }
      a.ulValueLen = value.size();
    }
  }
  return rv;
}

bool matches(const AttrMap& attrs, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count) {
  for (CK_ULONG i = 0; i < count; ++i) {
    const CK_ATTRIBUTE& a = tmpl[i];
    auto it = attrs.find(a.type);
    if (it == attrs.end() || it->second.size() != a.ulValueLen) {
      return false;
    }
    if (a.ulValueLen != 0 &&
        (a.pValue == nullptr || std::memcmp(a.pValue, it->second.data(), a.ulValueLen) != 0)) {
      return false;
    }
  }
  return true;
}

CK_RV getAttributeValue(Call& c, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count) {
  if (tmpl == nullptr && count != 0) {
    return CKR_ARGUMENTS_BAD;
  }
  Token& token = *c.session->token;
  JpkiCard::Batch batch(*token.card->jpki);
  const ObjectEntry& obj = visibleObject(token, object, CKR_OBJECT_HANDLE_INVALID);
  const AttrMap* attrs = attributes(token, obj, needsCertificate(obj, tmpl, count));
  if (attrs == nullptr) {
    return CKR_OBJECT_HANDLE_INVALID;
  }
  return fillTemplate(*attrs, obj, tmpl, count);
}

// An estimate (v2.40 permits it): the bytes of all attribute values.
CK_RV getObjectSize(Call& c, CK_OBJECT_HANDLE object, CK_ULONG_PTR size) {
  if (size == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  Token& token = *c.session->token;
  JpkiCard::Batch batch(*token.card->jpki);
  const ObjectEntry& obj = visibleObject(token, object, CKR_OBJECT_HANDLE_INVALID);
  const AttrMap* attrs = attributes(token, obj);
  if (attrs == nullptr) {  // the object's certificate is gone or unreadable (e.g. a bad card)
    return CKR_OBJECT_HANDLE_INVALID;
  }
  CK_ULONG total = 0;
  for (const auto& [type, value] : *attrs) {
    total += value.size();
  }
  *size = total;
  return CKR_OK;
}

}  // namespace jpki::module
