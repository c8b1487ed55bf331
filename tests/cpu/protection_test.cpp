// Protection tests: nasm guest programs (tests/cpu/asm/) for the descriptor
// instructions (LAR/LSL/VERR/VERW/ARPL), 16-bit privilege transfers, stack
// faults, alignment checks, VME/PVI and the double-fault rules. Each program
// reports 32-bit words on port 0xF4; the expected words are hand-derived from
// the descriptor tables in the .asm files and the SDM.
#include <doctest/doctest.h>

#include "cpu_test_util.h"

using namespace pc64;
using namespace pc64::test;

namespace {

constexpr uint32_t kNone = 0xDEADBEEF;  // LAR/LSL left the destination alone (ZF=0)

// One selector of descriptors.asm's table: LAR result, LSL result, and
// ZF of LAR, LSL, VERR, VERW as 4 bits.
struct SelResult {
  uint32_t sel, lar, lsl, zf;
};

void append(std::vector<uint32_t>& want, std::initializer_list<SelResult> rows) {
  for (const SelResult& r : rows) {
    want.push_back(r.lar);
    want.push_back(r.lsl);
    want.push_back(0x5A000000u | r.sel << 8 | r.zf);
  }
}

// One external interrupt vector, raised until acknowledged.
struct OneIrq : InterruptSource {
  bool pending = true;
  uint8_t vector = 0x40;
  bool intr_pending() const override { return pending; }
  uint8_t acknowledge_intr() override {
    pending = false;
    return vector;
  }
  bool take_nmi() override { return false; }
};

// External interrupts the guest asks for: a vector written to port 0xF5 is
// raised until acknowledged.
struct PortIrq : InterruptSource {
  TestPorts& ports;
  explicit PortIrq(TestPorts& p) : ports(p) {}
  bool intr_pending() const override { return ports.last_write.count(0xF5) != 0; }
  uint8_t acknowledge_intr() override {
    const uint8_t v = static_cast<uint8_t>(ports.last_write[0xF5]);
    ports.last_write.erase(0xF5);
    return v;
  }
};

}  // namespace

