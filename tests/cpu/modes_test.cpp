// Mode tests: nasm-assembled guest programs (tests/cpu/asm/*.asm) that walk
// through the processor modes and report each step on port 0xF4.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

TEST_CASE("modes: real -> protected -> long -> ring 3 -> back to real mode, with exceptions") {
  const std::vector<uint32_t> want = {
      0x01, 0x02, 0x03,
      0xE0000000,  // #DE
      0xE0060000,  // #UD
      0xE00D1000,  // #GP(0x1000): selector beyond the GDT
      0xE00B0068,  // #NP(0x68)
      0xE0050000,  // #BR
      0xE00D0000,  // #GP(0): expand-down limit
      0xE00D0000,  // #GP(0): write through CS
      0x04, 0x05,
      0xE00E0000,  // #PF, not present, read
      0xC2004000,  // CR2 = 0x40000000
      0xE00D0000,  // #GP(0): non-canonical
      0xE00E0003,  // #PF, present + write (CR0.WP)
      0x06,
      0x73,        // ring 3 after SYSRET
      0x80030,     // SYSCALL: CS = 0x30
      0x09, 0x0A,
      0xE00D1008,  // #GP(0x1008) in legacy protected mode again
      0xB001B,     // ring 3 after SYSEXIT
      0xC080010,   // call gate: ring 0 on CS 0x08, SS 0x10 from the TSS
      0xD0023,     // RETF back to ring 3 with the user stack
      0xD1000,     // ... and DS (DPL 0) was nulled
      0xE00D018A,  // INT 0x31 beyond the IDT limit: #GP(0x31*8+2)
      0x0E,        // SYSENTER
      0x0F, 0x02,  // real mode, IVT again
  };
  check_program("modes.asm", want, false, 2000000);
}

TEST_CASE("triple fault shuts the CPU down with a reason") {
  Machine m;
  // Protected mode with an empty IDT: the first #UD cannot be delivered.
  m.load(0x1000, assemble(R"(bits 16
org 0x1000
    lidt [idt]
    ud2
idt: dw 0
     dd 0
)"));
  m.real_mode(0x1000);
  m.run(1000);
  CHECK(m.cpu.shutdown());
  CHECK(m.cpu.shutdown_reason().find("triple fault") != std::string::npos);
}

TEST_CASE("modes: hardware task switches (JMP, CALL, IRET, task gate) and virtual-8086 mode") {
  const std::vector<uint32_t> want = {
      0x20,      // protected mode, task A
      0x21,      // JMP to task B
      0x221,     // CALL to task A: NT set
      0x23,      // IRET with NT returned to task B
      0x240015,  // #UD through the task gate: B's saved EIP is the UD2 (task_b + 0x15)
      0x25,      // back in B after task C's IRET
      0x27,      // V86 OUT allowed by the I/O bitmap
      0x281,     // INT 31h from V86: the frame has VM set
      0x291234,  // ... and the V86 ES
  };
  check_program("tasks.asm", want);
}
