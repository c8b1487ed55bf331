// The execution core behind Cpu: architectural state, guest memory access
// (segmentation -> soft TLB -> page walk), lazy flags, the block cache and the
// interpreter loop. Instruction handlers (cpu/*.cpp) receive a Core& and the
// decoded record; they are free functions templated on operand size.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "cpu/block_cache.h"
#include "cpu/cpu_state.h"
#include "cpu/debug_trap.h"
#include "cpu/insn.h"
#include "cpu/interrupt_source.h"
#include "cpu/port_io.h"
#include "mem/paging.h"
#include "mem/physical_memory.h"
#include "mem/tlb.h"

namespace pc64 {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the register file layout assumes a little-endian host");

// A guest exception on its way to the dispatch loop (DESIGN "Faults are values
// on the slow path"): thrown by a handler or memory access, caught in
// Core::run, which restores RIP to the faulting instruction and delivers it.
struct GuestFault {
  uint8_t vector;
  bool has_error;
  uint32_t error;
};

// Thrown by a waiting x87/MMX instruction that must not start yet: CR0.NE = 0,
// an unmasked exception pending and IGNNE# negated (SDM Vol. 1 D.2.1.1). Core::run
// leaves RIP at the instruction and waits for an interrupt as after HLT; the
// handler returns to the instruction, which then runs again (x87_pending_exception).
struct X87Freeze {};

enum Vector : uint8_t {
  kDE = 0, kDB = 1, kNMI = 2, kBP = 3, kOF = 4, kBR = 5, kUD = 6, kNM = 7, kDF = 8,
  kTS = 10, kNP = 11, kSS = 12, kGP = 13, kPF = 14, kMF = 16, kAC = 17, kMC = 18, kXM = 19,
};

template <class T> constexpr unsigned size_log2() {
  return sizeof(T) == 1 ? 0 : sizeof(T) == 2 ? 1 : sizeof(T) == 4 ? 2 : 3;
}
template <class T> using Signed = std::make_signed_t<T>;

// Port I/O as the CPU performs it (IN/OUT/INS/OUTS): forwards to the machine's
// port bus and notes that a device was touched, since that is one of the few
// things that can change what the interrupt source reports (see irq_poll).
class CpuPorts {
 public:
  CpuPorts(PortIo& bus, bool& touched) : bus_(bus), touched_(touched) {}
  uint32_t port_read(uint16_t port, unsigned size) {
    touched_ = true;
    return bus_.port_read(port, size);
  }
  void port_write(uint16_t port, unsigned size, uint32_t value) {
    touched_ = true;
    bus_.port_write(port, size, value);
  }

 private:
  PortIo& bus_;
  bool& touched_;
};

class Core final : public CodeWriteListener {
 public:
  Core(PhysicalMemory& mem, PortIo& io);
  ~Core() override;

  // ---------------- state ----------------
  CpuState s;
  SegmentCheck segchk[kSegCount];
  PhysicalMemory& mem;
  // Interrupt polling between blocks (Core::run). Asking the interrupt source
  // costs virtual calls, and what it reports only changes when time advances
  // (between run() calls), when the CPU touches a device (port I/O, MMIO) or
  // when the CPU itself acknowledges an interrupt. So the source is asked only
  // when `irq_poll` is set (by all of those) or when the CPU-side gates
  // changed (RFLAGS.IF, NMI blocking: `irq_key`). Code that lets the CPU
  // reach the interrupt controller another way (CR8, APIC base MSR) must set
  // irq_poll too. Core::run also leaves its chained block-to-block path
  // only when irq_poll is set (or the block stopped itself), so whatever sets
  // halted, shutdown, stop_requested or irq_shadow sets irq_poll as well.
  bool irq_poll = true;
  unsigned irq_key = ~0u;
  CpuPorts io;
  InterruptSource* intr = nullptr;
  SoftTlb tlb;
  BlockCache blocks;
  DebugTraps dbg;  // monitor/gdb breakpoints and watchpoints (cpu/debug_trap.h)