TEST_CASE("protection: LAR/LSL/VERR/VERW/ARPL on every descriptor type, 16-bit gates, far CALL/RET/IRET") {
  std::vector<uint32_t> want = {0xE0060000, 0xE0060000, 0x01};  // LAR, ARPL in real mode: #UD
  // CPL 0, RPL 0. ZF bits: LAR LSL VERR VERW.
  append(want, {
                   {0x00, kNone, kNone, 0x0},             // null selector
                   {0x08, 0x00C09B00, 0xFFFFFFFF, 0xE},   // code32: readable, not writable
                   {0x10, 0x00C09300, 0xFFFFFFFF, 0xF},   // data
                   {0x18, 0x00C0FB00, 0xFFFFFFFF, 0xE},   // ring-3 code
                   {0x20, 0x00C0F300, 0xFFFFFFFF, 0xF},   // ring-3 data
                   {0x28, 0x00008B00, 0x67, 0xC},         // busy 32-bit TSS (after LTR)
                   {0x30, 0x00008200, 0x17, 0xC},         // LDT
                   {0x38, 0x00008100, 0x2B, 0xC},         // available 16-bit TSS
                   {0x40, 0x0000E400, kNone, 0x8},        // 16-bit call gate: LAR only
                   {0x48, 0x0000EC00, kNone, 0x8},        // 32-bit call gate
                   {0x50, 0x0000E500, kNone, 0x8},        // task gate
                   {0x58, kNone, kNone, 0x0},             // 16-bit interrupt gate: never
                   {0x60, kNone, kNone, 0x0},             // 32-bit interrupt gate: never
                   {0x68, 0x00C09F00, 0xFFFFFFFF, 0xE},   // conforming readable code
                   {0x70, 0x0040F900, 0xFFFF, 0xC},       // execute-only code: no VERR
                   {0x78, 0x0000F100, 0x1FF, 0xE},        // read-only data: no VERW
                   {0x80, 0x00409300, 0x2345, 0xF},       // DPL-0 data
                   {0x88, kNone, kNone, 0x0},             // system type 0
                   {0x90, 0x00008300, 0x2B, 0xC},         // busy 16-bit TSS
                   {0x98, 0x00009B00, 0xFFFF, 0xE},       // code16
                   {0xB0, 0x00007300, 0xABCD, 0xF},       // not present: still visible
                   {0xB8, kNone, kNone, 0x0},             // system type A
                   {0xC0, kNone, kNone, 0x0},             // system type D
                   {0xC8, kNone, kNone, 0x0},             // 16-bit trap gate
                   {0xD0, 0x0080F700, 0x12FFF, 0xF},      // expand-down, G: limit in bytes
                   {0xD8, 0x00008C00, kNone, 0x8},        // DPL-0 call gate
                   {0xE0, 0x0000E200, 0x17, 0xC},         // DPL-3 LDT descriptor
                   {0xF8, kNone, kNone, 0x0},             // beyond the GDT limit
                   {0x0C, 0x0000F300, 0x1234, 0xF},       // LDT entry 1
                   {0x14, 0x00009B00, 0x10, 0xE},         // LDT entry 2
                   {0x1C, kNone, kNone, 0x0},             // beyond the LDT limit
                   // RPL 3 at CPL 0: only conforming code stays visible.
                   {0x83, kNone, kNone, 0x0},
                   {0x6B, 0x00C09F00, 0xFFFFFFFF, 0xE},
                   {0x13, kNone, kNone, 0x0},
               });
  want.insert(want.end(), {
                              0x12349300,  // LAR AX, m16: low word only
                              0x12342345,  // LSL AX, r16
                              0x5B000101,  // VERW m16 ZF=1, VERR m16 on execute-only ZF=0
                              0x5C0000C1,  // LAR changes ZF only (SF, CF kept)
                              0x02,        // ring 3
                          });
  // CPL 3, RPL 3.
  append(want, {
                   {0x03, kNone, kNone, 0x0},
                   {0x0B, kNone, kNone, 0x0},  // DPL 0 < CPL
                   {0x13, kNone, kNone, 0x0},
                   {0x1B, 0x00C0FB00, 0xFFFFFFFF, 0xE},
                   {0x23, 0x00C0F300, 0xFFFFFFFF, 0xF},
                   {0x2B, kNone, kNone, 0x0},
                   {0x33, kNone, kNone, 0x0},
                   {0x3B, kNone, kNone, 0x0},
                   {0x43, 0x0000E400, kNone, 0x8},
                   {0x4B, 0x0000EC00, kNone, 0x8},
                   {0x53, 0x0000E500, kNone, 0x8},
                   {0x5B, kNone, kNone, 0x0},
                   {0x63, kNone, kNone, 0x0},
                   {0x6B, 0x00C09F00, 0xFFFFFFFF, 0xE},  // conforming: no privilege check
                   {0x73, 0x0040F900, 0xFFFF, 0xC},
                   {0x7B, 0x0000F100, 0x1FF, 0xE},
                   {0x83, kNone, kNone, 0x0},
                   {0x8B, kNone, kNone, 0x0},
                   {0x93, kNone, kNone, 0x0},
                   {0x9B, kNone, kNone, 0x0},
                   {0xB3, 0x00007300, 0xABCD, 0xF},
                   {0xBB, kNone, kNone, 0x0},
                   {0xC3, kNone, kNone, 0x0},
                   {0xCB, kNone, kNone, 0x0},
                   {0xD3, 0x0080F700, 0x12FFF, 0xF},
                   {0xDB, kNone, kNone, 0x0},
                   {0xE3, 0x0000E200, 0x17, 0xC},
                   {0xFB, kNone, kNone, 0x0},
                   {0x0F, 0x0000F300, 0x1234, 0xF},
                   {0x17, kNone, kNone, 0x0},
                   {0x1F, kNone, kNone, 0x0},
               });
  want.insert(want.end(), {
                              // ARPL: value | ZF << 16 | CF << 17
                              0x30013,     // RPL raised 0 -> 3, ZF=1, CF kept
                              0x20013,     // not raised, ZF=0
                              0x00012,     // equal RPL: not raised
                              0x10022,     // memory destination raised to 2
                              0x1600A3,    // 16-bit code at CPL 3 after a far JMP
                              0xE00D0010,  // MOV ES, DPL-0 data at CPL 3: #GP(0x10)
                              // 16-bit call gate, 2 parameters, to ring 0
                              0x18980010,  // CS K_CODE16, SS from the 32-bit TSS
                              0x5FF4,      // ESP0 - (SS SP 2 params CS IP) as words
                              0x00A30000,  // pushed CS, return IP
                              0x11112222,  // parameters copied in order
                              0x00AB4FFC,  // caller SS:SP
                              0x00AB5000,  // RETF 4 to ring 3 popped the parameters
                              0x170000,    // ... and nulled ES (DPL 0)
                              // 16-bit interrupt gate and IRET
                              0x5FF6,      // SS SP FLAGS CS IP as words
                              0x1C0000,    // IF cleared in the handler
                              0x00A33200,  // pushed CS, FLAGS (IOPL 3, IF)
                              0x00AB5000,  // pushed SS:SP
                              0x190200,    // IF back after IRET
                              0x00AB5000,
                              // same-level 16-bit far CALL / RETF
                              0x1A00A3, 0x4FFC0000, 0x1B5000,
                              0xE00D00D8,  // call gate DPL 0 from CPL 3: #GP(gate)
                              0xE00B00F0,  // gate to a not-present segment: #NP(target)
                              // 32-bit call gate from 16-bit code: dword frame
                              0x5FF0, 0x00A300AB, 0x00AB5000,
                              0x47EC, 0x10,  // INT from ring 3 with a 16-bit TSS: its SP0/SS0
                              0x1F,
                          });
  check_program("descriptors.asm", want, false, 200000);
}

