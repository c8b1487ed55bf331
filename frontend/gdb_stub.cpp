#include "frontend/gdb_stub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "frontend/debug_control.h"
#include "frontend/expression.h"

namespace pc64 {

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string to_hex(const uint8_t* p, size_t n) {
  std::string r;
  r.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    r += kHex[p[i] >> 4];
    r += kHex[p[i] & 15];
  }
  return r;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(std::string_view h, std::vector<uint8_t>& out) {
  if (h.size() % 2) return false;
  out.clear();
  for (size_t i = 0; i < h.size(); i += 2) {
    int a = hex_digit(h[i]), b = hex_digit(h[i + 1]);
    if (a < 0 || b < 0) return false;
    out.push_back(static_cast<uint8_t>(a << 4 | b));
  }
  return true;
}

// A hex number (gdb sends addresses and lengths in hex, no 0x).
bool parse_hex(std::string_view s, uint64_t& v) {
  if (s.empty() || s.size() > 16) return false;
  v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0) return false;
    v = v << 4 | static_cast<unsigned>(d);
  }
  return true;
}

// "ADDR,LEN" (and the rest after the first of `stop`, if any).
bool parse_addr_len(std::string_view s, uint64_t& addr, uint64_t& len, std::string_view* rest = nullptr) {
  size_t comma = s.find(',');
  if (comma == std::string_view::npos) return false;
  size_t end = s.find_first_of(":;", comma);
  if (!parse_hex(s.substr(0, comma), addr)) return false;
  if (!parse_hex(s.substr(comma + 1, end == std::string_view::npos ? std::string_view::npos : end - comma - 1), len))
    return false;
  if (rest) *rest = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
  return true;
}

// One register of a target description: what gdb calls it and where it
// lives in the CPU. The list order is gdb's register numbering (the 'g'
// packet layout and 'p'/'P' numbers).
enum class RegKind : uint8_t { Gpr, Rip, Eflags, Seg, St, FpuControl, Xmm, Mxcsr, FsBase, GsBase, KernelGsBase, Control };
struct GdbRegister {
  std::string name;
  unsigned bits;
  const char* type;
  const char* group;  // nullptr: gdb's default for the type
  RegKind kind;
  unsigned index;     // GPR number, segment, ST(i), FPU control word 0-7, XMM, control register kind
  const char* feature;
};

// Feature names gdb's i386/amd64 code looks for (gdb manual, "i386 Features");
// the system registers go in a feature of ours, which gdb shows as plain
// registers (`info registers cr0`, `p $efer`).
constexpr const char* kCore = "org.gnu.gdb.i386.core";
constexpr const char* kSse = "org.gnu.gdb.i386.sse";
constexpr const char* kSegments = "org.gnu.gdb.i386.segments";
constexpr const char* kSystem = "org.pc64.gdb.i386.system";

