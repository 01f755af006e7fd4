// SPDX-License-Identifier: MIT
#include "vpcd_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace jpki::vcard {

namespace {

// Latency matters more than throughput: every APDU is one small frame each way, so Nagle and
// delayed ACKs are turned off (QUICKACK is not sticky on Linux and is re-armed after each recv).
void setLowLatency(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

}  // namespace

std::optional<VpcdConnection> VpcdConnection::tryConnect(const std::string& host,
                                                         std::uint16_t port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return std::nullopt;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(list, freeaddrinfo);
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      setLowLatency(fd);
      return VpcdConnection(fd);
    }
    error = "cannot connect to ";
    error.append(host).append(":").append(service).append(": ").append(std::strerror(errno));
    close(fd);
  }
  return std::nullopt;
}

VpcdConnection& VpcdConnection::operator=(VpcdConnection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

VpcdConnection::~VpcdConnection() {
  if (fd_ >= 0) close(fd_);
}

bool VpcdConnection::readExact(std::uint8_t* out, std::size_t size) {
  while (size > 0) {
    const ssize_t n = recv(fd_, out, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    out += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<Bytes> VpcdConnection::readFrame() {
  std::uint8_t header[2];
  if (!readExact(header, 2)) return std::nullopt;
  Bytes payload(static_cast<std::size_t>(header[0] << 8 | header[1]));
  if (!readExact(payload.data(), payload.size())) return std::nullopt;
  return payload;
}

bool VpcdConnection::writeFrame(ByteView payload) {
  if (payload.size() > 0xFFFF) return false;
  Bytes frame;
  frame.reserve(payload.size() + 2);
  frame.push_back(static_cast<std::uint8_t>(payload.size() >> 8));
  frame.push_back(static_cast<std::uint8_t>(payload.size() & 0xFF));
  frame.insert(frame.end(), payload.begin(), payload.end());
  std::size_t sent = 0;
  while (sent < frame.size()) {
    const ssize_t n = send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace jpki::vcard
