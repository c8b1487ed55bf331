; A multiboot guest for the gdb attach test (tests/cli/gdb_attach_test.sh):
; enters 64-bit long mode, puts known values in XMM0 and ST0, then spins
; until the byte `flag` (0x100200) becomes non-zero (gdb writes it), prints
; a marker on COM1 and powers off.
bits 32
org 0x100000
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000            ; bit 16: load addresses in the header
PML4 equ 0x200000                  ; page tables: PML4, PDPT, PD (identity, 2 MiB pages)
header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd header, 0x100000, load_end, bss_end, start
start:
    mov edi, PML4
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    mov dword [PML4], PML4 + 0x1003
    mov dword [PML4 + 0x1000], PML4 + 0x2003
    mov dword [PML4 + 0x2000], 0x000083
    mov dword [PML4 + 0x2008], 0x200083
    mov eax, cr4
    or eax, 0x620                   ; PAE, OSFXSR, OSXMMEXCPT
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xC0000080             ; EFER
    rdmsr
    or eax, 0x100                   ; LME
    wrmsr
    mov eax, cr0
    and eax, ~4                     ; EM off: SSE
    or eax, 0x80000003              ; PG, MP, PE
    mov cr0, eax
    lgdt [gdtr]
    jmp 0x08:long_start
bits 64
long_start:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, 0x90000
    movdqu xmm0, [pattern]
    fninit
    fld1
    fadd st0, st0                   ; ST0 = 2.0
spin:
    pause
    cmp byte [flag], 0
    je spin
    mov dx, 0x3f8
    mov rsi, msg
%include "print_and_power_off.inc"
align 16
pattern:
    dq 0x1122334455667788, 0x99aabbccddeeff00
gdt:
    dq 0, 0x00209A0000000000, 0x0000920000000000
gdtr:
    dw 23
    dd gdt
msg: db "GDB64-GUEST-DONE", 10, 0
    times 0x200 - ($ - $$) db 0
flag:                               ; 0x100200
    db 0
load_end:
bss_end:
