// SPDX-License-Identifier: MIT
// Links the PC/SC transport without talking to pcscd (only constructs the reader system, which
// establishes its context lazily).
#include "jpki/transport.h"

int main() {
  auto system = jpki::makePcscReaderSystem();
  return system ? 0 : 1;
}