TEST_CASE("protection: LAR/LSL/VERR/VERW in 64-bit mode accept only IA-32e system types") {
  std::vector<uint32_t> want;
  append(want, {
                   {0x08, 0x00A09B00, 0xFFFFFFFF, 0xE},  // code64 (L=1)
                   {0x10, 0x00C09300, 0xFFFFFFFF, 0xF},
                   {0x18, 0x00008200, 0x17, 0xC},        // LDT
                   {0x20, kNone, kNone, 0x0},            // upper half of the LDT descriptor
                   {0x28, 0x00008900, 0x67, 0xC},        // available 64-bit TSS
                   {0x38, 0x00008B00, 0x67, 0xC},        // busy 64-bit TSS
                   {0x48, 0x00008C00, kNone, 0x8},       // 64-bit call gate: LAR only
                   {0x58, kNone, kNone, 0x0},            // 16-bit TSS
                   {0x60, kNone, kNone, 0x0},            // 16-bit call gate
                   {0x68, kNone, kNone, 0x0},            // task gate
                   {0x70, kNone, kNone, 0x0},            // interrupt gate
                   {0x80, 0x00C0FB00, 0xFFFFFFFF, 0xE},  // ring-3 code32 at CPL 0
                   {0x88, kNone, kNone, 0x0},            // beyond the GDT limit
               });
  want.insert(want.end(), {0, 0});  // 64-bit destinations are zero-extended
  check_program("descriptors64.asm", want, true, 20000);
}

TEST_CASE("protection: SS limit faults are #SS, #AC alignment checks, #DF rules and EXT in error codes") {
  const std::vector<uint32_t> want = {
      0x01,
      // ring 3 with SS limit 0x7FFF
      0xE00C0000,  // MOV EAX, [SS:0x9000]: #SS(0)
      0xE00C0000,  // [EBP + 0x8000] defaults to SS: #SS(0)
      0xE00C0000,  // dword at 0x7FFE straddles the limit: #SS(0)
      0xE00D0000,  // the same segment through DS: #GP(0)
      0xE00C0000,  // PUSH beyond the limit: #SS(0) ...
      0x8002,      // ... ESP unchanged
      0xE00C0000,  // PUSH below an expand-down limit: #SS(0)
      0x1FFC,      // PUSH above it works
      0xE00C0040,  // MOV SS, not-present segment: #SS(selector)
      0xE00C0050,  // call gate to ring 1 overruns the new stack: #SS(new SS)
      0xE00C0050,  // INT n to ring 1 likewise (no EXT: software interrupt)
      0x02,
      // alignment checks
      0xA0,        // EFLAGS.AC=0: misaligned dword is fine
      0xE0110000,  // AC=1, CPL 3: #AC(0)
      0xA1,        // aligned word/dword and bytes are fine
      0xE0110000,  // misaligned word store
      0xE0110000,  // PUSH with a misaligned ESP
      0xE0110000,  // LODSD from a misaligned ESI
      0xE0110000,  // read-modify-write
      0xA31,       // CPL 0 with AC=1: no check
      0xA4,        // CR0.AM=0: no check
      0x03,
      // double faults and error codes
      0xE0080000,  // #GP, its gate not present -> #NP during #GP -> #DF(0)
      0xE00B0033,  // #UD, gate not present: #NP(6*8 + IDT + EXT), no #DF (benign first)
      0xE00D0192,  // INT 0x32, not a gate: #GP(0x32*8 + IDT), no EXT
      0xE00B019A,  // INT 0x33, not present: #NP(0x33*8 + IDT)
      0x04,
  };
  check_program("faults.asm", want);
}

TEST_CASE("protection: 64-bit non-canonical stack references are #SS(0); #DF rules with #PF") {
  const std::vector<uint32_t> want = {
      0x01,
      0xE00C0000,  // PUSH with a non-canonical RSP
      0xE00C0000,  // MOV RAX, [RSP]
      0xE00C0000,  // [RBP + 8]
      0xE00D0000,  // [RBX] (DS): #GP(0)
      0xE00C0000,  // 8 bytes from 0x7FFF'FFFFFFFC cross the canonical boundary
      0xE00C0000,  // PUSH at 0xFFFF8000'00000000 - 8
      0x02,
      0xE0080000,  // #GP -> #NP while delivering it -> #DF
      0xE0080000,  // #PF -> #PF pushing on its IST stack -> #DF
      0x40000FF8,  // CR2 = the failed push
      0xE0080000,  // #PF -> #GP (bad gate selector) -> #DF
      0xE00E0002,  // #GP -> #PF pushing on its IST stack: the #PF is delivered
      0x40001FF8,
      0x03,
  };
  check_program("faults64.asm", want, true);
}

