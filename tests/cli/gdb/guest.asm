; A tiny multiboot (a.out kludge) guest for the gdb stub test: counts to 100
; in memory, then prints a marker on COM1 and powers off. Labels sit at fixed
; offsets so the test script knows their addresses.
bits 32
org 0x100000
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000            ; bit 16: load addresses in the header
header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd header, 0x100000, load_end, bss_end, start
start:                              ; 0x100020
    mov esp, 0x90000
    xor ecx, ecx
count:
    inc ecx
    mov [counter], ecx
    cmp ecx, 100
    jne count
    times 0x80 - ($ - $$) nop
marker:                             ; 0x100080
    mov dx, 0x3f8
    mov esi, msg
%include "print_and_power_off.inc"
msg: db "GDB-GUEST-DONE", 10, 0
    times 0x100 - ($ - $$) db 0
counter:                            ; 0x100100
    dd 0
load_end:
bss_end:
