; Descriptor instructions and 16-bit privilege transfers, run from real mode
; at 0000:1000. Reports 32-bit words on port 0xF4 (tests/cpu/modes_test.cpp
; checks the exact sequence):
;   - LAR/ARPL in real mode: #UD
;   - LAR/LSL/VERR/VERW on every descriptor type of the GDT/LDT below, at
;     CPL 0 and at CPL 3 (RPL 3), plus RPL and operand-size/memory forms:
;     per selector  LAR result, LSL result (0xDEADBEEF = unchanged) and
;     0x5A000000 | sel << 8 | ZF(LAR) << 3 | ZF(LSL) << 2 | ZF(VERR) << 1 | ZF(VERW)
;   - ARPL: adjusted / not adjusted, register and memory, only ZF changes
;   - 16-bit code at CPL 3: far JMP, 16-bit call gate with 2 parameters to
;     ring 0 and RETF 4 back, a 16-bit interrupt gate and 16-bit IRET across
;     privilege levels, a same-level 16-bit far CALL/RETF, call-gate faults,
;     a 32-bit call gate from 16-bit code.
; Exceptions report 0xE0000000 | vector << 16 | (error code & 0xFFFF).

%include "common.inc"

K_CODE32 equ 0x08
K_DATA   equ 0x10
U_CODE32 equ 0x18
U_DATA   equ 0x20
TSS32    equ 0x28
LDT_SEL  equ 0x30
CGATE16  equ 0x40
CGATE32  equ 0x48
K_CODE16 equ 0x98
U_CODE16 equ 0xA0
U_DATA16 equ 0xA8
CGATE_K  equ 0xD8              ; DPL 0 call gate
CGATE_NP equ 0xE8              ; DPL 3 16-bit call gate to a not-present segment
NP_CODE  equ 0xF0

bits 16
org 0x1000
start:
    REAL_MODE_START
    ; Real mode: LAR and ARPL are #UD (SDM Vol. 2: "not recognized in real-address mode").
    mov word [6*4], rm_ud
    mov word [6*4+2], 0
    mov word [resume], .after_lar
    lar ax, bx
.after_lar:
    mov word [resume], .after_arpl
    arpl bx, ax
.after_arpl:
    REAL_TO_PM32

rm_ud:
    REPORT 0xE0060000
    mov bp, sp
    mov ax, [resume]
    mov [bp], ax
    iret

bits 32
pm32:
    PM32_FLAT_DATA
    REPORT 0x01
    ; IDT: 32-bit interrupt gates for the exceptions (ring-0 stubs).
    IDT32_GATES isr_table, idt, K_CODE32
    lidt [idt_desc]
    mov dword [tss + 4], 0x6000   ; ESP0
    mov word [tss + 8], K_DATA    ; SS0
    mov word [tss + 0x66], 0x68   ; no I/O bitmap
    mov ax, TSS32
    ltr ax
    mov ax, LDT_SEL
    lldt ax

    ; ---- LAR/LSL/VERR/VERW at CPL 0 ----
    xor ebp, ebp
    call test_selectors
    ; RPL above DPL hides a DPL-0 segment unless it is conforming code.
    mov dword [sel_ptr], rpl_sels
    mov dword [sel_count], rpl_sels_end - rpl_sels
    call test_list
    ; 16-bit operand size: only AX changes (SDM: masked by FF00H / limit low 16).
    mov eax, 0x12345678
    lar ax, [sel_k_data]          ; memory operand
    out PORT, eax                 ; 0x12349300
    mov eax, 0x12345678
    mov bx, 0x80
    lsl ax, bx
    out PORT, eax                 ; 0x12342345
    ; VERR/VERW with a memory operand.
    verw [sel_k_data]
    setz al
    verr [sel_xo_code]
    setnz ah
    movzx eax, ax
    or eax, 0x5B000000
    out PORT, eax                 ; 0x5B000101
    ; LAR/LSL change ZF only: CF and SF survive.
    mov eax, 0xFF
    add al, 1                     ; ZF=1 CF=1
    mov eax, 0x80
    or al, al                     ; SF=1 ZF=0 CF=0
    stc
    lar eax, [sel_k_data]
    pushfd
    pop eax
    and eax, 0xC1                 ; SF ZF CF
    or eax, 0x5C000000
    out PORT, eax                 ; 0x5C0000C1

    ; ---- to ring 3 (32-bit) with IRETD, IOPL 3 so ring 3 can report ----
    push dword U_DATA | 3
    push dword 0x5800
    push dword 0x3002
    push dword U_CODE32 | 3
    push dword user32
    iretd

