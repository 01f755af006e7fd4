// SPDX-License-Identifier: MIT
// The APDU trace: off until setTraceSink() installs a sink (an empty function turns it off again);
// traceFile() is the sink for a file or standard error (the configuration's JPKI_APDU_TRACE).
// Lines never contain VERIFY data: Command::traceText() masks sensitive commands.
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "jpki/apdu.h"
#include "jpki/never_destroyed.h"
#include "trace_internal.h"

namespace jpki::apdu {

namespace {

struct TraceState {
  std::mutex mutex;
  std::shared_ptr<TraceSink> sink;
};

// Never destroyed: a PKCS#11 call from an exit handler (pdfsig's NSS_Shutdown runs after our
// static destructors) may still send an APDU and reach the trace.
TraceState& state() {
  static NeverDestroyed<TraceState> s;
  return s.get();
}

std::shared_ptr<TraceSink> currentSink() {
  TraceState& s = state();
  std::lock_guard lock(s.mutex);
  return s.sink;
}

}  // namespace

TraceSink traceFile(const std::string& target) {
  std::FILE* file = nullptr;
  bool owned = false;
  if (target == "stderr") {
    file = stderr;
  } else {
    file = std::fopen(target.c_str(), "a");
    owned = true;
  }
  if (file == nullptr) {
    return nullptr;
  }
  std::shared_ptr<std::FILE> handle(file, [owned](std::FILE* f) {
    if (owned) {
      std::fclose(f);
    }
  });
  return [handle](const std::string& line) {
    std::fputs("jpki-apdu: ", handle.get());
    std::fputs(line.c_str(), handle.get());
    std::fputc('\n', handle.get());
    std::fflush(handle.get());
  };
}

void setTraceSink(TraceSink sink) {
  TraceState& s = state();
  std::lock_guard lock(s.mutex);
  s.sink = sink ? std::make_shared<TraceSink>(std::move(sink)) : nullptr;
}

namespace detail {

bool traceEnabled() { return currentSink() != nullptr; }

void traceLine(const std::string& line) noexcept {
  try {
    if (auto sink = currentSink()) {
      (*sink)(line);
    }
  } catch (...) {
    // ignored: a failing observer must never break card I/O.
  }
}

}  // namespace detail
}  // namespace jpki::apdu