std::vector<GdbRegister> make_registers(bool amd64) {
  std::vector<GdbRegister> r;
  const unsigned w = amd64 ? 64 : 32;
  if (amd64) {
    // features/i386/64bit-core.xml order.
    static constexpr const char* kNames[16] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                               "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    static constexpr unsigned kGpr[16] = {RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8, R9, R10, R11, R12, R13, R14, R15};
    for (unsigned i = 0; i < 16; ++i)
      r.push_back({kNames[i], 64, kGpr[i] == RBP || kGpr[i] == RSP ? "data_ptr" : "int64", nullptr, RegKind::Gpr, kGpr[i], kCore});
    r.push_back({"rip", 64, "code_ptr", nullptr, RegKind::Rip, 0, kCore});
  } else {
    // features/i386/32bit-core.xml order: the hardware's register numbers.
    static constexpr const char* kNames[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (unsigned i = 0; i < 8; ++i)
      r.push_back({kNames[i], 32, i == RSP || i == RBP ? "data_ptr" : "int32", nullptr, RegKind::Gpr, i, kCore});
    r.push_back({"eip", 32, "code_ptr", nullptr, RegKind::Rip, 0, kCore});
  }
  r.push_back({"eflags", 32, "i386_eflags", nullptr, RegKind::Eflags, 0, kCore});
  static constexpr unsigned kSeg[6] = {CS, SS, DS, ES, FS, GS};
  static constexpr const char* kSegNames[6] = {"cs", "ss", "ds", "es", "fs", "gs"};
  for (unsigned i = 0; i < 6; ++i) r.push_back({kSegNames[i], 32, "int32", nullptr, RegKind::Seg, kSeg[i], kCore});
  for (unsigned i = 0; i < 8; ++i) r.push_back({"st" + std::to_string(i), 80, "i387_ext", nullptr, RegKind::St, i, kCore});
  static constexpr const char* kFpu[8] = {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"};
  for (unsigned i = 0; i < 8; ++i) r.push_back({kFpu[i], 32, "int", "float", RegKind::FpuControl, i, kCore});
  for (unsigned i = 0; i < (amd64 ? 16u : 8u); ++i)
    r.push_back({"xmm" + std::to_string(i), 128, "vec128", nullptr, RegKind::Xmm, i, kSse});
  r.push_back({"mxcsr", 32, "i386_mxcsr", "vector", RegKind::Mxcsr, 0, kSse});
  // gdb 13 numbers the segments feature's registers only for amd64 (and
  // i386 GNU/Linux); a bare i386 gdbarch has no room for them and asserts,
  // so for i386 they are plain registers of our system feature.
  const char* bases = amd64 ? kSegments : kSystem;
  r.push_back({"fs_base", w, "int", nullptr, RegKind::FsBase, 0, bases});
  r.push_back({"gs_base", w, "int", nullptr, RegKind::GsBase, 0, bases});
  using K = RegisterRef::Kind;
  if (amd64) r.push_back({"k_gs_base", 64, "int", "system", RegKind::KernelGsBase, 0, kSystem});
  r.push_back({"cr0", w, "int", "system", RegKind::Control, static_cast<unsigned>(K::Cr0), kSystem});
  r.push_back({"cr2", w, "int", "system", RegKind::Control, static_cast<unsigned>(K::Cr2), kSystem});
  r.push_back({"cr3", w, "int", "system", RegKind::Control, static_cast<unsigned>(K::Cr3), kSystem});
  r.push_back({"cr4", w, "int", "system", RegKind::Control, static_cast<unsigned>(K::Cr4), kSystem});
  if (amd64) r.push_back({"cr8", 64, "int", "system", RegKind::Control, static_cast<unsigned>(K::Cr8), kSystem});
  r.push_back({"efer", 64, "int", "system", RegKind::Control, static_cast<unsigned>(K::Efer), kSystem});
  return r;
}

const std::vector<GdbRegister>& registers_for(bool amd64) {
  static const std::vector<GdbRegister> k64 = make_registers(true), k32 = make_registers(false);
  return amd64 ? k64 : k32;
}

// Types the registers above name (gdb manual, "Target Description Format"),
// declared in the feature that uses them.
constexpr const char* kSseTypes =
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
    "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
    "<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>\n"
    // MXCSR bits (SDM Vol. 1 10.2.3).
    "<flags id=\"i386_mxcsr\" size=\"4\"><field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
    "<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/><field name=\"UE\" start=\"4\" end=\"4\"/>"
    "<field name=\"PE\" start=\"5\" end=\"5\"/><field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
    "<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/><field name=\"OM\" start=\"10\" end=\"10\"/>"
    "<field name=\"UM\" start=\"11\" end=\"11\"/><field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n";
// RFLAGS bits (SDM Vol. 1 3.4.3).
constexpr const char* kCoreTypes =
    "<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
    "<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
    "<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
    "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/></flags>\n";

}  // namespace

GdbStub::~GdbStub() {
  if (fd_ >= 0) close(fd_);
  if (listen_fd_ >= 0) close(listen_fd_);
}

void GdbStub::listen(uint16_t port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("gdb stub: socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only: the stub gives full control of the guest
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(listen_fd_, 1) < 0)
    throw std::runtime_error("gdb stub: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

bool GdbStub::send_packet(const std::string& payload) {
  uint8_t sum = 0;
  std::string escaped;
  for (char c : payload) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {  // binary escape (RSP "Binary Data")
      escaped += '}';
      c = static_cast<char>(c ^ 0x20);
      sum = static_cast<uint8_t>(sum + '}');
    }
    escaped += c;
    sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  }
  std::string frame = "$" + escaped + "#" + kHex[sum >> 4] + kHex[sum & 15];
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) return false;
    if (no_ack_) return true;
    // Wait for '+' (or '-': send again).
    for (;;) {
      if (inbuf_.empty()) {
        char b[4096];
        ssize_t n = recv(fd_, b, sizeof b, 0);
        if (n <= 0) return false;
        inbuf_.append(b, static_cast<size_t>(n));
      }
      char c = inbuf_[0];
      if (c == '+') {
        inbuf_.erase(0, 1);
        return true;
      }
      if (c == '-') {
        inbuf_.erase(0, 1);
        break;
      }
      if (c == 0x03) {
        interrupted_ = true;
        inbuf_.erase(0, 1);
        continue;
      }
      return true;  // a new packet already: take the ack as lost
    }
  }
  return true;
}

