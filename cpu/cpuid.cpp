// The CPUID profile, in one table: a Core 2-class "GenuineIntel" family 6
// processor advertising exactly what pc64 implements (SDM Vol. 2 CPUID).
#include "cpu/core.h"

namespace pc64 {

namespace {

// CPUID.1:EDX / ECX integer and system features pc64 implements.
constexpr uint32_t kLeaf1Edx =
    (1u << 1) |   // VME (CR4.VME/PVI, VIF/VIP, interrupt redirection bitmap)
    (1u << 3) |   // PSE
    (1u << 4) |   // TSC
    (1u << 5) |   // MSR
    (1u << 6) |   // PAE
    (1u << 8) |   // CX8
    (1u << 9) |   // APIC (the machine has a local APIC at IA32_APIC_BASE)
    (1u << 11) |  // SEP (SYSENTER/SYSEXIT)
    (1u << 12) |  // MTRR (registers stored and read back)
    (1u << 13) |  // PGE
    (1u << 15) |  // CMOV
    (1u << 16) |  // PAT
    (1u << 17) |  // PSE-36
    (1u << 19);   // CLFSH
constexpr uint32_t kLeaf1Ecx =
    (1u << 13) |  // CMPXCHG16B
    (1u << 22) |  // MOVBE
    (1u << 23);   // POPCNT
// FPU/SSE: the FPU/SSE engineer ORs in FPU(0) MMX(23) FXSR(24) SSE(25)
// SSE2(26) in EDX and SSE3(0) SSSE3(9) ... in ECX here, with CR4.OSFXSR support.
constexpr uint32_t kLeaf1EdxFpuSse = (1u << 0) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);  // FPU MMX FXSR SSE SSE2
constexpr uint32_t kLeaf1EcxFpuSse = (1u << 0) | (1u << 9) | (1u << 19) | (1u << 20);  // SSE3 SSSE3 SSE4.1 SSE4.2
constexpr uint32_t kLeaf1EcxXsave = 1u << 26;    // XSAVE/XRSTOR/XGETBV/XSETBV, XCR0 = x87|SSE (leaf 0xD)
constexpr uint32_t kLeaf1EcxOsxsave = 1u << 27;  // OSXSAVE: a copy of CR4.OSXSAVE (SDM Vol. 2 CPUID)

constexpr uint32_t kExt1Edx = (1u << 11) |  // SYSCALL/SYSRET
                              (1u << 20) |  // NX
                              (1u << 27) |  // RDTSCP (with IA32_TSC_AUX)
                              (1u << 29);   // LM
constexpr uint32_t kExt1Ecx = (1u << 0) |   // LAHF/SAHF in 64-bit mode
                              (1u << 5);    // ABM (LZCNT)

constexpr char kBrand[48] = "pc64 virtual CPU (Core 2 class)";

void le_string(const char* s, uint32_t* out, unsigned words) {
  for (unsigned k = 0; k < words; ++k) {
    uint32_t v = 0;
    for (unsigned b = 0; b < 4; ++b) v |= uint32_t(static_cast<uint8_t>(s[4 * k + b])) << (8 * b);
    out[k] = v;
  }
}

}  // namespace

void Core::cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4]) const {
  // r = EAX, EBX, ECX, EDX
  r[0] = r[1] = r[2] = r[3] = 0;
  switch (leaf) {
    case 0:
      r[0] = 0xD;  // highest basic leaf (XSAVE's 0xD); 8-0xC read as zeros: no perfmon, no topology
      {  // EBX="Genu" EDX="ineI" ECX="ntel"
        uint32_t v[3];
        le_string("GenuineIntel", v, 3);
        r[1] = v[0];
        r[3] = v[1];
        r[2] = v[2];
      }
      break;
    case 1:
      r[0] = 0x00010676;                 // family 6, model 0x17 (Penryn), stepping 6
      r[1] = (8u << 8) | (1u << 16);     // CLFLUSH line 8*8 bytes, 1 logical processor, APIC ID 0
      r[2] = kLeaf1Ecx | kLeaf1EcxFpuSse | kLeaf1EcxXsave | ((s.cr4 & CR4_OSXSAVE) ? kLeaf1EcxOsxsave : 0);
      r[3] = kLeaf1Edx | kLeaf1EdxFpuSse;
      break;
    case 2:
      r[0] = 0x00000001;  // one iteration, no descriptors (leaf 4 has no caches either)
      break;
    case 4:
    case 6:
    case 7:
      break;  // no deterministic cache parameters, no thermal/power, no extended features
    case 0xD: fpu_cpuid_leaf_d(subleaf, s.fpu.xcr0, r); break;  // XSAVE state components and sizes
    case 0x80000000: r[0] = 0x80000008; break;
    case 0x80000001:
      r[2] = kExt1Ecx;
      r[3] = kExt1Edx;
      break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: le_string(kBrand + 16 * (leaf - 0x80000002), r, 4); break;
    case 0x80000008:
      r[0] = kMaxPhysAddrBits | (48u << 8);  // physical / linear address bits
      break;
    default:
      break;  // SDM: leaves above the maximum return the highest basic leaf's data; zeros suffice here
  }
}

}  // namespace pc64
