// SPDX-License-Identifier: MIT
// The shipped module's readers: PC/SC. The CMocka test build links a different factory.
#include "reader_factory.h"

namespace jpki::module {
std::unique_ptr<ReaderSystem> makeReaderSystem() { return makePcscReaderSystem(); }
}  // namespace jpki::module
