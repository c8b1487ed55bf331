; Stack faults and double-fault rules in 64-bit mode. Started by the test
; harness in flat long mode at CPL 0 (identity paging of the first 16 MiB,
; nothing mapped at 0x40000000). Every exception runs on an IST stack, so a
; broken RSP or a broken IST entry cannot take the handler down with it.
; Reports 0xE0000000 | vector << 16 | (error code & 0xFFFF) on port 0xF4;
; the handler resumes at [resume] with RSP = [resume_rsp].
;   - non-canonical SS references (PUSH, [RSP], [RBP]) are #SS(0);
;     other non-canonical data references stay #GP(0)
;   - #GP during #GP (gate not present) -> #DF; #PF during #PF delivery -> #DF;
;     #GP during #PF delivery -> #DF; #PF during #GP delivery is delivered
;     as a #PF (SDM Vol. 3A table 6-5)
%include "common.inc"
%macro RESUME 1
    lea rax, [rel %1]
    mov [resume], rax
%endmacro

NONCANON equ 0x8000000000000000
IST1 equ 0x70000
IST2 equ 0x68000
IST3 equ 0x60000
UNMAPPED equ 0x40000000

bits 64
org 0x1000
    lgdt [gdt_desc]
    mov qword [tss + 0x24], IST1
    mov qword [tss + 0x2C], IST2
    mov qword [tss + 0x34], IST3
    mov ax, 0x18
    ltr ax
    xor ecx, ecx
.idt:
    mov rax, [isr_table + rcx*8]
    mov rdx, rcx
    shl rdx, 4
    mov word [idt + rdx], ax
    mov word [idt + rdx + 2], 0x08
    mov byte [idt + rdx + 4], 1   ; IST1
    mov byte [idt + rdx + 5], 0x8E
    shr rax, 16
    mov word [idt + rdx + 6], ax
    shr rax, 16
    mov dword [idt + rdx + 8], eax
    mov dword [idt + rdx + 12], 0
    inc ecx
    cmp ecx, 32
    jb .idt
    mov byte [idt + 14*16 + 4], 2 ; #PF: IST2
    mov byte [idt + 8*16 + 4], 3  ; #DF: IST3
    lidt [idt_desc]
    mov [resume_rsp], rsp
    REPORT 0x01

    ; ---- non-canonical stack references ----
    RESUME .a
    mov rsp, NONCANON
    push rax                      ; #SS(0)
.a: RESUME .b
    mov rsp, NONCANON
    mov rax, [rsp]                ; #SS(0)
.b: mov rsp, [resume_rsp]
    RESUME .c
    mov rbp, NONCANON
    mov rax, [rbp + 8]            ; RBP base: SS, #SS(0)
.c: RESUME .d
    mov rbx, NONCANON
    mov rax, [rbx]                ; DS: #GP(0)
.d: RESUME .f
    mov rsp, 0x00007FFFFFFFFFFC
    mov rax, [rsp]                ; runs past the canonical boundary: #SS(0)
.f: RESUME .g
    mov rsp, 0xFFFF800000000000
    push rax                      ; pushes at 0xFFFF7FFF'FFFFFFF8: #SS(0)
.g: mov rsp, [resume_rsp]
    REPORT 0x02

    ; ---- double-fault rules ----
    and byte [idt + 13*16 + 5], 0x7F
    RESUME .h
    mov rax, [rbx]                ; #GP, gate not present: #NP -> #DF(0)
.h: or byte [idt + 13*16 + 5], 0x80
    mov qword [tss + 0x2C], UNMAPPED + 0x1000
    RESUME .i
    mov rax, [UNMAPPED]           ; #PF whose IST stack faults: #PF -> #DF(0)
.i: mov rax, cr2
    out PORT, eax                 ; 0x40000FF8: the IST push
    mov qword [tss + 0x2C], IST2
    mov word [idt + 14*16 + 2], 0x50
    RESUME .j
    mov rax, [UNMAPPED]           ; #PF whose gate selector is bad: #GP -> #DF(0)
.j: mov word [idt + 14*16 + 2], 0x08
    mov byte [idt + 13*16 + 4], 4
    mov qword [tss + 0x3C], UNMAPPED + 0x2000
    RESUME .k
    mov rax, [rbx]                ; #GP whose IST stack faults: the #PF is delivered
.k: mov rax, cr2
    out PORT, eax                 ; 0x40001FF8
    mov byte [idt + 13*16 + 4], 1
    REPORT 0x03
    hlt

ISR_STUBS isr

ISR64_REPORT_RESUME isr, resume_rsp

align 8
gdt:
    dq 0
    dq 0x00AF9B000000FFFF         ; 0x08 code64
    dq 0x00CF93000000FFFF         ; 0x10 data
    dw 0x67, tss, 0x8900, 0, 0, 0, 0, 0   ; 0x18 64-bit TSS
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dq gdt
idt_desc:
    dw 32*16 - 1
    dq idt
resume: dq 0
resume_rsp: dq 0
isr_table:
ISR_TABLE isr, dq
align 16
tss: times 0x68 db 0
align 16
idt: times 32*16 db 0
