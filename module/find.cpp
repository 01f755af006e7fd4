// SPDX-License-Identifier: MIT
// C_FindObjects*: the result set is fixed at C_FindObjectsInit (v2.40 §5.7); any attribute of the
// object can be matched; private objects are only found while the token's user is logged in.
#include <algorithm>
#include <cstring>
#include <string>

#include "log.h"
#include "names.h"
#include "ops.h"

namespace jpki::module {
namespace {

// Debug log: what the application searches for ("C_FindObjectsInit: CKA_CLASS=CKO_PROFILE ...").
void logTemplate(const CK_ATTRIBUTE* tmpl, CK_ULONG count) {
  std::string text;
  for (CK_ULONG i = 0; i < count; ++i) {
    text += ' ';
    text += names::attribute(tmpl[i].type);
    CK_ULONG value = 0;
    if (tmpl[i].type == CKA_CLASS && tmpl[i].pValue != nullptr &&
        tmpl[i].ulValueLen == sizeof value) {
      std::memcpy(&value, tmpl[i].pValue, sizeof value);
      text += '=';
      text += names::objectClass(value);
    }
  }
  JPKI_LOG_DEBUG("C_FindObjectsInit:%s", text.empty() ? " (all objects)" : text.c_str());
}

}  // namespace

CK_RV findObjectsInit(Call& c, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count) {
  if (tmpl == nullptr && count != 0) {
    return CKR_ARGUMENTS_BAD;
  }
  Session& s = *c.session;
  if (!std::holds_alternative<std::monostate>(s.op)) {
    return CKR_OPERATION_ACTIVE;
  }
  if (log::enabled(config::LogLevel::Debug)) {
    logTemplate(tmpl, count);
  }
  Token& token = *s.token;
  FindOp op;
  JpkiCard::Batch batch(*token.card->jpki);  // any card access below: one transaction
  for (const ObjectEntry& obj : token.objects) {
    if (!visible(token, obj)) {
      continue;
    }
    // A template of table-fixed attributes (class, id, label) reads no certificate.
    const AttrMap* attrs = attributes(token, obj, needsCertificate(obj, tmpl, count));
    if (attrs != nullptr && matches(*attrs, tmpl, count)) {
      op.results.push_back(obj.handle);
    }
  }
  s.op = std::move(op);
  return CKR_OK;
}

CK_RV findObjects(Call& c, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count) {
  if (out == nullptr || count == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<FindOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  const std::size_t n = std::min<std::size_t>(max, op->results.size() - op->next);
  std::copy_n(op->results.begin() + static_cast<std::ptrdiff_t>(op->next), n, out);
  op->next += n;
  *count = n;
  return CKR_OK;
}

CK_RV findObjectsFinal(Call& c) {
  if (!std::holds_alternative<FindOp>(c.session->op)) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  c.session->op = std::monostate{};
  return CKR_OK;
}

}  // namespace jpki::module
