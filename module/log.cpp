// SPDX-License-Identifier: MIT
// The module log: one line per message, "jpki-pkcs11[pid] LEVEL: text", to the configured file or
// standard error. Callers never pass PINs; the APDU trace masks VERIFY data itself.
#include "log.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "jpki/apdu.h"

namespace jpki::module::log {
namespace {

// Leaf lock: taken after State::lock, never while taking another. std::mutex has no destructor to
// run, so calls from exit handlers (library.cpp) can still log.
std::mutex g_mutex;
FILE* g_file = nullptr;
std::atomic<int> g_level{static_cast<int>(config::LogLevel::Warning)};

const char* levelName(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::Error:
      return "ERROR";
    case config::LogLevel::Warning:
      return "WARNING";
    case config::LogLevel::Info:
      return "INFO";
    case config::LogLevel::Debug:
      return "DEBUG";
    case config::LogLevel::Off:
      break;
  }
  return "";
}

}  // namespace

void configure(const config::Config& config) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_file != nullptr) {
      std::fclose(g_file);
    }
    g_file = nullptr;
    if (!config.logFile.empty()) {
      g_file = std::fopen(config.logFile.c_str(), "ae");
    }
    g_level = static_cast<int>(config.logLevel);
  }
  if (!config.apduTraceFile.empty()) {
    apdu::setTraceSink(apdu::traceFile(config.apduTraceFile));
  } else if (config.apduTrace) {
    apdu::setTraceSink([](const std::string& line) { JPKI_LOG_DEBUG("apdu %s", line.c_str()); });
  } else {
    apdu::setTraceSink(nullptr);
  }
}

void shutdown() noexcept {
  try {
    apdu::setTraceSink(nullptr);
  } catch (...) {
    // ignored: shutting down goes on; the file below is closed whatever happened.
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file != nullptr) {
    std::fclose(g_file);
  }
  g_file = nullptr;
}

bool enabled(config::LogLevel level) noexcept {
  return level != config::LogLevel::Off && static_cast<int>(level) <= g_level.load();
}

void write(config::LogLevel level, const char* format, ...) noexcept {
  if (!enabled(level)) {
    return;
  }
  char text[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  std::lock_guard<std::mutex> lock(g_mutex);
  FILE* out = g_file != nullptr ? g_file : stderr;
  std::fprintf(out, "jpki-pkcs11[%ld] %s: %s\n", static_cast<long>(getpid()), levelName(level),
               text);
  std::fflush(out);
}

}  // namespace jpki::module::log