bool GdbStub::read_packet(std::string& payload) {
  for (;;) {
    size_t start = inbuf_.find('$');
    if (inbuf_.find('\x03') < start) {
      interrupted_ = true;
      inbuf_.erase(inbuf_.find('\x03'), 1);
      continue;
    }
    if (start != std::string::npos) {
      size_t hash = inbuf_.find('#', start);
      if (hash != std::string::npos && hash + 2 < inbuf_.size()) {
        std::string body = inbuf_.substr(start + 1, hash - start - 1);
        int h = hex_digit(inbuf_[hash + 1]), l = hex_digit(inbuf_[hash + 2]);
        inbuf_.erase(0, hash + 3);
        uint8_t sum = 0;
        for (char c : body) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
        if (h < 0 || l < 0 || sum != (h << 4 | l)) {
          if (!no_ack_) ::send(fd_, "-", 1, MSG_NOSIGNAL);
          continue;
        }
        if (!no_ack_) ::send(fd_, "+", 1, MSG_NOSIGNAL);
        payload.clear();
        for (size_t i = 0; i < body.size(); ++i) {
          if (body[i] == '}' && i + 1 < body.size()) payload += static_cast<char>(body[++i] ^ 0x20);
          else payload += body[i];
        }
        return true;
      }
    } else {
      inbuf_.clear();  // acks and noise before a packet
    }
    char b[4096];
    ssize_t n = recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    inbuf_.append(b, static_cast<size_t>(n));
  }
}

bool GdbStub::interrupt_pending() {
  if (interrupted_) return true;
  pollfd p{fd_, POLLIN, 0};
  while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
    char b[256];
    ssize_t n = recv(fd_, b, sizeof b, 0);
    if (n <= 0) {
      interrupted_ = true;  // gdb went away: stop, serve() notices
      break;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (b[i] == 0x03) interrupted_ = true;
      else inbuf_ += b[i];
    }
  }
  return interrupted_;
}

bool GdbStub::amd64() {
  // Chosen once per connection (the 'g' layout must not change under gdb):
  // a guest in long mode gets i386:x86-64, any other (real, protected,
  // virtual-8086 mode) i386, as `set architecture i386` expects. gdb reads
  // the description again when it reconnects.
  if (arch_ == Arch::Auto) arch_ = (m_.cpu().state().efer & EFER_LMA) ? Arch::X86_64 : Arch::I386;
  return arch_ == Arch::X86_64;
}

std::string GdbStub::target_xml(bool amd64) {
  std::string x = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target>\n<architecture>";
  x += amd64 ? "i386:x86-64" : "i386";
  x += "</architecture>\n";
  const char* feature = nullptr;
  unsigned n = 0;
  for (const GdbRegister& r : registers_for(amd64)) {
    if (r.feature != feature) {
      if (feature) x += "</feature>\n";
      feature = r.feature;
      x += "<feature name=\"" + std::string(feature) + "\">\n";
      if (feature == kCore) x += kCoreTypes;
      if (feature == kSse) x += kSseTypes;
    }
    x += "<reg name=\"" + r.name + "\" bitsize=\"" + std::to_string(r.bits) + "\" type=\"" + r.type + "\" regnum=\"" +
         std::to_string(n++) + "\"" + (r.group ? std::string(" group=\"") + r.group + "\"" : "") + "/>\n";
  }
  x += "</feature>\n</target>\n";
  return x;
}

