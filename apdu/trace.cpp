// The APDU trace: off by default; JPKI_APDU_TRACE=<file path>|stderr installs a default sink on
// first use, setTraceSink() replaces it (an empty function turns tracing off). Lines never
// contain VERIFY data: Command::traceText() masks sensitive commands.
#include <cstdio>
#include <cstdlib>
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
  bool initialised = false;  // env checked or setTraceSink called
  std::shared_ptr<TraceSink> sink;
};

// Never destroyed: a PKCS#11 call from an exit handler (pdfsig's NSS_Shutdown runs after our
// static destructors) may still send an APDU and reach the trace.
TraceState& state() {
  static NeverDestroyed<TraceState> s;
  return s.get();
}

std::shared_ptr<TraceSink> sinkFromEnvironment() {
  const char* target = std::getenv("JPKI_APDU_TRACE");
  if (target == nullptr || *target == '\0') {
    return nullptr;
  }
  std::FILE* file = nullptr;
  bool owned = false;
  if (std::string(target) == "stderr") {
    file = stderr;
  } else {
    file = std::fopen(target, "a");
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
  return std::make_shared<TraceSink>([handle](const std::string& line) {
    std::fputs("jpki-apdu: ", handle.get());
    std::fputs(line.c_str(), handle.get());
    std::fputc('\n', handle.get());
    std::fflush(handle.get());
  });
}

std::shared_ptr<TraceSink> currentSink() {
  TraceState& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.initialised) {
    s.initialised = true;
    s.sink = sinkFromEnvironment();
  }
  return s.sink;
}

}  // namespace

void setTraceSink(TraceSink sink) {
  TraceState& s = state();
  std::lock_guard lock(s.mutex);
  s.initialised = true;
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
    // A failing observer must never break card I/O.
  }
}

}  // namespace detail
}  // namespace jpki::apdu
