; LAR/LSL/VERR/VERW in 64-bit mode (started by the test harness in flat long
; mode at CPL 0): 16-byte system descriptors, the system types IA-32e mode
; still accepts (LDT, 64-bit TSS, 64-bit call gate for LAR) and those it
; rejects (16-bit TSS, 16-bit call gate, task gate, interrupt gate).
; Same report format as descriptors.asm.
%include "common.inc"
bits 64
org 0x1000
    lgdt [gdt_desc]
    lea rsi, [sels]
.next:
    movzx ebx, word [rsi]
    ACCESS_RIGHTS_PROBE
    add rsi, 2
    cmp rsi, sels_end
    jb .next
    ; 64-bit destination: the 32-bit access rights, zero-extended.
    mov rax, -1
    mov bx, 0x08
    lar rax, bx
    shr rax, 32
    out PORT, eax                 ; 0
    mov rax, -1
    lsl rax, bx
    shr rax, 32
    out PORT, eax                 ; 0
    hlt

zf_bit:
    pushfq
    pop rdx
    shr edx, 6
    and edx, 1
    shl edi, 1
    or edi, edx
    ret

align 8
gdt:
    dq 0
    dq 0x00AF9B000000FFFF         ; 0x08 code64
    dq 0x00CF93000000FFFF         ; 0x10 data
    dw 0x17, 0x3000, 0x8200, 0, 0, 0, 0, 0   ; 0x18 LDT (16 bytes)
    dw 0x67, 0x3100, 0x8900, 0, 0, 0, 0, 0   ; 0x28 available 64-bit TSS
    dw 0x67, 0x3200, 0x8B00, 0, 0, 0, 0, 0   ; 0x38 busy 64-bit TSS
    dw 0x2000, 0x08, 0x8C00, 0, 0, 0, 0, 0   ; 0x48 64-bit call gate
    dw 0x2B, 0x3300, 0x8100, 0    ; 0x58 16-bit TSS: not in IA-32e mode
    dw 0x2000, 0x08, 0x8400, 0    ; 0x60 16-bit call gate: not in IA-32e mode
    dw 0, 0x58, 0x8500, 0         ; 0x68 task gate: not in IA-32e mode
    dw 0x2000, 0x08, 0x8E00, 0, 0, 0, 0, 0   ; 0x70 interrupt gate: never
    dq 0x00CFFB000000FFFF         ; 0x80 ring-3 code32
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dq gdt
sels:
    dw 0x08, 0x10, 0x18, 0x20, 0x28, 0x38, 0x48, 0x58, 0x60, 0x68, 0x70, 0x80, 0x88
sels_end:
