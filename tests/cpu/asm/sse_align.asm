; Alignment checking of SSE memory operands at CPL 3 with CR0.AM and
; EFLAGS.AC (SDM Vol. 3A 6.15 "Interrupt 17", Vol. 2 FXSAVE/FXRSTOR):
;   - forms that require 16-byte alignment (MOVAPS, MOVDQA, packed arithmetic
;     on m128, FXSAVE/FXRSTOR) fault with #GP(0) when misaligned, never #AC
;   - the unaligned 128-bit forms (MOVUPS, MOVUPD, MOVDQU, LDDQU) never #GP;
;     with alignment checking on they raise #AC(0) when the address is not a
;     multiple of 8 (the SDM leaves "may or may not" to the implementation:
;     pc64 checks), and are fine at 8 mod 16
;   - scalar m32/m64 operands are checked like integer data of that size
;   - a faulting store writes nothing
; Starts in real mode at 0000:1000, enters 32-bit protected mode, turns on
; CR4.OSFXSR and CR0.AM and drops to ring 3 with EFLAGS.AC = 1. Exceptions
; report 0xE0000000 | vector << 16 | (error code & 0xFFFF) on port 0xF4 and
; resume at [resume].
%include "common.inc"
%macro RESUME 1
    mov dword [resume], %1
%endmacro

K_CODE32 equ 0x08
K_DATA   equ 0x10
U_CODE32 equ 0x18
U_DATA   equ 0x20
TSS32    equ 0x28
BUF      equ 0x3000                   ; 64 bytes, 16-byte aligned

START_PM32_WITH_ISRS
    lidt [idt_desc]
    mov dword [tss + 4], 0x6000       ; ESP0
    mov word [tss + 8], K_DATA        ; SS0
    mov word [tss + 0x66], 0x68
    mov ax, TSS32
    ltr ax
    mov eax, cr4
    or eax, 0x200                     ; CR4.OSFXSR
    mov cr4, eax
    mov eax, cr0
    and eax, ~0xC                     ; EM, TS off
    or eax, 0x40002                   ; CR0.AM, MP
    mov cr0, eax
    mov edi, BUF                      ; BUF: bytes 0, 1, 2, ... 63
    xor eax, eax
.fill:
    mov [edi + eax], al
    inc eax
    cmp eax, 64
    jb .fill
    REPORT 0x01
    push dword U_DATA | 3
    push dword 0x5800
    push dword 0x43002                ; EFLAGS: AC, IOPL 3 (to report), IF = 0
    push dword U_CODE32 | 3
    push dword user
    iretd

user:
    mov ax, U_DATA | 3
    mov ds, ax
    mov es, ax
    mov ebx, BUF
    pcmpeqb xmm1, xmm1                ; all ones, to store

    ; ---- unaligned forms: #AC below 8-byte alignment ----
    RESUME .a
    movups xmm0, [ebx + 4]            ; #AC(0)
.a: RESUME .b
    movdqu xmm0, [ebx + 1]            ; #AC(0)
.b: RESUME .c
    lddqu xmm0, [ebx + 12]            ; #AC(0)
.c: RESUME .d
    movupd [ebx + 20], xmm1           ; #AC(0) and nothing written ...
.d: mov eax, [ebx + 20]
    out PORT, eax                     ; ... 0x17161514
    movups xmm0, [ebx + 8]            ; 8 mod 16: fine
    movdqu [ebx + 40], xmm1           ; fine
    movd eax, xmm0
    out PORT, eax                     ; 0x0B0A0908
    mov eax, [ebx + 52]
    out PORT, eax                     ; 0xFFFFFFFF
    REPORT 0xA1

    ; ---- aligned forms: #GP(0), not #AC ----
    RESUME .e
    movaps xmm0, [ebx + 8]            ; #GP(0)
.e: RESUME .f
    movdqa [ebx + 4], xmm1            ; #GP(0)
.f: RESUME .g
    addps xmm0, [ebx + 8]             ; #GP(0)
.g: RESUME .h
    fxsave [ebx + 8]                  ; #GP(0)
.h: movaps xmm0, [ebx + 16]           ; aligned: fine
    REPORT 0xA2

    ; ---- scalar operands by their size ----
    RESUME .i
    movsd xmm0, [ebx + 4]             ; m64 at 4: #AC(0)
.i: RESUME .j
    movss xmm0, [ebx + 2]             ; m32 at 2: #AC(0)
.j: movss xmm0, [ebx + 4]             ; m32 at 4: fine
    movq xmm0, [ebx + 8]              ; m64 at 8: fine
    REPORT 0xA3

    ; ---- EFLAGS.AC = 0: no #AC, the aligned forms still #GP ----
    pushfd
    and dword [esp], ~0x40000
    popfd
    movups xmm0, [ebx + 4]            ; fine
    RESUME .k
    movaps xmm0, [ebx + 4]            ; #GP(0)
.k: REPORT 0xA4
    int 0x30                          ; back to ring 0 to stop

int30_handler:
    hlt

ISR_STUBS isr

ISR32_REPORT_RESUME isr, K_DATA

; ---------------------------------------------------------------- data
GDT_FLAT32
    dq 0x00CFFB000000FFFF             ; 0x18 U_CODE32
    dq 0x00CFF3000000FFFF             ; 0x20 U_DATA
    dw 0x67, tss, 0x8900, 0           ; 0x28 TSS
PM32_TABLES_TAIL 0x31
    dw int30_handler, K_CODE32, 0xEE00, 0   ; 0x30 DPL 3