  uint64_t next_rip = 0;    // RIP after the running instruction; branches set it
  // Stop the running block after this instruction: true (1) when something
  // needs the full path between blocks, kExitBranch for a conditional branch
  // taken out of the middle of a block (the next block may follow chained).
  static constexpr uint8_t kExitBranch = 2;
  uint8_t exit_block = 0;
  // Within a block RIP is not kept in s.rip: `rip_sync` holds the RIP after
  // the last record flagged kInsnNeedsRip (or the block's start), and a
  // record's own RIP is rip_sync + Insn::rip_pre (see Core::run).
  uint64_t rip_sync = 0;
  const Insn* cur_insn = nullptr;     // the record running (or that ran last), null between blocks
  uint64_t retired = 0;     // instructions retired in this run() (up to the running block)
  const Insn* block_first = nullptr;  // first record of the running block
  uint64_t block_retired_base = 0;    // `retired` when it started
  // Makes `retired` exact for the running instruction `i` (RDTSC, TSC MSR).
  void sync_retired(const Insn& i) { retired = block_retired_base + static_cast<uint64_t>(&i - block_first); }
  uint64_t time_base_ns = 0;
  bool halted = false, shutdown = false, stop_requested = false;
  std::string shutdown_reason;
  unsigned irq_shadow = 0;  // STI (1) / MOV SS, POP SS (2): interrupts blocked for the next instruction
  // MOV SS / POP SS: the shadow also holds debug traps (value 2).
  void set_ss_shadow() {
    irq_shadow = 2;
    irq_poll = true;  // leave the chained path (Core::run)
  }
  bool nmi_blocked = false; // from NMI delivery until the next IRET
  unsigned code_mode = 0;   // 0 = 16-bit, 1 = 32-bit, 2 = 64-bit code segment
  unsigned stack_mode = 0;  // stack pointer width: 0 = SP, 1 = ESP, 2 = RSP
  uint64_t mem_generation = 0;
  // Bumped whenever a chained block link may have gone stale: mode, CPL or
  // CS changes (update_mode) and every TLB flush or INVLPG.
  uint64_t chain_epoch = 1;
  uint64_t ud_count = 0;    // #UD raised for undecodable/unimplemented instructions
  bool triple_fault_resets = false;

  // ---------------- registers ----------------
  // 8-bit register operands are stored as byte offsets into the register file
  // (AL = 0, AH = 1, CL = 8, ..., SPL = 32, R15B = 120).
  template <class T> T reg(unsigned r) const {
    if constexpr (sizeof(T) == 1) return reinterpret_cast<const uint8_t*>(s.gpr)[r];
    else return static_cast<T>(s.gpr[r]);
  }
  template <class T> void set_reg(unsigned r, T v) {
    if constexpr (sizeof(T) == 1) reinterpret_cast<uint8_t*>(s.gpr)[r] = v;
    else if constexpr (sizeof(T) == 2) s.gpr[r] = (s.gpr[r] & ~0xFFFFull) | v;
    else s.gpr[r] = v;  // 32-bit writes zero-extend (SDM Vol. 1 3.4.1.1)
  }
  bool long_mode() const { return s.efer & EFER_LMA; }
  bool mode64() const { return code_mode == 2; }
  bool real_mode() const { return !(s.cr0 & CR0_PE); }
  bool v86() const { return s.rflags & VM; }
  bool protected_mode() const { return (s.cr0 & CR0_PE) && !v86(); }
  // CS has base 0 and a 4 GiB limit (or 64-bit mode): linear == RIP and no
  // limit check on fetch. (segchk[CS].flat is never set in protected mode:
  // code segments are not writable.)
  bool code_flat() const {
    return mode64() || (segchk[CS].base == 0 && segchk[CS].lo == 0 && segchk[CS].hi == 0xFFFFFFFF);
  }

