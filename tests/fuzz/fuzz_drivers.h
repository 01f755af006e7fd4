// SPDX-License-Identifier: MIT
// What the fuzz targets (and the seed generator) do with a card or with the module.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "jpki/jpki_card.h"
#include "jpki/pkcs11_ext.h"
#include "jpki/transport.h"

namespace jpki::fuzz {

// Every JpkiCard operation in the order a client uses them; jpki::Error is expected and ignored.
void driveCard(JpkiCard& card);

// Sets the environment once (no configuration file, no log) for module targets.
void quietModuleEnvironment();

// Runs body between C_Initialize and C_Finalize with the module reading its readers from
// `readers` (the module's makeReaderSystem() hands them out, see fuzz_module_factory.cpp).
void withModule(std::shared_ptr<ReaderSystem> readers,
                const std::function<void(CK_FUNCTION_LIST_PTR)>& body);

// The whole client flow through the PKCS#11 ABI: slots, token info, objects and all their
// attributes, login and signing with both keys, software verification, logout.
void driveModule(CK_FUNCTION_LIST_PTR f);

}  // namespace jpki::fuzz
