// SPDX-License-Identifier: MIT
#include "core/ossl.h"

#include <openssl/err.h>

#include <stdexcept>

namespace jpki::vcard::ossl {

void fail(const std::string& what) {
  std::string message = what;
  if (const unsigned long code = ERR_get_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  throw std::runtime_error(message);
}

}  // namespace jpki::vcard::ossl
