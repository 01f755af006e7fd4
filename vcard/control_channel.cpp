// SPDX-License-Identifier: MIT
#include "control_channel.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace jpki::vcard {

ControlChannel::ControlChannel(std::string path) : path_(std::move(path)) {
  struct stat st = {};
  if (stat(path_.c_str(), &st) != 0) {
    if (mkfifo(path_.c_str(), 0600) != 0) {
      throw std::runtime_error("cannot create control FIFO " + path_ + ": " + std::strerror(errno));
    }
    created_ = true;
  } else if (!S_ISFIFO(st.st_mode)) {
    throw std::runtime_error("control path " + path_ + " exists and is not a FIFO");
  }
  // Opened read-write so that the FIFO never reports end-of-file when a writer closes it.
  fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open control FIFO " + path_ + ": " + std::strerror(errno));
  }
}

ControlChannel::~ControlChannel() {
  if (fd_ >= 0) close(fd_);
  if (created_) unlink(path_.c_str());
}

std::vector<std::string> ControlChannel::readLines() {
  char buf[256];
  for (;;) {
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n > 0) {
      pending_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN: drained
  }
  std::vector<std::string> lines;
  std::size_t nl;
  while ((nl = pending_.find('\n')) != std::string::npos) {
    std::string line = pending_.substr(0, nl);
    pending_.erase(0, nl + 1);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    lines.push_back(line.substr(first, last - first + 1));
  }
  if (pending_.size() > 4096) pending_.clear();  // no newline in sight: garbage
  return lines;
}

}  // namespace jpki::vcard
