// IN / OUT through the PortIo interface, with the CPL/IOPL and TSS I/O
// bitmap checks (SDM Vol. 1 ch. 18).
#include "cpu/decoder.h"
#include "cpu/operands.h"

namespace pc64 {

namespace {

template <bool OUT, bool IMM> struct Io {
  template <class T> static void fn(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 8) {
      c.ud();
    } else {
      uint16_t port = IMM ? static_cast<uint16_t>(i.imm & 0xFF) : static_cast<uint16_t>(c.s.gpr[RDX]);
      c.check_io(port, sizeof(T));
      if (c.dbg.events()) c.dbg.on_port(c, port, sizeof(T));
      if (OUT) c.io.port_write(port, sizeof(T), c.reg<T>(0));
      else c.set_reg<T>(0, static_cast<T>(c.io.port_read(port, sizeof(T))));
      // A device may have raised an interrupt or asked the machine to stop.
      c.exit_block = true;
    }
  }
};

}  // namespace

bool build_io(Insn& i, const Decoded& d, unsigned out) {
  set_operands(i, d);
  // The accumulator is operand 0 for IN, operand 1 for OUT.
  unsigned acc = out ? 1 : 0;
  unsigned sz = d.op_size(acc);
  bool imm = d.is_imm(out ? 0 : 1);
  if (out) i.handler = imm ? by_size_plain<Io<true, true>>(sz) : by_size_plain<Io<true, false>>(sz);
  else i.handler = imm ? by_size_plain<Io<false, true>>(sz) : by_size_plain<Io<false, false>>(sz);
  return true;
}

}  // namespace pc64
