#include "frontend/terminal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace pc64 {

namespace {
termios g_saved;  // only the terminal's own state, restored on exit from raw mode

struct RawMode {
  int fd;
  bool on = false;
  explicit RawMode(int f) : fd(f) {
    termios t;
    if (tcgetattr(fd, &t) != 0) return;
    g_saved = t;
    t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C still signals
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    on = tcsetattr(fd, TCSANOW, &t) == 0;
  }
  ~RawMode() {
    if (on) tcsetattr(fd, TCSANOW, &g_saved);
  }
};
}  // namespace

LineInput::LineInput(int in_fd, int out_fd) : in_(in_fd), out_(out_fd), tty_(isatty(in_fd) && isatty(out_fd)) {}
LineInput::~LineInput() = default;

void LineInput::write(const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::send(out_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(out_, text.data() + off, text.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

bool LineInput::fill(int timeout_ms) {
  if (eof_) return false;
  pollfd p{in_, POLLIN, 0};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR && timeout_ms < 0);  // Ctrl-C at the prompt is not end of input
  if (r <= 0) return false;
  char b[1024];
  ssize_t n;
  do n = ::read(in_, b, sizeof b);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  pending_.append(b, static_cast<size_t>(n));
  return true;
}

bool LineInput::poll_pause() {
  for (int k = 0; k < 64 && fill(0); ++k) {
  }
  if (size_t c = pending_.find('\x03'); c != std::string::npos) {
    pending_.erase(c, 1);
    return true;
  }
  // A whole "p" / "pause" line pauses; other lines wait for read_line.
  size_t start = 0;
  while (true) {
    size_t nl = pending_.find('\n', start);
    if (nl == std::string::npos) return false;
    std::string line = pending_.substr(start, nl - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line == "p" || line == "pause") {
      pending_.erase(start, nl - start + 1);
      return true;
    }
    start = nl + 1;
  }
}

bool LineInput::read_line(const std::string& prompt, std::string& line) {
  if (tty_) return edit_line(prompt, line);
  write(prompt);
  for (;;) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      while (!line.empty() && line.back() == '\r') line.pop_back();
      std::erase(line, '\x03');
      return true;
    }
    if (!fill(-1)) {
      if (pending_.empty()) return false;
      line.swap(pending_);
      pending_.clear();
      return true;
    }
  }
}

void LineInput::redraw(const std::string& prompt, const std::string& buf, size_t cursor) {
  // Carriage return, prompt and text, clear to end of line, cursor back.
  std::string s = "\r" + prompt + buf + "\x1b[K";
  if (cursor < buf.size()) s += "\x1b[" + std::to_string(buf.size() - cursor) + "D";
  write(s);
}

bool LineInput::edit_line(const std::string& prompt, std::string& line) {
  RawMode raw(in_);
  std::string buf;
  size_t cursor = 0;
  size_t hist = history_.size();
  std::string saved;  // the line being typed when browsing history
  write(prompt);
  auto next = [&](char& c) {
    while (pending_.empty())
      if (!fill(-1)) return false;
    c = pending_[0];
    pending_.erase(0, 1);
    return true;
  };
  for (;;) {
    char c;
    if (!next(c)) {
      write("\n");
      return false;
    }
    if (c == '\r' || c == '\n') {
      write("\n");
      line = buf;
      if (!buf.empty() && (history_.empty() || history_.back() != buf)) history_.push_back(buf);
      if (history_.size() > 500) history_.erase(history_.begin());
      return true;
    }
    if (c == 4 && buf.empty()) {  // Ctrl-D on an empty line: end of input
      write("\n");
      return false;
    }
    if (c == 127 || c == 8) {
      if (cursor) buf.erase(--cursor, 1);
    } else if (c == 1) {
      cursor = 0;
    } else if (c == 5) {
      cursor = buf.size();
    } else if (c == 11) {
      buf.erase(cursor);
    } else if (c == 21) {
      buf.erase(0, cursor);
      cursor = 0;
    } else if (c == 0x1b) {
      char a, b;
      if (!next(a) || !next(b)) continue;
      if (a != '[' && a != 'O') continue;
      if (b == 'A' || b == 'B') {  // history up / down
        if (hist == history_.size()) saved = buf;
        if (b == 'A' && hist > 0) --hist;
        else if (b == 'B' && hist < history_.size()) ++hist;
        buf = hist == history_.size() ? saved : history_[hist];
        cursor = buf.size();
      } else if (b == 'C') {
        if (cursor < buf.size()) ++cursor;
      } else if (b == 'D') {
        if (cursor) --cursor;
      } else if (b == 'H') {
        cursor = 0;
      } else if (b == 'F') {
        cursor = buf.size();
      } else if (b >= '1' && b <= '8') {  // ESC [ n ~ : Home, Delete, End
        char t;
        if (!next(t) || t != '~') continue;
        if (b == '3' && cursor < buf.size()) buf.erase(cursor, 1);
        if (b == '1' || b == '7') cursor = 0;
        if (b == '4' || b == '8') cursor = buf.size();
      }
    } else if (static_cast<unsigned char>(c) >= 32) {
      buf.insert(cursor++, 1, c);
    }
    redraw(prompt, buf, cursor);
  }
}

int accept_one_tcp(uint16_t port, const char* what) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) throw std::runtime_error(std::string(what) + ": socket: " + std::strerror(errno));
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only: this gives full control of the guest
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(ls, 1) < 0) {
    std::string e = std::strerror(errno);
    close(ls);
    throw std::runtime_error(std::string(what) + ": cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + e);
  }
  socklen_t len = sizeof a;
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  std::fprintf(stderr, "pc64: %s waiting on 127.0.0.1:%u\n", what, ntohs(a.sin_port));
  int fd = accept(ls, nullptr, nullptr);
  close(ls);
  if (fd < 0) throw std::runtime_error(std::string(what) + ": accept: " + std::strerror(errno));
  return fd;
}

}  // namespace pc64
