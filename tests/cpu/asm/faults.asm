; Stack-segment faults, alignment checks and the double-fault rules in 32-bit
; protected mode. Starts in real mode at 0000:1000; reports 32-bit words on
; port 0xF4 (tests/cpu/protection_test.cpp checks the sequence). Exceptions
; report 0xE0000000 | vector << 16 | (error code & 0xFFFF) and resume at
; [resume]; the ring-3 parts run with IOPL 3 so they can report.
;   - ring 3, SS limit 0x7FFF: SS-relative accesses beyond it are #SS(0)
;     (explicit SS:, EBP base, a dword straddling the limit, PUSH), DS beyond
;     its limit is #GP(0); expand-down SS; a not-present SS is #SS(selector)
;   - #AC: CR0.AM + EFLAGS.AC + CPL 3 for misaligned word/dword data, stack
;     and string accesses; none with AC=0, at CPL 0 or with CR0.AM=0
;   - #DF: contributory during contributory; benign then contributory is
;     serial; EXT in the error code for hardware events, not for INT n
%include "common.inc"
%macro RESUME 1
    mov dword [resume], %1
%endmacro

K_CODE32 equ 0x08
K_DATA   equ 0x10
U_CODE32 equ 0x18
U_DATA   equ 0x20
TSS32    equ 0x28
U_SMALL  equ 0x30
U_EXPDN  equ 0x38
U_NP     equ 0x40
R1_CODE  equ 0x48
R1_SMALL equ 0x50
R1_GATE  equ 0x58

START_PM32_WITH_ISRS
    lidt [idt_desc]
    mov dword [tss + 4], 0x6000   ; ESP0
    mov word [tss + 8], K_DATA    ; SS0
    mov word [tss + 0x66], 0x68
    mov dword [tss + 0x0C], 0x1002 ; ESP1
    mov word [tss + 0x10], R1_SMALL | 1  ; SS1
    mov ax, TSS32
    ltr ax
    mov eax, cr0
    or eax, 0x40000               ; CR0.AM
    mov cr0, eax
    REPORT 0x01
    push dword U_DATA | 3
    push dword 0x5800
    push dword 0x3002
    push dword U_CODE32 | 3
    push dword user
    iretd

user:
    mov ax, U_DATA | 3
    mov ds, ax
    mov es, ax
    ; ---- SS limit (ring 3, so exceptions switch to the ring-0 stack) ----
    mov ax, U_SMALL | 3
    mov ss, ax
    mov esp, 0x7000
    RESUME .a
    mov eax, [ss:0x9000]          ; #SS(0)
.a: RESUME .b
    xor ebp, ebp
    mov eax, [ebp + 0x8000]       ; EBP base: SS, #SS(0)
.b: RESUME .c
    mov eax, [ss:0x7FFE]          ; straddles the limit: #SS(0)
.c: mov eax, [ss:0x7FFC]          ; last dword: fine
    mov ax, U_SMALL | 3
    mov ds, ax
    RESUME .d
    mov eax, [0x9000]             ; DS: #GP(0)
.d: mov ax, U_DATA | 3
    mov ds, ax
    RESUME .e
    mov esp, 0x8002
    push eax                      ; 0x7FFE..0x8001: #SS(0), ESP unchanged
.e: mov eax, esp
    out PORT, eax                 ; 0x8002
    ; Expand-down stack: valid offsets are above the limit (0xFFF).
    mov ax, U_EXPDN | 3
    mov ss, ax
    mov esp, 0x1002
    RESUME .f
    push eax                      ; 0xFFE..0x1001: #SS(0)
.f: mov esp, 0x2000
    push eax
    mov eax, esp
    out PORT, eax                 ; 0x1FFC
    RESUME .g
    mov ax, U_NP | 3
    mov ss, ax                    ; not present: #SS(0x40)
.g: mov ax, U_DATA | 3
    mov ss, ax
    mov esp, 0x5800
    ; Stack switch to ring 1 whose new stack (SS1 limit 0xFFF, ESP1 0x1002)
    ; overflows: #SS(SS1), through a call gate and through an interrupt gate.
    RESUME .q
    call R1_GATE:0
.q: RESUME .r
    int 0x34
