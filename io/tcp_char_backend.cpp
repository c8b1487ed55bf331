#include "io/tcp_char_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "mem/log.h"

namespace pc64 {

TcpCharBackend::TcpCharBackend(uint16_t port, bool wait) {
  auto fail = [&](const char* what) {
    std::string msg = std::string("serial tcp:") + std::to_string(port) + ": " + what + ": " + std::strerror(errno);
    if (listen_ >= 0) ::close(listen_);
    throw std::runtime_error(msg);
  };
  listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_ < 0) fail("socket");
  int one = 1;
  ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never exposed beyond this host
  if (::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail("cannot listen on 127.0.0.1");
  if (::listen(listen_, 1) < 0) fail("listen");
  socklen_t len = sizeof a;
  ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (wait) {
    std::fprintf(stderr, "pc64: serial: waiting for a client on 127.0.0.1:%u\n", port_);
    accept_client(true);
  }
}

TcpCharBackend::~TcpCharBackend() {
  drop_client();
  if (listen_ >= 0) ::close(listen_);
}

void TcpCharBackend::accept_client(bool block) {
  int fd;
  do {
    fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC | (block ? 0 : SOCK_NONBLOCK));
  } while (fd < 0 && errno == EINTR && block);
  if (fd < 0) return;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // echo of typed keys without delay
  // Writes block (the guest's output is never lost while a client listens);
  // reads use MSG_DONTWAIT.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  client_ = fd;
}

void TcpCharBackend::drop_client() {
  if (client_ >= 0) ::close(client_);
  client_ = -1;
}

void TcpCharBackend::write(const uint8_t* data, size_t n) {
  while (n > 0 && client_ >= 0) {
    ssize_t k = ::send(client_, data, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      drop_client();  // the client went away: later output is dropped until another connects
      return;
    }
    data += k;
    n -= static_cast<size_t>(k);
  }
}

size_t TcpCharBackend::read(uint8_t* buf, size_t max) {
  if (client_ < 0) {
    // Non-blocking accept of a (new) client.
    int fl = ::fcntl(listen_, F_GETFL);
    ::fcntl(listen_, F_SETFL, fl | O_NONBLOCK);
    accept_client(false);
    ::fcntl(listen_, F_SETFL, fl);
    if (client_ < 0) return 0;
  }
  if (max == 0) return 0;
  ssize_t k = ::recv(client_, buf, max, MSG_DONTWAIT);
  if (k > 0) return static_cast<size_t>(k);
  if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) drop_client();
  return 0;
}

}  // namespace pc64