bool GdbStub::read_register(unsigned n, std::string& out) {
  const auto& regs = registers_for(amd64());
  if (n >= regs.size()) return false;
  const GdbRegister& r = regs[n];
  Cpu& cpu = m_.cpu();
  CpuState& s = cpu.state();
  uint8_t b[16] = {};
  auto put = [&](uint64_t v) { std::memcpy(b, &v, 8); };
  switch (r.kind) {
    case RegKind::Gpr: put(s.gpr[r.index]); break;
    case RegKind::Rip: put(s.rip); break;
    case RegKind::Eflags: put(cpu.rflags()); break;
    case RegKind::Seg: put(s.seg[r.index].selector); break;
    case RegKind::St: {
      const Float80& f = s.fpu.st(r.index);
      std::memcpy(b, &f.mant, 8);
      std::memcpy(b + 8, &f.se, 2);
      break;
    }
    case RegKind::FpuControl: {
      const FpuState& f = s.fpu;
      const uint64_t v[8] = {f.fcw, f.fsw, f.full_tag(), f.fcs, f.fip, f.fds, f.fdp, f.fop};
      put(v[r.index] & 0xFFFFFFFF);
      break;
    }
    case RegKind::Xmm: std::memcpy(b, s.fpu.xmm[r.index].u8, 16); break;
    case RegKind::Mxcsr: put(s.fpu.mxcsr); break;
    case RegKind::FsBase: put(s.seg[FS].base); break;
    case RegKind::GsBase: put(s.seg[GS].base); break;
    case RegKind::KernelGsBase: put(s.kernel_gs_base); break;
    case RegKind::Control:
      put(pc64::read_register(cpu, RegisterRef{static_cast<RegisterRef::Kind>(r.index), 0, 64, 0}));
      break;
  }
  out += to_hex(b, r.bits / 8);  // little-endian, truncated to the register's size
  return true;
}

bool GdbStub::write_register(unsigned n, std::string_view hex) {
  const auto& regs = registers_for(amd64());
  std::vector<uint8_t> b;
  if (n >= regs.size() || !from_hex(hex, b) || b.size() != regs[n].bits / 8) return false;
  const GdbRegister& r = regs[n];
  Cpu& cpu = m_.cpu();
  CpuState& s = cpu.state();
  uint64_t v = 0;
  std::memcpy(&v, b.data(), std::min<size_t>(8, b.size()));
  // A 32-bit description writes the low half: the upper half stays (it is
  // the guest's, should it be in long mode after all).
  auto merge = [&](uint64_t old) { return r.bits >= 64 ? v : (old & ~0xFFFFFFFFull) | (v & 0xFFFFFFFF); };
  switch (r.kind) {
    case RegKind::Gpr: s.gpr[r.index] = merge(s.gpr[r.index]); break;
    case RegKind::Rip: s.rip = merge(s.rip); break;
    case RegKind::Eflags:
      cpu.rflags();  // fold the lazy flags first, so the new value is the whole truth
      s.rflags = (v & 0x3F7FD7) | 2;  // reserved bits keep their fixed values (SDM Vol. 1 3.4.3)
      break;
    case RegKind::Seg:
      // Loading a selector needs a descriptor fetch with checks; accept only
      // the unchanged value (gdb's G writes every register back).
      if ((v & 0xFFFF) != s.seg[r.index].selector) return false;
      break;
    case RegKind::St: {
      Float80& f = s.fpu.st(r.index);
      std::memcpy(&f.mant, b.data(), 8);
      std::memcpy(&f.se, b.data() + 8, 2);
      break;
    }
    case RegKind::FpuControl: {
      FpuState& f = s.fpu;
      switch (r.index) {
        case 0: f.fcw = static_cast<uint16_t>(v); break;
        case 1: f.fsw = static_cast<uint16_t>(v); break;
        case 2: f.set_full_tag(static_cast<uint16_t>(v)); break;
        case 3: f.fcs = static_cast<uint16_t>(v); break;
        case 4: f.fip = v & 0xFFFFFFFF; break;
        case 5: f.fds = static_cast<uint16_t>(v); break;
        case 6: f.fdp = v & 0xFFFFFFFF; break;
        default: f.fop = static_cast<uint16_t>(v & 0x7FF);
      }
      break;
    }
    case RegKind::Xmm: std::memcpy(s.fpu.xmm[r.index].u8, b.data(), 16); break;
    case RegKind::Mxcsr:
      if (v & ~uint64_t(kMxcsrMask)) return false;
      s.fpu.mxcsr = static_cast<uint32_t>(v);
      break;
    case RegKind::FsBase: s.seg[FS].base = merge(s.seg[FS].base); break;
    case RegKind::GsBase: s.seg[GS].base = merge(s.seg[GS].base); break;
    case RegKind::KernelGsBase: s.kernel_gs_base = v; break;
    case RegKind::Control: {
      // The monitor's `set cr0=...` path: same register slice rules, and the
      // CPU recomputes its mode and drops cached translations.
      RegisterRef ref{static_cast<RegisterRef::Kind>(r.index), 0, static_cast<uint8_t>(r.bits), 0};
      std::string err;
      return pc64::write_register(cpu, ref, v, err);
    }
  }
  cpu.state_changed();
  return true;
}