  // ---------------- flags ----------------
  void set_lazy(FlagOp op, unsigned size, uint64_t res, uint64_t dst, uint64_t src, uint8_t aux = 0) {
    s.lazy.op = op;
    s.lazy.size = static_cast<uint8_t>(size);
    s.lazy.res = res;
    s.lazy.dst = dst;
    s.lazy.src = src;
    s.lazy.aux = aux;
  }
  bool cf() const;
  bool zf() const { return s.lazy.op == FlagOp::None ? (s.rflags & ZF) : s.lazy.res == 0; }
  bool sf() const {
    return s.lazy.op == FlagOp::None ? (s.rflags & SF) : (s.lazy.res >> ((8u << s.lazy.size) - 1)) & 1;
  }
  bool of() const;
  bool pf() const;
  bool af() const;
  bool cond(unsigned cc) const;  // Jcc/SETcc/CMOVcc condition 0..15
  template <unsigned CC> bool cond_cc() const { return cond_inline(CC); }  // the same, expanded in place
  [[gnu::always_inline]] inline bool cond_inline(unsigned cc) const;
  // Folds the lazy record into rflags (after this, lazy.op == None).
  void materialize_flags();
  uint64_t rflags() { materialize_flags(); return s.rflags; }
  // Sets the arithmetic flags in `mask` to `values` (eager flag producers:
  // shifts, multiplies, BCD, bit tests).
  // Always inlined: `mask` is a constant at every call, which folds the
  // choice below to one branch.
  [[gnu::always_inline]] void set_flags(uint64_t mask, uint64_t values) {
    if (mask == kArithFlags) {
      s.lazy.op = FlagOp::None;  // all six replaced: nothing to fold
    } else if (s.lazy.op != FlagOp::None) {
      if (!(mask & (ZF | SF | PF))) {
        // Only CF/AF/OF change (rotates, BT*, CLC/STC/CMC): ZF/SF/PF stay
        // lazy in `res`; the other two of CF/AF/OF are worked out alone.
        if (s.lazy.op != FlagOp::Szp) {
          uint64_t keep = 0;
          if (!(mask & CF) && cf()) keep |= CF;
          if (!(mask & AF) && af()) keep |= AF;
          if (!(mask & OF) && of()) keep |= OF;
          s.lazy.src = keep;
          s.lazy.op = FlagOp::Szp;
        }
        s.lazy.src = (s.lazy.src & ~mask) | (values & mask);
        return;
      }
      materialize_flags();
    }
    s.rflags = (s.rflags & ~mask) | (values & mask);
  }
  // The six arithmetic flags of an operation whose CF/AF/OF are known
  // (`cao`, RFLAGS bits) and whose ZF/SF/PF follow from `res` of log2 size `size`.
  void set_lazy_szp(unsigned size, uint64_t res, uint64_t cao) { set_lazy(FlagOp::Szp, size, res, 0, cao); }
  // Writes RFLAGS as POPF/IRET do; `mask` names the bits that may change.
  void write_rflags(uint64_t value, uint64_t mask);

  // ---------------- faults ----------------
  [[noreturn]] void raise(uint8_t vector) { throw GuestFault{vector, false, 0}; }
  [[noreturn]] void raise(uint8_t vector, uint32_t error) { throw GuestFault{vector, true, error}; }
  [[noreturn]] void gp(uint32_t error = 0) { raise(kGP, error); }
  [[noreturn]] void ud() { raise(kUD); }

  // ---------------- memory ----------------
  static constexpr uint64_t kAddrMask[3] = {0xFFFF, 0xFFFFFFFF, ~0ull};
  // kAddrMask as a member for ea(): addressed from `this`, not through a
  // position-independent load of the static table's address.
  const uint64_t ea_mask[3] = {kAddrMask[0], kAddrMask[1], kAddrMask[2]};
  uint64_t ea(const Insn& i) const {
    uint64_t a = static_cast<uint64_t>(i.disp) + s.gpr[i.base] + (s.gpr[i.index] << i.scale);
    if (i.flags & kInsnRipRel) a += next_rip;
    return a & ea_mask[i.asize];
  }
  // Offset -> linear with the segment's limit/type checks (#GP, or #SS for SS).
  uint64_t linear(unsigned seg, uint64_t off, unsigned size, bool write) {
    const SegmentCheck& c = segchk[seg];
    if (__builtin_expect(c.flat, 1)) return c.base + off;
    return linear_checked(seg, off, size, write);
  }
  uint64_t linear_checked(unsigned seg, uint64_t off, unsigned size, bool write);
  bool user() const { return s.cpl == 3; }
  // The soft TLB set of user() for the inline fast paths below, kept so an
  // access does not test CPL again. update_mode() re-derives it: every CPL
  // change is followed by update_mode() before the next data access (as
  // ac_check and chain_epoch need too; state edits go through
  // Cpu::state_changed()).
  const TlbEntry* tlb_set = tlb.set(false);

