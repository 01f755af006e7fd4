// SPDX-License-Identifier: MIT
// Target (iv): the whole stack (PKCS#11 ABI → module → JPKI client → transport) with every APDU
// answer chosen by the fuzzer (fuzz_card_io.h), including resets and transport errors.
#include "fuzz_card_io.h"
#include "fuzz_drivers.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  jpki::fuzz::quietModuleEnvironment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jpki::fuzz;
  auto in = std::make_shared<Input>(data, size);
  withModule(std::make_shared<FuzzReaderSystem>(in), driveModule);
  return 0;
}
