// SPDX-License-Identifier: MIT
// Names of the CKR_/CKA_/CKO_ constants for debug logs.
#pragma once

#include "jpki/pkcs11_ext.h"

namespace jpki::module::names {
const char* rv(CK_RV value) noexcept;  // "CKR_OK", or "CKR_0x..." for unknown values
const char* attribute(CK_ATTRIBUTE_TYPE value) noexcept;
const char* objectClass(CK_OBJECT_CLASS value) noexcept;
}  // namespace jpki::module::names
