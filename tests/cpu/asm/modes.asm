; Mode-transition test for pc64's CPU, run from real mode at 0000:1000.
; Walks real -> 32-bit protected -> IA-32e (64-bit) -> ring 3 via SYSRET and
; back via SYSCALL -> compatibility mode -> paging off -> legacy protected
; mode (SYSEXIT to ring 3, call gate to ring 0, SYSENTER back) -> 16-bit
; protected -> real mode, and raises one exception of each class on the way.
; Every step writes a 32-bit code to port 0xF4; exceptions report
; 0xE0000000 | vector << 16 | (error code & 0xFFFF). tests/cpu/modes_test.cpp
; checks the exact sequence.

%include "common.inc"

; GDT selectors (the SYSENTER/SYSCALL layouts need these neighbours).
K_CODE32 equ 0x08
K_DATA   equ 0x10
U_CODE32 equ 0x18
U_DATA   equ 0x20
U_CODE64 equ 0x28
K_CODE64 equ 0x30
K_DATA64 equ 0x38
CODE16   equ 0x40
DATA16   equ 0x48
TSS32    equ 0x50
CGATE    equ 0x58
NP_DATA  equ 0x68
ED_DATA  equ 0x70

PML4 equ 0x20000

bits 16
org 0x1000

start16:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    REPORT 0x01
    ; A real-mode software interrupt through the IVT.
    mov word [0x30*4], rm_int30
    mov word [0x30*4+2], 0
    int 0x30
    REAL_TO_PM32

rm_int30:
    REPORT 0x02
    iret

; ---------------------------------------------------------------- 32-bit protected mode
bits 32
pm32:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x7000
    REPORT 0x03
    ; IDT: 32 interrupt gates to the stubs.
    IDT32_GATES isr32_table, idt32, K_CODE32
    lidt [idt32_desc]

    ; #DE
    mov dword [resume], .after_de
    xor edx, edx
    xor ecx, ecx
    div ecx
.after_de:
    ; #UD
    mov dword [resume], .after_ud
    ud2
.after_ud:
    ; #GP(selector): beyond the GDT limit
    mov dword [resume], .after_gp
    mov ax, 0x1000
    mov ds, ax
.after_gp:
    ; #NP(selector): a not-present data segment
    mov dword [resume], .after_np
    mov ax, NP_DATA
    mov ds, ax
.after_np:
    ; #BR: BOUND out of range
    mov dword [resume], .after_br
    mov eax, 5
    bound eax, [bounds]
.after_br:
    ; Expand-down segment: offsets up to the limit fault, above it work.
    mov ax, ED_DATA
    mov es, ax
    mov dword [resume], .after_ed
    mov eax, [es:0x800]
.after_ed:
    mov dword [0x3000], 0x12345678
    mov eax, [es:0x3000]
    cmp eax, 0x12345678
    jne fail
    mov ax, K_DATA
    mov es, ax
    ; #GP from a write through a read-only alias: CS override is not writable
    mov dword [resume], .after_cs
    mov dword [cs:0x3000], 1
.after_cs:
    REPORT 0x04

    ; ---- enter IA-32e mode: PAE tables, EFER.LME, CR0.PG, far jump ----
    mov edi, PML4
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd
    mov dword [PML4], PML4 + 0x1000 + 7
    mov dword [PML4 + 0x1000], PML4 + 0x2000 + 7
    mov dword [PML4 + 0x2000], 0x000000 + 0x87      ; 2 MiB pages, user-accessible
    mov dword [PML4 + 0x2008], 0x200000 + 0x87
    mov eax, cr4
    or eax, 0x20                  ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x101                 ; LME | SCE
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp K_CODE64:lm64

fail:
    REPORT 0xBAD
    hlt

; Exception stubs (32-bit): push a dummy error code where the CPU pushes none.
ISR_STUBS isr32

ISR32_REPORT_RESUME isr32, K_DATA

; ---------------------------------------------------------------- 64-bit mode
bits 64
lm64:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, 0x7000
    REPORT 0x05
    xor ecx, ecx
.idt:
    mov rax, [isr64_table + rcx*8]
    mov rdx, rcx
    shl rdx, 4
    mov word [idt64 + rdx], ax
    mov word [idt64 + rdx + 2], K_CODE64
    mov word [idt64 + rdx + 4], 0x8E00
    shr rax, 16
    mov word [idt64 + rdx + 6], ax
    shr rax, 16
    mov dword [idt64 + rdx + 8], eax
    mov dword [idt64 + rdx + 12], 0
    inc ecx
    cmp ecx, 32
    jb .idt
    lidt [idt64_desc]

    ; #PF: a not-present page (error code 0), CR2 reported after it
    mov qword [resume], .after_pf
    mov rax, [0x40000000]
.after_pf:
    mov rax, cr2
    shr rax, 16
    or eax, 0xC2000000
    out PORT, eax                 ; 0xC2004000
    ; #GP(0): non-canonical address
    mov qword [resume], .after_nc
    mov rax, 0x8000000000000000
    mov rbx, [rax]
.after_nc:
    ; #PF with W and P: write to a read-only page (make page 0x200000 read-only)
    mov rax, [PML4 + 0x2008]
    and rax, ~2
    mov [PML4 + 0x2008], rax
    invlpg [0x200000]
    mov qword [resume], .after_wp
    mov rax, cr0
    or eax, 0x10000               ; CR0.WP so supervisor writes honour R/W
    mov cr0, rax
    mov byte [0x200000], 1