user32:
    mov ax, U_DATA | 3
    mov ds, ax
    mov es, ax
    REPORT 0x02
    mov ebp, 3
    call test_selectors

    ; ---- ARPL (CPL 3): value | ZF << 16 | CF << 17 ----
    mov ax, 0x0010
    mov bx, 0x0003
    stc
    arpl ax, bx                   ; RPL 0 < 3: raised, ZF=1
    call report_arpl              ; 0x30013
    mov ax, 0x0013
    mov bx, 0x0001
    stc
    arpl ax, bx                   ; RPL 3 >= 1: unchanged, ZF=0
    call report_arpl              ; 0x20013
    mov ax, 0x0012
    mov bx, 0xFFF2
    clc
    arpl ax, bx                   ; equal RPL: unchanged, ZF=0
    call report_arpl              ; 0x00012
    mov word [arpl_mem], 0x0021
    mov cx, 0x0002
    clc
    arpl [arpl_mem], cx           ; memory destination: raised to 2
    mov ax, [arpl_mem]
    call report_arpl              ; 0x10022

    ; ---- 16-bit code at CPL 3 ----
    jmp U_CODE16 | 3 : user16

report_arpl:
    pushfd
    pop edx
    movzx eax, ax
    test edx, 0x40
    jz .nz
    or eax, 0x10000
.nz:
    test edx, 1
    jz .nc
    or eax, 0x20000
.nc:
    out PORT, eax
    ret

; Runs the full selector table with RPL `ebp`.
test_selectors:
    mov dword [sel_ptr], sels
    mov dword [sel_count], sels_end - sels
test_list:
    mov esi, [sel_ptr]
.next:
    movzx ebx, word [esi]
    or ebx, ebp
    ACCESS_RIGHTS_PROBE
    add esi, 2
    sub dword [sel_count], 2
    jnz .next
    ret

; EDI = EDI << 1 | ZF (keeps EAX)
zf_bit:
    pushfd
    pop edx
    shr edx, 6
    and edx, 1
    shl edi, 1
    or edi, edx
    ret

; ---------------------------------------------------------------- 16-bit, CPL 3
bits 16
user16:
    mov ax, U_DATA16 | 3
    mov ss, ax
    mov sp, 0x5000
    mov ds, ax
    mov eax, cs
    or eax, 0x160000
    out PORT, eax                 ; 0x1600A3: 16-bit code at CPL 3
    mov word [resume], .resume_es
    mov ax, K_DATA
    mov es, ax                    ; not allowed at CPL 3: #GP(0x10)
    ; (the exception handler resumes here with ES unchanged)
.resume_es:
    ; 16-bit call gate, 2 word parameters, to 16-bit ring-0 code.
    push word 0x1111
    push word 0x2222
    call CGATE16:0
after_gate16:
    mov eax, ss
    shl eax, 16
    mov ax, sp
    out PORT, eax                 ; 0x00AB5000: RETF 4 popped the parameters
    mov eax, es
    or eax, 0x170000
    out PORT, eax                 ; 0x170000: ES (DPL 0) was nulled
    ; 16-bit interrupt gate (DPL 3) to ring 0 and 16-bit IRET back.
    sti
    int 0x40
    pushf
    pop ax
    and eax, 0x0200
    or eax, 0x190000
    out PORT, eax                 ; 0x190200: IF restored by IRET
    mov eax, ss
    shl eax, 16
    mov ax, sp
    out PORT, eax                 ; 0x00AB5000
    cli
    ; Same-level 16-bit far CALL / RETF.
    call U_CODE16 | 3 : far16
