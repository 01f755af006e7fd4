// SPDX-License-Identifier: MIT
// The certificate store on disk (jpki/cert_cache.h). POSIX calls only, each checked; every failure
// is a miss or a skipped write, reported once through the log callback, never an exception.
#include "jpki/cert_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "cert_der.h"
#include "jpki/digest.h"

namespace jpki {
namespace {

// Part of every file name: a new format gets new names instead of misreading old files.
constexpr char kVersionTag[] = "jpki-pkcs11 cache v1";
constexpr std::size_t kMaxLabel = 32;  // CK_TOKEN_INFO.label

std::string errnoText() { return std::strerror(errno); }

bool printableLabel(std::string_view label) {
  return !label.empty() && label.size() <= kMaxLabel &&
         std::all_of(label.begin(), label.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

// Runs io(offset) (a read or write of the bytes from offset on) until n bytes are done or it fails;
// EINTR is retried. Returns the bytes done.
template <class Io>
std::size_t allOf(std::size_t n, Io io) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t k = io(done);
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k <= 0) {
      break;
    }
    done += static_cast<std::size_t>(k);
  }
  return done;
}

// Reads a whole regular file of this user, of at most maxSize bytes; nullopt on any problem. Never
// blocks on a FIFO or follows a link planted in the directory.
std::optional<Bytes> readSmallFile(const std::string& path, std::size_t maxSize) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    return std::nullopt;
  }
  std::optional<Bytes> result;
  struct stat st = {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() && st.st_size > 0 &&
      static_cast<std::size_t>(st.st_size) <= maxSize) {
    Bytes data(static_cast<std::size_t>(st.st_size) + 1);  // one more: notices a longer file
    const std::size_t got = allOf(data.size(), [&](std::size_t at) {
      return ::read(fd, data.data() + at, data.size() - at);
    });
    if (got == static_cast<std::size_t>(st.st_size)) {
      data.resize(got);
      result = std::move(data);
    }
  }
  ::close(fd);
  return result;
}

class DiskStore final : public CertificateStore {
 public:
  DiskStore(std::string directory, StoreLog log)
      : dir_(std::move(directory)), log_(std::move(log)) {}

  std::optional<Bytes> find(CertFile file, ByteView firstChunk) override {
    try {
      if (file == CertFile::Sign) {
        return std::nullopt;
      }
      const auto total = detail::certificateLength(firstChunk);
      if (!total || firstChunk.size() != std::min(detail::kCertChunk, *total)) {
        return std::nullopt;  // not what a card's first chunk of a certificate looks like
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (!directoryUsable(false)) {
        return std::nullopt;
      }
      std::optional<Bytes> der =
          readSmallFile(path(layout::certEf(file), firstChunk, ".der"), detail::kMaxCertSize);
      if (!der || detail::certificateLength(*der) != der->size() || der->size() != *total ||
          !std::equal(firstChunk.begin(), firstChunk.end(), der->begin())) {
        return std::nullopt;
      }
      return der;
    } catch (...) {
      return std::nullopt;
    }
  }

  void store(CertFile file, ByteView der) override {
    try {
      if (file == CertFile::Sign || detail::certificateLength(der) != der.size()) {
        return;  // the signature certificate never; nothing that would not be found again
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (directoryUsable(true)) {
        write(path(layout::certEf(file), firstChunkOf(der), ".der"), der);
      }
    } catch (...) {
      // ignored: the cache is an optimisation; the certificate is read from the card next time
    }
  }

  std::optional<std::string> findTokenLabel(ByteView authFirstChunk) override {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!directoryUsable(false)) {
        return std::nullopt;
      }
      const std::optional<Bytes> data =
          readSmallFile(path(layout::kEfTokenInfo, authFirstChunk, ".label"), kMaxLabel + 1);
      if (!data || data->back() != '\n') {
        return std::nullopt;  // a newline last: a file cut short is never taken for a label
      }
      std::string label(data->begin(), data->end() - 1);
      if (!printableLabel(label)) {
        return std::nullopt;
      }
      return label;
    } catch (...) {
      return std::nullopt;
    }
  }

