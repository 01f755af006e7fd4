// SPDX-License-Identifier: MIT
// The module's log (level and file from the configuration, read at C_Initialize). Never pass a PIN.
#pragma once

#include "jpki/config.h"

namespace jpki::module::log {

void configure(const config::Config& config);  // opens the file, installs the APDU trace sink
void shutdown() noexcept;
[[nodiscard]] bool enabled(config::LogLevel level) noexcept;
void write(config::LogLevel level, const char* format, ...) noexcept
    __attribute__((format(printf, 2, 3)));

#define JPKI_LOG_DEBUG(...) ::jpki::module::log::write(::jpki::config::LogLevel::Debug, __VA_ARGS__)
#define JPKI_LOG_INFO(...) ::jpki::module::log::write(::jpki::config::LogLevel::Info, __VA_ARGS__)
#define JPKI_LOG_WARN(...) \
  ::jpki::module::log::write(::jpki::config::LogLevel::Warning, __VA_ARGS__)
#define JPKI_LOG_ERROR(...) ::jpki::module::log::write(::jpki::config::LogLevel::Error, __VA_ARGS__)

}  // namespace jpki::module::log