TEST_CASE("protection: VME in virtual-8086 mode and PVI at CPL 3 (VIF, VIP, redirection bitmap)") {
  const std::vector<uint32_t> want = {
      0x01,
      0x313000,    // V86 CLI: PUSHF shows IF = VIF = 0 and IOPL 3
      0x323200,    // STI sets VIF
      0xE00D0000,  // PUSHFD: #GP(0)
      0xE00D0000,  // POPF with TF: #GP(0)
      0x333200,    // INT 0x40 redirected to the V86 IVT: image has IF = VIF, IOPL 3
      0x343000,    // ... and VIF is cleared in the handler
      0x353200,    // IRET restored VIF
      0xE00D0000,  // INT 0x41 (bitmap bit set) with IOPL 0: #GP(0)
      0x361,       // INT3 goes through the IDT (VM=1 in the image); sets VIP
      0xE00D0000,  // STI while VIP: #GP(0)
      0xE00D0000,  // POPF enabling IF while VIP: #GP(0)
      0x373000,    // POPF with IF=0 is fine
      0xE00D0000,  // IRET enabling IF while VIP: #GP(0)
      0x361,       // INT3 clears VIP
      0x383200,    // STI works again
      0xE00D0000,  // IRETD with IOPL 0: #GP(0)
      0xE00D0000,  // HLT: #GP(0), on to ring 3 with PVI
      0x02,
      0x41000200,  // CLI at CPL 3: VIF=0, IF stays
      0x42080200,  // STI: VIF=1
      0x360,       // INT3 sets VIP
      0x43180200,
      0xE00D0000,  // STI while VIP: #GP(0)
      0x44100200,  // CLI still clears VIF
      0x45100200,  // POPFD changes neither IF nor VIF
      0x360,       // INT3 clears CR4.PVI
      0xE00D0000,  // CLI without PVI: #GP(0)
      0xE00D0000,  // HLT
      0x03,
  };
  check_program("vme.asm", want);
}

TEST_CASE("protection: an external interrupt through a bad gate sets EXT in the error code") {
  Machine m;
  OneIrq irq;
  m.cpu.set_interrupt_source(&irq);
  // Gate 0x40: interrupt gate, not present -> #NP(0x40*8 + IDT + EXT) = 0x203.
  m.load(0x1000, assemble(R"(bits 64
org 0x1000
    lidt [idtd]
    sti
    nop
.wait:
    hlt
    jmp .wait
np_handler:
    pop rax
    mov [0x3000], rax
    cli
    hlt
align 16
idt:
    times 11*16 db 0
    dw np_handler, 0x08, 0x8E00, 0, 0, 0, 0, 0   ; vector 11
    times (0x40 - 12)*16 db 0
    dw np_handler, 0x08, 0x0E00, 0, 0, 0, 0, 0   ; vector 0x40: not present
idtd:
    dw 0x41*16 - 1
    dq idt
)"));
  m.long_mode(0x1000);
  m.run(1000);
  uint64_t err = 0;
  m.mem.read_bytes(0x3000, &err, 8);
  CHECK(err == 0x203);
  CHECK_FALSE(irq.pending);
}

TEST_CASE("protection: faults of a task switch through an IDT task gate carry EXT for hardware events only") {
  Machine m;
  PortIrq irq(m.ports);
  m.cpu.set_interrupt_source(&irq);
  const std::vector<uint32_t> want = {
      0x01,
      0xE00B0020,  // INT 0x40, gate to a not-present TSS: #NP(0x20)
      0xE00A0028,  // INT 0x41, TSS limit 0x2B: #TS(0x28)
      0xE00D0018,  // INT 0x42, gate to the running (busy) TSS: #GP(0x18)
      0xE00D000C,  // INT 0x43, TSS selector with TI = 1: #GP(0x0C)
      0x02,
      0xE00B0021,  // the same four as external interrupts: EXT = 1
      0xE00A0029,
      0xE00D0019,
      0xE00D000D,
      0x03,
      0xE00A0029,  // #UD through a task gate to the small TSS: #TS(0x28 + EXT)
      0x04,
      0xE00D0000,  // INT 0x44 to a task whose EIP is beyond its CS limit: #GP(0)
      0xE00D0001,  // the same from an external interrupt: #GP(EXT)
      0x48,        // ... delivered in the new task
      0x05,
  };
  check_program(m, "task_faults.asm", want);
}
