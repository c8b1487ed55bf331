; Faults raised by a task switch through a task gate in the IDT, and the EXT
; bit of their error codes (SDM Vol. 3A 6.13, 7.3; Vol. 2A INT n TASK-GATE):
; EXT is 0 for INT n and 1 for an external interrupt or an exception. Starts
; in real mode at 0000:1000 and reports 32-bit words on port 0xF4; exceptions
; report 0xE0000000 | vector << 16 | (error code & 0xFFFF) and resume at
; [resume]. Writing a vector to port 0xF5 makes the test's interrupt source
; raise it as an external interrupt (tests/cpu/protection_test.cpp).
%include "common.inc"
%macro RESUME 1
    mov dword [resume], %1
%endmacro
; External interrupt %1: raised by the test's source, taken at the HLT; the
; fault it causes resumes right after, with interrupts off again.
%macro EXTINT 1
    RESUME %%back
    mov al, %1
    out 0xF5, al
    sti
    hlt
%%back:
    cli
%endmacro

K_CODE32  equ 0x08
K_DATA    equ 0x10
TSS_A     equ 0x18                ; the running task (busy after LTR)
TSS_NP    equ 0x20                ; not present
TSS_SMALL equ 0x28                ; limit 0x2B: too small for a 32-bit TSS
LDT_SEL   equ 0x30
TSS_LOCAL equ 0x0C                ; TI = 1: a TSS must be in the GDT

START_PM32_WITH_ISRS
    ; #UD goes through a task gate to the too-small TSS.
    mov dword [idt + 6*8], TSS_SMALL << 16
    mov dword [idt + 6*8 + 4], 0x8500
    lidt [idt_desc]
    mov ax, TSS_A
    ltr ax
    mov ax, LDT_SEL
    lldt ax
    REPORT 0x01
    ; INT n: EXT = 0.
    RESUME .a
    int 0x40                      ; TSS not present: #NP(0x20)
.a: RESUME .b
    int 0x41                      ; TSS limit too small: #TS(0x28)
.b: RESUME .c
    int 0x42                      ; TSS busy: #GP(0x18)
.c: RESUME .d
    int 0x43                      ; TSS selector in the LDT: #GP(0x0C)
.d: REPORT 0x02
    ; External interrupts: EXT = 1.
    EXTINT 0x40                   ; #NP(0x21)
    EXTINT 0x41                   ; #TS(0x29)
    EXTINT 0x42                   ; #GP(0x19)
    EXTINT 0x43                   ; #GP(0x0D)
    REPORT 0x03
    ; An exception (#UD, benign) through a task gate: EXT = 1, and the #TS
    ; is delivered as is.
    RESUME .i
    ud2                           ; #TS(0x29)
.i: REPORT 0x04
    hlt

ISR_STUBS isr
ISR32_REPORT_RESUME isr, K_DATA

; ---------------------------------------------------------------- data
GDT_FLAT32
    dw 0x67, tss_a, 0x8900, 0     ; 0x18 TSS A
    dw 0x67, tss_b, 0x0900, 0     ; 0x20 32-bit TSS, not present
    dw 0x2B, tss_b, 0x8900, 0     ; 0x28 32-bit TSS, limit too small
    dw 15, ldt, 0x8200, 0         ; 0x30 LDT
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 0x44*8 - 1
    dd idt
resume: dd 0

isr_table:
ISR_TABLE isr, dd

align 8
ldt:
    dq 0
    dw 0x67, tss_b, 0x8900, 0     ; 0x0C: a TSS descriptor, but in the LDT

align 16
tss_a: times 0x68 db 0
align 16
tss_b: times 0x68 db 0
align 8
idt:
    times 0x40*8 db 0
    dw 0, TSS_NP, 0x8500, 0       ; 0x40 task gates, DPL 0
    dw 0, TSS_SMALL, 0x8500, 0    ; 0x41
    dw 0, TSS_A, 0x8500, 0        ; 0x42
    dw 0, TSS_LOCAL, 0x8500, 0    ; 0x43
