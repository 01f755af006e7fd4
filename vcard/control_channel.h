// SPDX-License-Identifier: MIT
// The --control FIFO: test scripts write lines ("remove", "insert", "reset", "quit") to it.
#pragma once

#include <string>
#include <vector>

namespace jpki::vcard {

class ControlChannel {
 public:
  // Creates the FIFO when `path` does not exist yet (and removes it again at destruction).
  // Throws std::runtime_error when the path cannot be used.
  explicit ControlChannel(std::string path);
  ~ControlChannel();
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  [[nodiscard]] int fd() const { return fd_; }
  // Reads what is available and returns the complete lines (trimmed, empty ones dropped).
  std::vector<std::string> readLines();

 private:
  std::string path_;
  int fd_ = -1;
  bool created_ = false;
  std::string pending_;
};

}  // namespace jpki::vcard
