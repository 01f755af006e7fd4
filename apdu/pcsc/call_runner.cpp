// SPDX-License-Identifier: MIT
// See call_runner.h.
#include "call_runner.h"

#include <dlfcn.h>

#include <cstdio>
#include <system_error>

namespace jpki::pcsc {
namespace {

// An abandoned helper thread runs this library's code again when its call finally returns. If the
// application unloaded the module meanwhile (C_Finalize + dlclose), that code would be gone: keep
// the library mapped until the process ends. Harmless when it is the main program.
void keepLoaded() noexcept {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&keepLoaded), &info) != 0 && info.dli_fname != nullptr) {
    // The handle is deliberately never closed.
    (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

}  // namespace

void StuckReaders::finished(Mark& mark, const std::string& reader) {
  std::lock_guard lock(mutex_);
  mark.finished = true;
  if (mark.abandoned) {
    auto it = blocked_.find(reader);
    if (it != blocked_.end() && --it->second <= 0) {
      blocked_.erase(it);
    }
  }
}

bool StuckReaders::abandon(Mark& mark, const std::string& reader) {
  std::lock_guard lock(mutex_);
  if (mark.finished) {
    return false;
  }
  mark.abandoned = true;
  ++blocked_[reader];
  return true;
}

bool StuckReaders::stuck(const std::string& reader) const {
  std::lock_guard lock(mutex_);
  return blocked_.count(reader) != 0;
}

CallRunner::CallRunner(std::string reader, std::chrono::milliseconds limit,
                       std::shared_ptr<StuckReaders> stuck)
    : reader_(std::move(reader)), limit_(limit), stuck_(std::move(stuck)) {}

CallRunner::~CallRunner() {
  if (!thread_.joinable()) {
    return;
  }
  if (!abandoned_) {
    // A call queued by runLater() may still be running: wait for it within the limit, so that a
    // hung one abandons the thread instead of blocking the join below forever.
    try {
      run([] { return 0; });
    } catch (...) {  // NOLINT(bugprone-empty-catch): a timeout leaves the runner abandoned
    }
  }
  {
    std::lock_guard lock(box_->mutex);
    box_->quit = true;
  }
  box_->wake.notify_one();
  if (abandoned_) {
    thread_.detach();  // ends by itself once its call returns
  } else {
    thread_.join();  // idle: returns at once
  }
}

void CallRunner::serve(const std::shared_ptr<Mailbox>& box) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(box->mutex);
      const auto ready = [&] { return !box->jobs.empty() || box->quit; };
      while (!job) {
        if (!box->jobs.empty()) {
          job = std::move(box->jobs.front());
          box->jobs.pop_front();
        } else if (box->quit) {
          return;
        } else if (box->idle) {
          if (!box->wake.wait_for(lock, box->idleAfter, ready)) {
            job = std::move(box->idle);  // nothing posted for idleAfter
            box->idle = nullptr;
          }
        } else {
          box->wake.wait(lock, [&] { return ready() || box->idle; });
        }
      }
    }
    job();  // a packaged_task or the wrappers of runLater()/runWhenIdle(): never throw
  }
}

void CallRunner::post(std::function<void()> job) {
  if (!thread_.joinable()) {
    // The thread holds its own reference to the mailbox: it may outlive this runner.
    try {
      thread_ = std::thread([box = box_] { serve(box); });
    } catch (const std::system_error& e) {
      throw Error(Errc::Transport, std::string("cannot start the card I/O thread: ") + e.what());
    }
  }
  {
    std::lock_guard lock(box_->mutex);
    box_->jobs.push_back(std::move(job));
  }
  box_->wake.notify_one();
}

void CallRunner::runWhenIdle(std::function<void()> job, std::chrono::milliseconds after) noexcept {
  if (abandoned_) {
    return;  // the blocked call's thread still owns the connection; the Link's end releases it
  }
  auto quiet = quietly(std::move(job));
  if (limit_.count() <= 0 || !thread_.joinable()) {
    quiet();
    return;
  }
  try {
    std::lock_guard lock(box_->mutex);
    box_->idle = std::move(quiet);
    box_->idleAfter = after;
  } catch (...) {  // no memory for the wrapper: run it now
    quiet();
    return;
  }
  box_->wake.notify_one();  // the thread may be in an unbounded wait: start the idle clock
}

void CallRunner::abandon() {
  abandoned_ = true;
  keepLoaded();
}

Error CallRunner::timeoutError(bool now) const {
  if (!now) {
    return {Errc::Timeout, "the card in reader \"" + reader_ +
                               "\" stopped answering earlier; remove it and insert it again"};
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(limit_.count()) / 1000.0);
  return {Errc::Timeout, "the card in reader \"" + reader_ + "\" did not answer within " + seconds +
                             " s; remove it and insert it again"};
}

}  // namespace jpki::pcsc
