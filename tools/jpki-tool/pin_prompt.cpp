// SPDX-License-Identifier: MIT
#include "pin_prompt.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "exit_codes.h"

namespace jpki::tool {

const char* pinName(KeyRole role) {
  return role == KeyRole::Auth ? "user authentication PIN" : "signature password";
}

namespace {

// Restores the terminal's echo on every exit path.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
      quiet.c_lflag |= ICANON;
      active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~EchoOff() {
    if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

void writeAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

bool ttyAvailable() {
  const Fd tty(open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  return tty.get() >= 0;
}

SecretBytes promptHidden(const std::string& prompt) {
  Fd tty(open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (tty.get() < 0) {
    throw ToolError(Exit::Usage,
                    "no terminal to ask for the PIN on (for scripts: --pin-env VARIABLE)");
  }
  SecretBytes pin;
  {
    EchoOff quiet(tty.get());
    writeAll(tty.get(), prompt);
    char c = 0;
    while (true) {
      const ssize_t n = read(tty.get(), &c, 1);
      if (n <= 0 || c == '\n' || c == '\r') break;
      pin.push_back(static_cast<std::uint8_t>(c));
      if (pin.size() > 64) break;  // far beyond any JPKI PIN; normalisePin refuses it
    }
    secureWipe(&c, sizeof c);
  }
  writeAll(tty.get(), "\n");
  return pin;
}

std::string pinDescription(KeyRole role) {
  return role == KeyRole::Auth ? "user authentication PIN (4 digits)"
                               : "signature password (6-16 letters and digits)";
}

SecretBytes pinFromEnvironment(const std::string& option, const std::string& var) {
  char* value = std::getenv(var.c_str());
  if (value == nullptr) {
    throw ToolError(Exit::Usage, option + " " + var + ": the variable is not set");
  }
  SecretBytes pin;
  for (const char* p = value; *p != '\0'; ++p) pin.push_back(static_cast<std::uint8_t>(*p));
  secureWipe(value, std::strlen(value));  // the environment block is writable
  unsetenv(var.c_str());
  return pin;
}

SecretBytes obtainPin(const Context& ctx, KeyRole role) {
  if (!ctx.pinEnv.empty()) {
    return pinFromEnvironment("--pin-env", ctx.pinEnv);
  }
  std::string prompt = pinDescription(role) + ": ";
  prompt[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(prompt[0])));
  return promptHidden(prompt);
}

}  // namespace jpki::tool