.after_wp:
    REPORT 0x06

    ; ---- SYSRET to ring 3 and SYSCALL back ----
    mov ecx, 0xC0000081           ; STAR: SYSRET base 0x18, SYSCALL CS 0x30
    mov edx, (U_CODE32 << 16) | K_CODE64
    xor eax, eax
    wrmsr
    mov ecx, 0xC0000082           ; LSTAR
    mov rax, syscall_entry
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, 0xC0000084           ; SFMASK: clear IF, TF, DF
    mov eax, 0x700
    xor edx, edx
    wrmsr
    mov rcx, user64
    mov r11, 0x3002               ; IOPL 3 so ring 3 can report
    o64 sysret

user64:
    mov eax, cs
    and eax, 3
    or eax, 0x70
    out PORT, eax                 ; 0x73: CPL 3
    syscall

syscall_entry:
    mov eax, cs
    or eax, 0x80000
    out PORT, eax                 ; 0x80030: back in ring 0 on the SYSCALL CS
    mov eax, r11d
    and eax, 0x3000
    cmp eax, 0x3000               ; R11 holds the user RFLAGS
    jne fail64
    ; ---- to compatibility mode ----
    push K_CODE32
    push compat32
    retfq

fail64:
    REPORT 0xBAD
    hlt

ISR_STUBS isr64

ISR64_REPORT_RESUME isr64

; ---------------------------------------------------------------- back to legacy protected mode
bits 32
compat32:
    mov eax, 0x09
    out PORT, eax
    mov eax, cr0
    and eax, 0x7FFFFFFF           ; paging off: leaves IA-32e mode (LMA = 0)
    mov cr0, eax
    mov ecx, 0xC0000080
    rdmsr
    and eax, ~0x100
    wrmsr
    mov ax, K_DATA
    mov ss, ax
    mov esp, 0x7000
    lidt [idt32_desc]
    REPORT 0x0A
    ; #PF never happens now; a #GP from the IDT still works in legacy mode
    mov dword [resume], .after_gp2
    mov ax, 0x1008
    mov fs, ax
.after_gp2:

    ; ---- TSS for ring transitions, IOPL 3 for ring-3 reports ----
    mov word [tss32 + 8], K_DATA  ; SS0
    mov dword [tss32 + 4], 0x6000 ; ESP0
    mov word [tss32 + 0x66], 0x68 ; no I/O bitmap
    mov ax, TSS32
    ltr ax
    pushfd
    or dword [esp], 0x3000
    popfd
    ; ---- SYSEXIT to ring 3 ----
    mov ecx, 0x174
    mov eax, K_CODE32
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0x6800
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_entry
    wrmsr
    mov ecx, 0x5000               ; user ESP
    mov edx, user32               ; user EIP
    sysexit

user32:
    mov eax, cs
    or eax, 0xB0000
    out PORT, eax                 ; 0xB001B: ring 3 on U_CODE32
    call CGATE:0                  ; call gate to ring 0
    mov eax, ss
    or eax, 0xD0000
    out PORT, eax                 ; 0xD0023: back in ring 3 with the user stack
    ; RETF to ring 3 nulled DS (its DPL 0 < CPL 3), as the SDM requires.
    mov eax, ds
    or eax, 0xD1000
    out PORT, eax                 ; 0xD1000
    mov ax, U_DATA | 3
    mov ds, ax
    mov dword [resume], .after_int
    int 0x31                      ; beyond the IDT limit: #GP(0x31*8+2), handled in ring 0
.after_int:
    sysenter

gate_entry:
    mov eax, cs
    shl eax, 16
    mov ax, ss
    or eax, 0xC000000
    out PORT, eax                 ; 0xC080010: ring 0 on K_CODE32, SS from the TSS
    retf

sysenter_entry:
    mov eax, 0x0E
    out PORT, eax
    ; ---- 16-bit protected mode, then real mode ----
    jmp CODE16:pm16

bits 16
pm16:
    mov ax, DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0:rm_back

rm_back:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    lidt [rm_idt_desc]
    REPORT 0x0F
    int 0x30                      ; the IVT works again
    hlt

; ---------------------------------------------------------------- data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF         ; 0x08 ring-0 code32
    dq 0x00CF92000000FFFF         ; 0x10 ring-0 data
    dq 0x00CFFA000000FFFF         ; 0x18 ring-3 code32
    dq 0x00CFF2000000FFFF         ; 0x20 ring-3 data
    dq 0x00AFFA000000FFFF         ; 0x28 ring-3 code64
    dq 0x00AF9A000000FFFF         ; 0x30 ring-0 code64
    dq 0x00CF92000000FFFF         ; 0x38 ring-0 data (SYSCALL SS)
    dq 0x00009A000000FFFF         ; 0x40 code16
    dq 0x000092000000FFFF         ; 0x48 data16
    dw 0x67, tss32, 0x8900, 0     ; 0x50 32-bit TSS
    dw gate_entry, K_CODE32, 0xEC00, 0  ; 0x58 call gate, DPL 3
    dq 0                          ; 0x60
    dq 0x00CF12000000FFFF         ; 0x68 not-present data
    dq 0x0040960000000FFF         ; 0x70 expand-down data, limit 0xFFF, B=1
gdt_end:

gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt32_desc:
    dw 32*8 - 1
    dd idt32
idt64_desc:
    dw 32*16 - 1
    dq idt64
rm_idt_desc:
    dw 0x3FF
    dd 0
bounds:
    dd 10, 20
resume:
    dq 0

isr32_table:
ISR_TABLE isr32, dd
isr64_table:
ISR_TABLE isr64, dq

align 16
tss32: times 0x68 db 0
align 16
idt32: times 32*8 db 0
align 16
idt64: times 32*16 db 0