std::string GdbStub::read_registers() {
  std::string r;
  const size_t count = registers_for(amd64()).size();
  for (unsigned n = 0; n < count; ++n) read_register(n, r);
  return r;
}

bool GdbStub::write_registers(std::string_view hex) {
  const auto& regs = registers_for(amd64());
  size_t off = 0;
  for (unsigned n = 0; n < regs.size() && off < hex.size(); ++n) {
    size_t len = regs[n].bits / 4;
    if (off + len > hex.size()) return false;
    std::string_view h = hex.substr(off, len);
    // Segment selectors: skip unchanged values quietly (see write_register).
    if (regs[n].kind != RegKind::Seg && !write_register(n, h)) return false;
    off += len;
  }
  return true;
}

std::string GdbStub::stop_reply(ExitReason r, const DebugStopInfo& stop) {
  char b[96];
  switch (r) {
    case ExitReason::PowerOff: return "W00";
    case ExitReason::TripleFault: return "X0b";  // SIGSEGV-like: the machine is dead
    case ExitReason::Paused:
    case ExitReason::Stopped: return "T02thread:01;";  // SIGINT
    case ExitReason::Breakpoint:
      if (stop.kind == DebugStopInfo::Kind::Watchpoint) {
        const char* kind = "watch";
        for (const auto& w : m_.cpu().debug().watchpoints())
          if (w.id == stop.id) kind = w.kind == WatchKind::Read ? "rwatch" : w.kind == WatchKind::Access ? "awatch" : "watch";
        std::snprintf(b, sizeof b, "T05%s:%" PRIx64 ";thread:01;", kind, stop.address);
        return b;
      }
      if (stop.kind == DebugStopInfo::Kind::Breakpoint) return "T05swbreak:;thread:01;";
      return "T05thread:01;";
    default: return "T05thread:01;";  // step done, halted
  }
}

std::string GdbStub::resume(bool step, std::string_view addr) {
  if (!addr.empty()) {
    uint64_t a;
    if (!parse_hex(addr, a)) return "E01";
    m_.cpu().state().rip = a;
  }
  interrupted_ = false;
  RunOutcome o = run_guest(m_, step ? 1 : 0, [this] { return interrupt_pending(); });
  interrupted_ = false;
  last_stop_ = stop_reply(o.reason, o.stop);
  return last_stop_;
}

std::string GdbStub::breakpoint_packet(std::string_view p, bool insert) {
  // Z/z TYPE,ADDR,KIND: 0 software, 1 hardware (both: an execution
  // breakpoint in the engine), 2 write, 3 read, 4 access watchpoint.
  if (p.size() < 4 || p[2] != ',' || p[1] < '0' || p[1] > '4') return "";
  int type = p[1] - '0';
  uint64_t addr, len;
  if (!parse_addr_len(p.substr(3), addr, len)) return "E01";
  DebugTraps& dbg = m_.cpu().debug();
  if (!insert) {
    for (size_t i = 0; i < inserted_.size(); ++i)
      if (inserted_[i].type == type && inserted_[i].addr == addr && (type < 2 || inserted_[i].len == len)) {
        if (type < 2) dbg.remove_breakpoint(inserted_[i].id);
        else dbg.remove_watchpoint(inserted_[i].id);
        inserted_.erase(inserted_.begin() + static_cast<long>(i));
        return "OK";
      }
    return "OK";  // gdb may remove what a reset already dropped
  }
  int id;
  if (type < 2) id = dbg.add_breakpoint(addr, false);
  else {
    if (len == 0 || len > 4096) return "E01";
    id = dbg.add_watchpoint(addr, len, false, type == 2 ? WatchKind::Write : type == 3 ? WatchKind::Read : WatchKind::Access);
  }
  inserted_.push_back({type, addr, len, id});
  return "OK";
}