  void storeTokenLabel(ByteView authFirstChunk, std::string_view label) override {
    try {
      if (!printableLabel(label)) {
        return;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (directoryUsable(true)) {
        Bytes data(label.begin(), label.end());
        data.push_back('\n');
        write(path(layout::kEfTokenInfo, authFirstChunk, ".label"), data);
      }
    } catch (...) {
      // ignored: the cache is an optimisation; the label is read from the card next time
    }
  }

 private:
  enum class Dir { Unknown, Usable, Refused };

  static ByteView firstChunkOf(ByteView der) {
    return der.first(std::min(detail::kCertChunk, der.size()));
  }

  std::string path(std::uint16_t ef, ByteView chunk, const char* suffix) const {
    Bytes key(kVersionTag, kVersionTag + sizeof kVersionTag);  // with its NUL: a separator
    key.push_back(static_cast<std::uint8_t>(ef >> 8));
    key.push_back(static_cast<std::uint8_t>(ef & 0xFF));
    key.insert(key.end(), chunk.begin(), chunk.end());
    std::string name = toHex(sha256(key), false);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c); });
    return dir_ + "/" + name + suffix;
  }

  void report(const std::string& what) {
    if (log_) {
      log_("certificate cache " + dir_ + ": " + what);
    }
  }

  // Whether the directory may be used; create: make it (and its parents, mode 0700) when missing.
  // The verdict is kept once the directory exists; a missing one is looked for again.
  bool directoryUsable(bool create) {
    if (state_ != Dir::Unknown) {
      return state_ == Dir::Usable;
    }
    if (dir_.empty() || dir_.front() != '/') {
      report("not an absolute path: not used");
      state_ = Dir::Refused;
      return false;
    }
    struct stat st = {};
    if (::stat(dir_.c_str(), &st) != 0) {
      if (errno != ENOENT || !create) {
        return false;
      }
      if (!makeDirectories()) {
        report("cannot be created (" + errnoText() + "): not used");
        state_ = Dir::Refused;
        return false;
      }
      if (::stat(dir_.c_str(), &st) != 0) {
        state_ = Dir::Refused;
        return false;
      }
    }
    std::string problem;
    if (!S_ISDIR(st.st_mode)) {
      problem = "not a directory";
    } else if (st.st_uid != ::geteuid()) {
      problem = "not owned by this user";
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      problem = "writable by group or others";
    }
    if (!problem.empty()) {
      report(problem + ": not used");
      state_ = Dir::Refused;
      return false;
    }
    state_ = Dir::Usable;
    return true;
  }

  bool makeDirectories() const {
    for (std::size_t slash = dir_.find('/', 1);; slash = dir_.find('/', slash + 1)) {
      const std::string part = dir_.substr(0, slash);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
        return false;
      }
      if (slash == std::string::npos) {
        return true;
      }
    }
  }

  // Temporary file in the same directory, then rename: a reader sees the old file or the new one.
  void write(const std::string& target, ByteView data) {
    std::string temp = dir_ + "/.tmp-XXXXXX";
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // mode 0600
    if (fd < 0) {
      report("cannot write (" + errnoText() + ")");
      return;
    }
    const std::size_t done = allOf(data.size(), [&](std::size_t at) {
      return ::write(fd, data.data() + at, data.size() - at);
    });
    const bool ok = done == data.size() && ::fchmod(fd, 0600) == 0;
    if (::close(fd) != 0 || !ok || ::rename(temp.c_str(), target.c_str()) != 0) {
      report("cannot write (" + errnoText() + ")");
      ::unlink(temp.c_str());
    }
  }

  const std::string dir_;
  const StoreLog log_;
  std::mutex mutex_;
  Dir state_ = Dir::Unknown;
};

}  // namespace

std::shared_ptr<CertificateStore> makeDiskCertificateStore(std::string directory, StoreLog log) {
  while (directory.size() > 1 && directory.back() == '/') {
    directory.pop_back();
  }
  return std::make_shared<DiskStore>(std::move(directory), std::move(log));
}

}  // namespace jpki
