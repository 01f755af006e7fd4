// SPDX-License-Identifier: MIT
// Where the module gets its readers from. The shipped library links pcsc_factory.cpp (PC/SC);
// the CMocka test build of the module links a factory that returns the in-process virtual card.
// There is no run-time switch between the two.
#pragma once

#include <memory>

#include "jpki/transport.h"

namespace jpki::module {
std::unique_ptr<ReaderSystem> makeReaderSystem();
}  // namespace jpki::module