std::string GdbStub::handle(std::string_view p) {
  if (p.empty()) return "";
  switch (p[0]) {
    case '?': return last_stop_;
    case 'g': return read_registers();
    case 'G': return write_registers(p.substr(1)) ? "OK" : "E01";
    case 'p': {
      uint64_t n;
      std::string r;
      if (!parse_hex(p.substr(1), n) || !read_register(static_cast<unsigned>(n), r)) return "E01";
      return r;
    }
    case 'P': {
      size_t eq = p.find('=');
      uint64_t n;
      if (eq == std::string_view::npos || !parse_hex(p.substr(1, eq - 1), n)) return "E01";
      return write_register(static_cast<unsigned>(n), p.substr(eq + 1)) ? "OK" : "E01";
    }
    case 'm': {
      uint64_t addr, len;
      if (!parse_addr_len(p.substr(1), addr, len) || len > 0x10000) return "E01";
      std::vector<uint8_t> buf(len);
      std::string err;
      if (!debugger_read_linear(m_, addr, buf.data(), len, err)) return "E14";  // EFAULT
      return to_hex(buf.data(), len);
    }
    case 'M':
    case 'X': {
      uint64_t addr, len;
      std::string_view data;
      if (!parse_addr_len(p.substr(1), addr, len, &data)) return "E01";
      std::vector<uint8_t> buf;
      if (p[0] == 'M') {
        if (!from_hex(data, buf)) return "E01";
      } else {
        buf.assign(data.begin(), data.end());  // already unescaped by read_packet
      }
      if (buf.size() != len) return "E01";
      std::string err;
      if (len && !debugger_write_linear(m_, addr, buf.data(), len, err)) return "E14";
      return "OK";
    }
    case 'Z': return breakpoint_packet(p, true);
    case 'z': return breakpoint_packet(p, false);
    case 'H': return "OK";
    case 'T': return "OK";  // thread 1 is alive
    case 'k':
      pending_ = Pending::Kill;
      return "OK";
    case 'D':
      pending_ = Pending::Detach;
      return "OK";
    case 'c': return resume(false, p.substr(1));
    case 's': return resume(true, p.substr(1));
    default: break;
  }
  if (p.starts_with("vCont?")) return "vCont;c;C;s;S";
  if (p.starts_with("vCont;")) {
    // One thread: the first action decides (c, C sig, s, S sig).
    char a = p.size() > 6 ? p[6] : 'c';
    return resume(a == 's' || a == 'S', "");
  }
  if (p.starts_with("qSupported")) {
    arch_ = configured_arch_;  // a new session: choose the description again
    amd64();
    return "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+";
  }
  if (p == "QStartNoAckMode") return "OK";  // serve() switches after the acknowledged reply
  if (p.starts_with("qXfer:features:read:target.xml:")) {
    uint64_t off, len;
    if (!parse_addr_len(p.substr(31), off, len)) return "E01";
    std::string x = target_xml(amd64());
    if (off >= x.size()) return "l";
    std::string chunk = x.substr(off, len);
    return (off + chunk.size() >= x.size() ? "l" : "m") + chunk;
  }
  if (p == "qAttached") return "1";
  if (p == "qC") return "QC01";
  if (p == "qfThreadInfo") return "m01";
  if (p == "qsThreadInfo") return "l";
  if (p.starts_with("qRcmd,")) {
    std::vector<uint8_t> cmd;
    if (!from_hex(p.substr(6), cmd)) return "E01";
    std::string out = monitor_.execute(std::string(cmd.begin(), cmd.end()));
    if (out.empty()) return "OK";
    // The output goes back as console text; gdb prints it.
    send_packet("O" + to_hex(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
    return "OK";
  }
  return "";  // not supported
}

bool GdbStub::connection_pending() const {
  pollfd p{listen_fd_, POLLIN, 0};
  return listen_fd_ >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

GdbStub::End GdbStub::serve() {
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  fd_ = accept(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len);
  if (fd_ < 0) throw std::runtime_error(std::string("gdb stub: accept: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Each connection starts afresh (gdb may detach and attach again).
  no_ack_ = false;
  interrupted_ = false;
  inbuf_.clear();
  pending_ = Pending::None;
  arch_ = configured_arch_;
  std::string packet;
  End end = End::Disconnected;
  while (read_packet(packet)) {
    std::string reply = handle(packet);
    if (!send_packet(reply)) break;
    if (packet == "QStartNoAckMode") no_ack_ = true;
    if (pending_ == Pending::Detach) {
      end = End::Detached;
      break;
    }
    if (pending_ == Pending::Kill) {
      end = End::Killed;
      break;
    }
  }
  // Leave nothing of gdb's behind: the guest runs on without breakpoints.
  for (const Inserted& i : inserted_) {
    if (i.type < 2) m_.cpu().debug().remove_breakpoint(i.id);
    else m_.cpu().debug().remove_watchpoint(i.id);
  }
  inserted_.clear();
  close(fd_);
  fd_ = -1;
  return end;
}

}  // namespace pc64
