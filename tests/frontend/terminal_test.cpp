// Monitor line input from a pipe: plain lines, and `p` / Ctrl-C noticed
// while the guest runs without losing the other lines typed meanwhile.
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "frontend/terminal.h"

using namespace pc64;

TEST_CASE("terminal: lines from a pipe, pause requests while running") {
  int in[2], out[2];
  REQUIRE(pipe(in) == 0);
  REQUIRE(pipe(out) == 0);
  {
    LineInput li(in[0], out[1]);
    CHECK_FALSE(li.is_terminal());
    CHECK_FALSE(li.poll_pause());  // nothing typed
    std::string typed = "r\nx/4xb 0\n";
    REQUIRE(write(in[1], typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
    CHECK_FALSE(li.poll_pause());  // ordinary lines wait for read_line
    REQUIRE(write(in[1], "p\n", 2) == 2);
    CHECK(li.poll_pause());
    REQUIRE(write(in[1], "\x03", 1) == 1);
    CHECK(li.poll_pause());
    std::string line;
    CHECK(li.read_line("(pc64) ", line));
    CHECK(line == "r");
    CHECK(li.read_line("(pc64) ", line));
    CHECK(line == "x/4xb 0");
    close(in[1]);
    CHECK_FALSE(li.read_line("(pc64) ", line));  // end of input
    char prompt[32] = {};
    CHECK(read(out[0], prompt, sizeof prompt - 1) > 0);
    CHECK(std::string(prompt).starts_with("(pc64) "));
  }
  close(in[0]);
  close(out[0]);
  close(out[1]);
}
