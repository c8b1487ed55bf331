// Line input for the monitor: stdin or a TCP connection. On a terminal it
// edits the line itself (cursor keys, Home/End, Backspace/Delete, Ctrl-A/E/K/U,
// history with Up/Down) in raw mode, so no readline dependency; otherwise it
// reads plain lines. While the guest runs, poll_pause() looks for a `p` /
// `pause` line or a Ctrl-C byte (0x03) without blocking.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pc64 {

class LineInput {
 public:
  // Reads from `in_fd`, echoes and prompts to `out_fd`.
  LineInput(int in_fd, int out_fd);
  ~LineInput();
  LineInput(const LineInput&) = delete;
  LineInput& operator=(const LineInput&) = delete;

  // Shows `prompt` and returns the next line (false at end of input).
  bool read_line(const std::string& prompt, std::string& line);
  // Non-blocking: true if the user asked to pause (a `p`/`pause` line or
  // 0x03). Other complete lines are kept for read_line.
  bool poll_pause();
  void write(const std::string& text);
  bool is_terminal() const { return tty_; }

 private:
  // Reads what arrives within `timeout_ms` (-1: waits); true if bytes came.
  bool fill(int timeout_ms);
  bool edit_line(const std::string& prompt, std::string& line);
  void redraw(const std::string& prompt, const std::string& buf, size_t cursor);

  int in_, out_;
  bool tty_ = false;
  bool eof_ = false;
  std::string pending_;  // bytes read but not yet consumed
  std::vector<std::string> history_;
};

// Listens on 127.0.0.1:port and returns the first accepted connection's fd.
// Throws std::runtime_error naming the cause.
int accept_one_tcp(uint16_t port, const char* what);

}  // namespace pc64
