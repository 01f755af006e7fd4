// SPDX-License-Identifier: MIT
// Target (i): the status-word/response parser and the JPKI application client against a card
// whose every answer comes from the fuzz input (fuzz_card_io.h).
#include "apdu_parse.h"
#include "fuzz_card_io.h"
#include "fuzz_drivers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace jpki;
  fuzz::parseResponse(data, size);
  auto in = std::make_shared<fuzz::Input>(data, size);
  JpkiCard card(std::make_unique<fuzz::FuzzConnection>(in));
  fuzz::driveCard(card);
  return 0;
}