  // `seg` only matters on the slow path: a non-canonical SS reference is
  // #SS(0) rather than #GP(0) (SDM Vol. 3A 6.15, interrupt 12).
  template <class T> T read_lin(uint64_t lin, unsigned seg = kSegCount) {
    if (__builtin_expect(SoftTlb::hits_in(tlb_set, lin, sizeof(T), AccessKind::Read), 1)) {
      T v;
      std::memcpy(&v, SoftTlb::host_in(tlb_set, lin), sizeof v);
      return v;
    }
    return static_cast<T>(read_slow(lin, sizeof(T), user(), seg));
  }
  template <class T> void write_lin(uint64_t lin, T v, unsigned seg = kSegCount) {
    if (__builtin_expect(SoftTlb::hits_in(tlb_set, lin, sizeof(T), AccessKind::Write), 1)) {
      std::memcpy(SoftTlb::host_in(tlb_set, lin), &v, sizeof v);
      return;
    }
    write_slow(lin, sizeof(T), v, user(), seg);
  }
  // Through a flat segment with a TLB hit inline (see hit_base), anything
  // else out of line.
  template <class T> T read(unsigned seg, uint64_t off) {
    uint8_t* p;
    if (__builtin_expect(host_hit<T>(hit_base[seg] + off, AccessKind::Read, p), 1)) {
      T v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    return read_general<T>(seg, off);
  }
  template <class T> void write(unsigned seg, uint64_t off, T v) {
    uint8_t* p;
    if (__builtin_expect(host_hit<T>(hit_base[seg] + off, AccessKind::Write, p), 1)) {
      std::memcpy(p, &v, sizeof v);
      return;
    }
    write_general<T>(seg, off, v);
  }
  template <class T> [[gnu::noinline]] T read_general(unsigned seg, uint64_t off) {
    return read_lin<T>(linear(seg, off, sizeof(T), false), seg);
  }
  template <class T> [[gnu::noinline]] void write_general(unsigned seg, uint64_t off, T v) {
    write_lin<T>(linear(seg, off, sizeof(T), true), v, seg);
  }
  // Whether a T-sized access at `lin` may go straight to memory through the
  // soft TLB, and then where (`host`); mem_hit(): the same for the record's
  // memory operand through a flat segment. For handlers that leave their
  // whole general path out of line ([[gnu::noipa]], a tail call when these
  // say no), so their fast path keeps nothing in callee-saved registers.
  template <class T> bool host_hit(uint64_t lin, AccessKind kind, uint8_t*& host) const {
    if (!SoftTlb::hits_in(tlb_set, lin, sizeof(T), kind)) return false;
    host = SoftTlb::host_in(tlb_set, lin);
    return true;
  }
  // Where the last mem_hit() of a handler's fast path found its operand
  // (read by the MHost operand accessor, cpu/operands.h).
  uint8_t* hit_host = nullptr;
  template <class T> bool mem_hit(const Insn& i, AccessKind kind, uint8_t*& host) const {
    return host_hit<T>(hit_base[i.seg] + ea(i), kind, host);
  }
  // Per segment, what mem_hit() adds to the offset: the base of a flat
  // segment, else kNoHitBase, which no TLB tag can match from there. A
  // non-flat segment only exists outside 64-bit mode, where offsets are
  // below 2^32 (ea() masks them to the address size), so kNoHitBase +
  // offset is a non-canonical address, and the TLB holds none: legacy-mode
  // tags are below 2^32, long-mode ones canonical (translate() faults
  // first). That spares mem_hit() the `flat` test.
  static constexpr uint64_t kNoHitBase = 1ull << 63;
  uint64_t hit_base[kSegCount] = {kNoHitBase, kNoHitBase, kNoHitBase, kNoHitBase, kNoHitBase, kNoHitBase};
  template <class T> T mem_read(const Insn& i) { return read<T>(i.seg, ea(i)); }
  template <class T> void mem_write(const Insn& i, T v) { write<T>(i.seg, ea(i), v); }
  // Read-modify-write: the write permission is checked before anything is
  // read, so a faulting RMW changes nothing.
  template <class T, class F> void mem_rmw(const Insn& i, F f) {
    uint8_t* p;
    if (__builtin_expect(!mem_hit<T>(i, AccessKind::Write, p), 0)) {
      const uint64_t lin = linear(i.seg, ea(i), sizeof(T), true);
      if (!host_hit<T>(lin, AccessKind::Write, p)) {
        probe_write(lin, sizeof(T), user(), i.seg);
        T v = static_cast<T>(read_slow(lin, sizeof(T), user()));
        write_slow(lin, sizeof(T), static_cast<T>(f(v)), user());
        return;
      }
    }
    T v;
    std::memcpy(&v, p, sizeof v);
    v = f(v);
    std::memcpy(p, &v, sizeof v);
  }
  // Supervisor-privileged (implicit) accesses: descriptor tables, TSS, IDT.
  template <class T> T read_sys(uint64_t lin) { return static_cast<T>(read_slow(lin, sizeof(T), false)); }
  template <class T> void write_sys(uint64_t lin, T v) { write_slow(lin, sizeof(T), v, false); }

  uint64_t read_slow(uint64_t lin, unsigned size, bool user, unsigned seg = kSegCount);
  void write_slow(uint64_t lin, unsigned size, uint64_t v, bool user, unsigned seg = kSegCount);
  void probe_write(uint64_t lin, unsigned size, bool user, unsigned seg = kSegCount);  // faults like a write would
  // Alignment checking (SDM Vol. 3A 6.15, interrupt 17): CR0.AM, RFLAGS.AC
  // and CPL 3. While it is on, translate() keeps CPL-3 translations out of
  // the soft TLB, so every user data access takes the slow path, which
  // checks alignment; with it off the fast path has no extra test at all.
  bool ac_check = false;
  void update_ac_check();
  // The checks every slow-path data access makes before translating:
  // canonical form in IA-32e mode (#SS(0) for SS, else #GP(0)) and alignment.
  void check_data_access(uint64_t lin, unsigned size, bool user, unsigned seg);
  // Linear -> physical for one byte; raises #PF (or #GP for non-canonical).
  // Returns the physical address (A20 applied) and fills the TLB.
  uint64_t translate(uint64_t lin, AccessKind kind, bool user, PhysicalMemory::Page* host = nullptr);
  PagingControl paging_control() const;
  // PAE paging's PDPTE registers (SDM 4.4.1): loaded from the PDPT when CR3
  // is written with PAE paging on, and when MOV CR0/CR4 enter or change PAE
  // paging; the walker uses them, not memory, until the next load. When not
  // loaded (after reset or a state edit) the walker reads memory instead.
  uint64_t pdpte[4] = {};
  bool pdptes_loaded = false;
  bool pae_paging() const { return (s.cr0 & CR0_PG) && (s.cr4 & CR4_PAE) && !(s.efer & EFER_LMA); }
  // Loads the registers from the PDPT at `cr3`; false if a present entry has
  // reserved bits set (the MOV must then raise #GP(0) and change nothing).
  bool load_pdptes(uint64_t cr3);

  // ---------------- stack ----------------
  uint64_t sp_mask() const { return kAddrMask[stack_mode]; }
  uint64_t rsp() const { return s.gpr[RSP] & sp_mask(); }
  // The RSP bits a stack-pointer write keeps, by stack_mode: a 16-bit stack
  // changes SP only, a 32-bit one zero-extends ESP (SDM Vol. 1 3.4.1.1).
  static constexpr uint64_t kSpKeep[3] = {~0xFFFFull, 0, 0};
  void set_rsp(uint64_t v) { s.gpr[RSP] = (s.gpr[RSP] & kSpKeep[stack_mode]) | (v & sp_mask()); }
  template <class T> void push(T v) {
    const uint64_t old = s.gpr[RSP];
    const uint64_t sp = (old - sizeof(T)) & sp_mask();
    // The new RSP is worked out before the store: a store through a host
    // pointer may alias anything, so afterwards the compiler would reload
    // stack_mode and the mask to do it (SP-only update in 16-bit stacks).
    const uint64_t new_rsp = (old & kSpKeep[stack_mode]) | sp;
    write<T>(SS, sp, v);
    s.gpr[RSP] = new_rsp;
  }
  template <class T> T pop() {
    T v = read<T>(SS, rsp());
    set_rsp(rsp() + sizeof(T));
    return v;
  }
  template <class T> T peek(unsigned offset = 0) { return read<T>(SS, (s.gpr[RSP] + offset) & sp_mask()); }
  // The stack operations of an instruction whose operand type is T. A
  // 64-bit operand size exists only in 64-bit mode (handlers templated on it
  // run only from blocks decoded for 64-bit code: blocks are cached per code
  // mode), where the stack pointer is all of RSP whatever SS.B says and SS
  // has base 0 and no limit (SDM Vol. 1 6.14.2, Vol. 3A 3.2.4): no masks and
  // no segment check. A non-canonical RSP never hits the TLB; the slow path
  // raises #SS(0) for it. Other sizes take the general push()/peek().
  template <class T> void push_op(T v) {
    if constexpr (sizeof(T) == 8) {
      const uint64_t sp = s.gpr[RSP] - 8;
      write_lin<T>(sp, v, SS);
      s.gpr[RSP] = sp;  // after the store: a faulting push changes nothing
    } else {
      push<T>(v);
    }
  }
  template <class T> T peek_op() {
    if constexpr (sizeof(T) == 8) return read_lin<T>(s.gpr[RSP], SS);
    else return peek<T>();
  }
  // The inline cases of push_op/peek_op at a 64-bit operand size: the stack
  // slot hits the soft TLB. They return false, having done nothing,
  // otherwise; the caller then runs its general path out of line.
  bool push64_hit(uint64_t v) {
    const uint64_t sp = s.gpr[RSP] - 8;
    uint8_t* p;
    if (!host_hit<uint64_t>(sp, AccessKind::Write, p)) return false;
    std::memcpy(p, &v, sizeof v);
    s.gpr[RSP] = sp;
    return true;
  }
  bool peek64_hit(uint64_t& v) const {
    uint8_t* p;
    if (!host_hit<uint64_t>(s.gpr[RSP], AccessKind::Read, p)) return false;
    std::memcpy(&v, p, sizeof v);
    return true;
  }
  // Moves the stack pointer up by `n` bytes after a peek_op<T>() (POP, RET).
  template <class T> void release_op(uint64_t n) {
    if constexpr (sizeof(T) == 8) s.gpr[RSP] += n;
    else set_rsp(rsp() + n);
  }

  // ---------------- segments & modes (segment.cpp) ----------------
  void update_segment_checks(unsigned seg);
  void update_mode();  // after CR0/EFER/CS changes: code/stack mode, all checks
  void load_segment_real(unsigned seg, uint16_t sel);
  // Loads a data/stack segment register from a selector with the protected
  // mode checks (SDM Vol. 3A 5.4-5.6); also used for MOV/POP/LDS....
  void load_segment(unsigned seg, uint16_t sel);
  struct Descriptor {
    uint32_t lo = 0, hi = 0;
    uint32_t hi2 = 0;  // bits 64-95 of a 16-byte system descriptor
    uint64_t base() const { return (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u); }
    uint32_t limit() const {
      uint32_t l = (lo & 0xFFFF) | (hi & 0xF0000);
      return (hi & 0x800000) ? (l << 12) | 0xFFF : l;
    }
    uint16_t attr() const { return ((hi >> 8) & 0xFF) | (((hi >> 20) & 0xF) << 12); }
    unsigned dpl() const { return (hi >> 13) & 3; }
    bool present() const { return hi & 0x8000; }
    bool s() const { return hi & 0x1000; }
    bool l() const { return hi & 0x200000; }
    unsigned type() const { return (hi >> 8) & 0xF; }
  };
  // Reads the descriptor for `sel` (GDT or LDT); false if beyond the table limit.
  bool read_descriptor(uint16_t sel, Descriptor& d, bool wide = false);
  void set_accessed(uint16_t sel, Descriptor& d);
  Segment segment_from(uint16_t sel, const Descriptor& d) const;
  void set_segment(unsigned seg, const Segment& sc);
  // Far transfers (control.cpp uses these; SDM Vol. 2 JMP/CALL/RET/IRET).
  void far_jump(uint16_t sel, uint64_t offset, unsigned osize);
  void far_call(uint16_t sel, uint64_t offset, unsigned osize);
  void far_return(unsigned osize, uint16_t pop_bytes);
  void iret(unsigned osize);
  void load_cs_checked_for_return(uint16_t sel, const Descriptor& d, unsigned rpl);
  // Hardware task switch to the TSS `sel` (descriptor `d`), task.cpp.
  // `return_rip` is saved as the outgoing task's EIP.
  enum class TaskSwitchReason { Jmp, Call, Interrupt, Iret };
  void task_switch(uint16_t sel, Descriptor d, TaskSwitchReason reason, uint64_t return_rip, bool has_error = false,
                   uint32_t error = 0);
  // Task gate / TSS descriptor as the target of JMP/CALL/INT. `ext` (0 or 1)
  // is the EXT bit of the event being delivered: it goes into the error code
  // of any #TS/#NP/#SS/#GP the switch raises.
  void task_gate_or_tss(uint16_t sel, const Descriptor& d, TaskSwitchReason reason, uint64_t return_rip,
                        bool has_error = false, uint32_t error = 0, uint32_t ext = 0);

  // ---------------- interrupts (interrupts.cpp) ----------------
  // Delivers an interrupt or exception through the IVT/IDT. `soft` is INT n
  // (privilege-checked against the gate DPL, RIP after the instruction).
  void deliver(uint8_t vector, bool has_error, uint32_t error, bool soft, uint64_t return_rip);
  void deliver_fault(const GuestFault& f);  // with #DF / triple-fault rules
  // INT n (opcode CD): IOPL-sensitive in virtual-8086 mode, where CR4.VME may
  // redirect it to the 8086 program's IVT (SDM Vol. 3A 20.3.3).
  void software_interrupt(uint8_t vector, uint64_t return_rip);
  void triple_fault(const char* why);
  bool service_interrupts();  // NMI/INTR between blocks; true if one was taken
  void poll_interrupts();     // service_interrupts() when irq_poll/irq_key say so
  // The CPU-side gates of interrupt delivery, as irq_key records them.
  unsigned irq_gates() const {
    static_assert(IF != 1, "irq_key keeps IF in place and NMI blocking in bit 0");
    return static_cast<unsigned>(s.rflags & IF) | (nmi_blocked ? 1u : 0u);
  }
  unsigned fault_nesting = 0;
  uint8_t first_fault = 0xFF;

  // ---------------- system (system.cpp) ----------------
  void write_cr0(uint64_t v);
  void write_cr3(uint64_t v);
  void write_cr4(uint64_t v);
  void write_efer(uint64_t v);
  bool read_msr(uint32_t idx, uint64_t& v);
  bool write_msr(uint32_t idx, uint64_t v);
  uint64_t tsc() const { return time_base_ns + retired + s.tsc_offset; }
  void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]) const;
  // I/O permission (SDM Vol. 1 18.5): #GP unless CPL <= IOPL or the TSS bitmap allows.
  void check_io(uint16_t port, unsigned size);

  // ---------------- execution ----------------
  void reset();
  uint64_t run(uint64_t budget);
  void run_one_debug(const Insn& insn, uint64_t lin);
  void code_page_written(uint64_t page_paddr) override;
  const Block* running_block = nullptr;
  Block scratch_;  // reused for blocks that are not cached
};

}  // namespace pc64

#include "cpu/lazy_flags.h"