ret_far16:
    movzx eax, sp
    or eax, 0x1B0000
    out PORT, eax                 ; 0x1B5000
    ; Call-gate faults: gate DPL 0 < CPL 3 -> #GP(gate); target not present -> #NP(target).
    mov word [resume], .after_gp
    call CGATE_K:0
.after_gp:
    mov word [resume], .after_np
    call CGATE_NP:0
.after_np:
    ; A 32-bit call gate called from 16-bit code pushes 32-bit values.
    call CGATE32:0
    mov eax, ss
    shl eax, 16
    mov ax, sp
    out PORT, eax                 ; 0x00AB5000
    int 0x42                      ; to ring 0 and stop

far16:
    mov bp, sp
    movzx eax, word [bp + 2]
    or eax, 0x1A0000
    out PORT, eax                 ; 0x1A00A3: pushed CS
    mov ax, sp
    shl eax, 16
    mov ax, [bp]
    sub ax, ret_far16
    out PORT, eax                 ; 0x4FFC0000: SP after CS and IP, return IP
    retf

; 16-bit ring-0 entry of the 16-bit call gate; SS:ESP from the TSS (K_DATA:0x6000).
gate16_entry:
    mov eax, cs
    shl eax, 16
    mov ax, ss
    or eax, 0x18000000
    out PORT, eax                 ; 0x18980010
    mov eax, esp
    out PORT, eax                 ; 0x5FF4: SS, SP, 2 params, CS, IP = 12 bytes
    mov ax, [esp + 2]             ; CS
    shl eax, 16
    mov ax, [esp]                 ; IP
    sub ax, after_gate16
    out PORT, eax                 ; 0x00A30000
    mov ax, [esp + 6]
    shl eax, 16
    mov ax, [esp + 4]
    out PORT, eax                 ; 0x11112222: parameters in caller order
    mov ax, [esp + 10]
    shl eax, 16
    mov ax, [esp + 8]
    out PORT, eax                 ; 0x00AB4FFC: caller SS:SP
    mov ax, K_DATA
    mov es, ax
    retf 4

; 16-bit interrupt gate handler (ring 0): frame IP CS FLAGS SP SS.
int40_handler:
    mov eax, esp
    out PORT, eax                 ; 0x5FF6
    pushf
    pop ax
    and eax, 0x0200
    or eax, 0x1C0000
    out PORT, eax                 ; 0x1C0000: IF cleared by the interrupt gate
    mov ax, [esp + 2]
    shl eax, 16
    mov ax, [esp + 4]
    and ax, 0x3200
    out PORT, eax                 ; 0x00A33200: CS, FLAGS (IOPL 3, IF)
    mov ax, [esp + 8]
    shl eax, 16
    mov ax, [esp + 6]
    out PORT, eax                 ; 0x00AB5000
    iret

bits 32
gate32_entry:
    mov eax, esp
    out PORT, eax                 ; 0x5FF0: SS ESP CS EIP as dwords
    mov eax, [esp + 4]
    shl eax, 16
    mov ax, [esp + 12]
    out PORT, eax                 ; 0x00A300AB
    ; From now on a 16-bit TSS supplies the ring-0 stack (SP0 at 2, SS0 at 4).
    mov word [tss16 + 2], 0x4800
    mov word [tss16 + 4], K_DATA
    mov ax, 0x38
    ltr ax
    retf

int42_handler:
    mov eax, esp
    out PORT, eax                 ; 0x47EC: SS:SP from the 16-bit TSS, 5 dwords pushed
    mov eax, ss
    out PORT, eax                 ; 0x10
    REPORT 0x1F
    hlt

; Exception stubs: push a dummy error code where the CPU pushes none.
ISR_STUBS isr

; [resume] is only written as a word: its high word stays 0.
ISR32_REPORT_RESUME isr, K_DATA

