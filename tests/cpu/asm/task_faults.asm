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
SMALL_CS  equ 0x38                ; ring-0 code, limit 0xFFFF
TSS_D     equ 0x40                ; tasks whose EIP is beyond that limit
TSS_E     equ 0x48

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
    ; The new task's EIP beyond its CS limit: #GP(EXT) in the new task
    ; (SDM Vol. 2A INT n, TASK-GATE). The handler resumes in that task.
    RESUME .j
    int 0x44                      ; to task D: #GP(0)
.j: EXTINT 0x45                   ; task D to task E: #GP(1)
    str eax
    out PORT, eax                 ; TSS_E: still in task E
    REPORT 0x05
    hlt

ISR_STUBS isr
ISR32_REPORT_RESUME isr, K_DATA

; ---------------------------------------------------------------- data
GDT_FLAT32
    dw 0x67, tss_a, 0x8900, 0     ; 0x18 TSS A
    dw 0x67, tss_b, 0x0900, 0     ; 0x20 32-bit TSS, not present
    dw 0x2B, tss_b, 0x8900, 0     ; 0x28 32-bit TSS, limit too small
    dw 15, ldt, 0x8200, 0         ; 0x30 LDT
    dq 0x00409B000000FFFF         ; 0x38 SMALL_CS
    dw 0x67, tss_d, 0x8900, 0     ; 0x40 TSS D
    dw 0x67, tss_e, 0x8900, 0     ; 0x48 TSS E
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 0x46*8 - 1
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
%macro TSS32_AT 2                 ; EIP %1, ESP %2; flat data, CS = SMALL_CS
    dd 0, 0, 0, 0, 0, 0, 0, 0     ; link, ESP0-SS2, CR3
    dd %1, 2                      ; EIP, EFLAGS
    dd 0, 0, 0, 0, %2, 0, 0, 0    ; EAX..EDI
    dd K_DATA, SMALL_CS, K_DATA, K_DATA, K_DATA, K_DATA
    dd 0, 0
%endmacro
align 16
tss_d: TSS32_AT 0x20000, 0x6800
align 16
tss_e: TSS32_AT 0x20000, 0x6400
align 8
idt:
    times 0x40*8 db 0
    dw 0, TSS_NP, 0x8500, 0       ; 0x40 task gates, DPL 0
    dw 0, TSS_SMALL, 0x8500, 0    ; 0x41
    dw 0, TSS_A, 0x8500, 0        ; 0x42
    dw 0, TSS_LOCAL, 0x8500, 0    ; 0x43
    dw 0, TSS_D, 0x8500, 0        ; 0x44
    dw 0, TSS_E, 0x8500, 0        ; 0x45