.r: REPORT 0x02

    ; ---- #AC (CR0.AM is set) ----
    mov eax, [0x3001]             ; AC=0: no check
    REPORT 0xA0
    pushfd
    or dword [esp], 0x40000       ; EFLAGS.AC
    popfd
    RESUME .h
    mov eax, [0x3001]             ; #AC(0)
.h: mov ax, [0x3002]
    mov eax, [0x3004]
    mov al, [0x3003]
    REPORT 0xA1                   ; aligned and byte accesses: fine
    RESUME .i
    mov [0x3005], ax              ; misaligned word store: #AC(0)
.i: RESUME .j
    mov esp, 0x5802
    push eax                      ; misaligned stack: #AC(0)
.j: mov esp, 0x5800
    RESUME .k
    mov esi, 0x3002
    lodsd                         ; misaligned string source: #AC(0)
.k: RESUME .l
    add dword [0x3006], 1         ; read-modify-write: #AC(0)
.l: int 0x30                      ; ring 0 keeps EFLAGS.AC
.back:
    mov eax, [0x3001]             ; CR0.AM cleared by ring 0: no check
    REPORT 0xA4
    pushfd
    and dword [esp], ~0x40000
    popfd
    REPORT 0x03
    int 0x31                      ; to ring 0 for the rest

r1_entry:                         ; never reached: the ring-1 stack overflows
    REPORT 0xBAD
    hlt

int30_handler:                    ; ring 0, EFLAGS.AC still 1
    mov eax, [0x3001]             ; CPL 0: no check
    pushfd
    pop eax
    shr eax, 18
    and eax, 1
    or eax, 0xA30
    out PORT, eax                 ; 0xA31: AC set, no fault at CPL 0
    mov eax, cr0
    and eax, ~0x40000
    mov cr0, eax
    iretd

int31_handler:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    ; ---- double-fault rules ----
    ; #GP whose gate is not present: #NP during #GP delivery -> #DF(0).
    and byte [idt + 13*8 + 5], 0x7F
    RESUME .m
    mov ax, 0x1000
    mov fs, ax
.m: or byte [idt + 13*8 + 5], 0x80
    ; #UD (benign) whose gate is not present: #NP(6*8+2+EXT) delivered as is.
    and byte [idt + 6*8 + 5], 0x7F
    RESUME .n
    ud2
.n: or byte [idt + 6*8 + 5], 0x80
    ; INT n: no EXT bit. Gate 0x32 is not a gate type: #GP(0x32*8+2);
    ; gate 0x33 is not present: #NP(0x33*8+2).
    RESUME .o
    int 0x32
.o: RESUME .p
    int 0x33
.p: REPORT 0x04
    hlt

; Exception stubs: push a dummy error code where the CPU pushes none.
ISR_STUBS isr

ISR32_REPORT_RESUME isr, K_DATA

; ---------------------------------------------------------------- data
GDT_FLAT32
    dq 0x00CFFB000000FFFF         ; 0x18 U_CODE32
    dq 0x00CFF3000000FFFF         ; 0x20 U_DATA
    dw 0x67, tss, 0x8900, 0       ; 0x28 TSS
    dq 0x0040F30000007FFF         ; 0x30 ring-3 data, limit 0x7FFF, B
    dq 0x0040F70000000FFF         ; 0x38 ring-3 expand-down data, limit 0xFFF, B
    dq 0x00CF73000000FFFF         ; 0x40 ring-3 data, not present
    dq 0x00CFBB000000FFFF         ; 0x48 ring-1 code
    dq 0x0040B30000000FFF         ; 0x50 ring-1 data, limit 0xFFF, B
    dw r1_entry, R1_CODE, 0xEC00, 0   ; 0x58 call gate to ring 1, DPL 3
PM32_TABLES_TAIL 0x35
    dw int30_handler, K_CODE32, 0xEE00, 0   ; 0x30 DPL 3
    dw int31_handler, K_CODE32, 0xEE00, 0   ; 0x31 DPL 3
    dw 0, K_CODE32, 0x8000, 0               ; 0x32 present, type 0: not a gate
    dw 0, K_CODE32, 0x0E00, 0               ; 0x33 interrupt gate, not present
    dw r1_entry, R1_CODE, 0xEE00, 0         ; 0x34 DPL 3 gate to ring 1