; ---------------------------------------------------------------- data
GDT_FLAT32
    dq 0x00CFFB000000FFFF         ; 0x18 U_CODE32
    dq 0x00CFF3000000FFFF         ; 0x20 U_DATA
    dw 0x67, tss, 0x8900, 0       ; 0x28 32-bit TSS (busy after LTR)
    dw 0x17, ldt, 0x8200, 0       ; 0x30 LDT
    dw 0x2B, tss16, 0x8100, 0     ; 0x38 16-bit TSS, available
    dw gate16_entry, K_CODE16, 0xE402, 0  ; 0x40 16-bit call gate, DPL 3, 2 params
    dw gate32_entry, K_CODE32, 0xEC00, 0  ; 0x48 32-bit call gate, DPL 3
    dw 0, 0x38, 0xE500, 0         ; 0x50 task gate, DPL 3
    dw 0, K_CODE32, 0xE600, 0     ; 0x58 16-bit interrupt gate (not valid for LAR)
    dw 0, K_CODE32, 0xEE00, 0     ; 0x60 32-bit interrupt gate (not valid for LAR)
    dq 0x00CF9F000000FFFF         ; 0x68 conforming readable code, DPL 0
    dq 0x0040F9000000FFFF         ; 0x70 execute-only code, DPL 3, limit 0xFFFF
    dq 0x0000F100000001FF         ; 0x78 read-only data, DPL 3, limit 0x1FF
    dq 0x0040930000002345         ; 0x80 data, DPL 0, limit 0x2345
    dq 0x0000800000000000         ; 0x88 system type 0 (reserved)
    dw 0x2B, tss16, 0x8300, 0     ; 0x90 16-bit TSS, busy
    dq 0x00009B000000FFFF         ; 0x98 K_CODE16
    dq 0x0000FB000000FFFF         ; 0xA0 U_CODE16
    dq 0x0000F3000000FFFF         ; 0xA8 U_DATA16
    dq 0x000073000000ABCD         ; 0xB0 not-present data, DPL 3
    dq 0x00008A0000000000         ; 0xB8 system type A (reserved)
    dq 0x00008D0000000000         ; 0xC0 system type D (reserved)
    dw 0, K_CODE32, 0xE700, 0     ; 0xC8 16-bit trap gate (not valid for LAR)
    dq 0x0080F70000000012         ; 0xD0 expand-down data, DPL 3, G: limit 0x12FFF
    dw gate32_entry, K_CODE32, 0x8C00, 0  ; 0xD8 32-bit call gate, DPL 0
    dw 0x17, ldt, 0xE200, 0       ; 0xE0 LDT, DPL 3
    dw 0, NP_CODE, 0xE400, 0      ; 0xE8 16-bit call gate to a not-present segment
    dq 0x00001B000000FFFF         ; 0xF0 not-present 16-bit code, DPL 0
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt

align 8
ldt:
    dq 0
    dq 0x0000F30000001234         ; LDT 0x0C: data, DPL 3, limit 0x1234
    dq 0x00009B0000000010         ; LDT 0x14: code, DPL 0, limit 0x10

; Selectors tested at CPL 0 and (with RPL 3) at CPL 3.
sels:
    dw 0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x58
    dw 0x60, 0x68, 0x70, 0x78, 0x80, 0x88, 0x90, 0x98, 0xB0, 0xB8, 0xC0, 0xC8
    dw 0xD0, 0xD8, 0xE0, 0xF8, 0x0C, 0x14, 0x1C
sels_end:
rpl_sels:
    dw 0x83, 0x6B, 0x13
rpl_sels_end:
sel_k_data: dw 0x80
sel_xo_code: dw 0x70
sel_ptr: dd 0
sel_count: dd 0
arpl_mem: dw 0
resume: dd 0

idt_desc:
    dw 0x43*8 - 1
    dd idt

isr_table:
ISR_TABLE isr, dd

align 16
tss: times 0x68 db 0
align 16
tss16: times 0x2C db 0
align 8
idt:
    times 32*8 db 0
    times (0x40 - 32)*8 db 0
    dw int40_handler, K_CODE16, 0xE600, 0   ; 0x40 16-bit interrupt gate, DPL 3
    dq 0                                    ; 0x41
    dw int42_handler, K_CODE32, 0xEE00, 0   ; 0x42 32-bit interrupt gate, DPL 3
