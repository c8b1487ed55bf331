// A serial line on a TCP socket ("--serial tcp:PORT"): pc64 listens on
// 127.0.0.1:PORT, and one client at a time is the other end of the line
// (raw bytes, no telnet negotiation: `nc 127.0.0.1 PORT` or `socat`).
// With `wait`, the constructor blocks until the first client connects, so it
// sees everything from the first byte. Output while no client is connected
// is dropped; a client that disconnects may be replaced by a new one
// (accepted when input is next polled).
#pragma once
#include <cstdint>
#include <string>

#include "io/char_backend.h"

namespace pc64 {

class TcpCharBackend final : public CharBackend {
 public:
  // Throws std::runtime_error naming the port if it cannot listen.
  TcpCharBackend(uint16_t port, bool wait);
  ~TcpCharBackend() override;
  TcpCharBackend(const TcpCharBackend&) = delete;
  TcpCharBackend& operator=(const TcpCharBackend&) = delete;

  using CharBackend::write;
  void write(const uint8_t* data, size_t n) override;
  size_t read(uint8_t* buf, size_t max) override;
  bool has_input() const override { return true; }
  bool connected() const { return client_ >= 0; }
  uint16_t port() const { return port_; }  // the bound port (useful with port 0)

 private:
  void accept_client(bool block);
  void drop_client();

  int listen_ = -1;
  int client_ = -1;
  uint16_t port_ = 0;
};

}  // namespace pc64
