; Virtual-8086 mode extensions (CR4.VME) and protected-mode virtual
; interrupts (CR4.PVI), SDM Vol. 3A 20.3-20.4. Starts in real mode at
; 0000:1000, reports 32-bit words on port 0xF4 (tests/cpu/protection_test.cpp).
; Exceptions report 0xE0000000 | vector << 16 | error code and resume at
; [resume] (or, with [resume] = 0, continue at [stage] in ring 0).
;   V86 with IOPL 0 and VME: CLI/STI change VIF; PUSHF shows VIF as IF and
;   IOPL 3; 32-bit PUSHFD/IRETD fault; POPF/IRET with TF or with IF while VIP
;   fault; INT n through the redirection bitmap (clear bit: the V86 IVT with
;   VIF saved and cleared; set bit: #GP); INT3 is not IOPL-sensitive.
;   Ring 3 with IOPL 0 and PVI: CLI/STI change VIF, STI faults while VIP,
;   POPFD leaves IF/VIF alone; without PVI CLI faults.
%include "common.inc"
%macro RESUME 1
    mov dword [resume], %1
%endmacro
; 16-bit FLAGS as V86 code sees them: tag << 16 | (FLAGS & (IOPL | IF))
%macro VFLAGS 1
    pushf
    pop ax
    and ax, 0x3200
    movzx eax, ax
    or eax, %1 << 16
    out PORT, eax
%endmacro
; EFLAGS at ring 3: tag << 24 | (EFLAGS & (VIP | VIF | IF))
%macro PFLAGS 1
    pushfd
    pop eax
    and eax, 0x180200
    or eax, %1 << 24
    out PORT, eax
%endmacro

K_CODE32 equ 0x08
K_DATA   equ 0x10
U_CODE32 equ 0x18
U_DATA   equ 0x20
TSS32    equ 0x28

START_PM32_WITH_ISRS
    mov eax, int3_handler         ; vector 3: DPL 3 so INT3 works from V86 and ring 3
    mov word [idt + 3*8], ax
    mov word [idt + 3*8 + 4], 0xEE00
    shr eax, 16
    mov word [idt + 3*8 + 6], ax
    lidt [idt_desc]
    mov dword [tss + 4], 0x6000   ; ESP0
    mov word [tss + 8], K_DATA    ; SS0
    mov ax, TSS32
    ltr ax
    mov word [0x40*4], v86_int40  ; the 8086 program's IVT at linear 0
    mov word [0x40*4 + 2], 0
    mov eax, cr4
    or eax, 1                     ; CR4.VME
    mov cr4, eax
    REPORT 0x01
    mov dword [stage], pvi_stage
    ; IRETD to virtual-8086 mode, IOPL 0, IF 1, VIF 0.
    push dword 0                  ; GS
    push dword 0                  ; FS
    push dword 0                  ; DS
    push dword 0                  ; ES
    push dword 0                  ; SS
    push dword 0x5000             ; ESP
    push dword 0x20202            ; EFLAGS: VM, IF
    push dword 0                  ; CS
    push dword v86_code           ; EIP
    iretd

; ---------------------------------------------------------------- V86, IOPL 0
bits 16
v86_code:
    cli
    VFLAGS 0x31                   ; 0x313000: IF shows VIF (0), IOPL shows 3
    sti
    VFLAGS 0x32                   ; 0x323200
    RESUME .r3
    pushfd                        ; 32-bit: #GP(0)
.r3:
    RESUME .r4
    push word 0x0100
    popf                          ; TF in the image: #GP(0)
.r4:
    add sp, 2
    int 0x40                      ; bitmap bit clear: to v86_int40 through the IVT
    VFLAGS 0x35                   ; 0x353200: IRET restored VIF
    RESUME .r6
    int 0x41                      ; bitmap bit set, IOPL 0: #GP(0)
.r6:
    int3                          ; not IOPL-sensitive: IDT gate 3; it sets VIP
    cli
    RESUME .r8
    sti                           ; VIP: #GP(0)
.r8:
    RESUME .r9
    push word 0x0200
    popf                          ; IF in the image while VIP: #GP(0)
.r9:
    add sp, 2
    push word 0
    popf
    VFLAGS 0x37                   ; 0x373000
    RESUME .r10
    push word 0x0200
    push cs
    push word .r10
    iret                          ; IF in the image while VIP: #GP(0)
.r10:
    add sp, 6
    int3                          ; clears VIP
    sti
    VFLAGS 0x38                   ; 0x383200
    RESUME .r11
    iretd                         ; 32-bit IRET with IOPL < 3: #GP(0)
.r11:
    RESUME 0
    hlt                           ; #GP(0) and on to the PVI stage

v86_int40:
    mov bp, sp
    mov ax, [bp + 4]              ; FLAGS image: IF = VIF before (1), IOPL 3
    and ax, 0x3200
    movzx eax, ax
    or eax, 0x330000
    out PORT, eax                 ; 0x333200
    VFLAGS 0x34                   ; 0x343000: VIF cleared
    iret

; ---------------------------------------------------------------- ring 3, PVI
bits 32
pvi_stage:
    PM32_FLAT_DATA
    mov eax, cr4
    or eax, 2                     ; CR4.PVI
    mov cr4, eax
    REPORT 0x02
    mov dword [stage], finish
    push dword U_DATA | 3
    push dword 0x5800
    push dword 0x202              ; IOPL 0, IF
    push dword U_CODE32 | 3
    push dword pvi_user
    iretd

pvi_user:
    mov ax, U_DATA | 3
    mov ds, ax
    cli
    PFLAGS 0x41                   ; 0x41000200: IF untouched, VIF 0
    sti
    PFLAGS 0x42                   ; 0x42080200: VIF 1
    int3                          ; sets VIP
    PFLAGS 0x43                   ; 0x43180200
    RESUME .p1
    sti                           ; VIP: #GP(0)
.p1:
    cli
    PFLAGS 0x44                   ; 0x44100200
    push dword 2
    popfd                         ; POPFD is not virtualised: IF stays (IOPL 0)
    PFLAGS 0x45                   ; 0x45100200
    mov byte [int3_action], 2
    int3                          ; clears CR4.PVI and VIP
    RESUME .p2
    cli                           ; no PVI: #GP(0)
.p2:
    RESUME 0
    hlt

finish:
    REPORT 0x03
    hlt

; Ring-0 INT3 handler: reports 0x360 | VM of the interrupted code, then
; toggles VIP in the EFLAGS image (or, with [int3_action] = 2, clears
; CR4.PVI and VIP).
int3_handler:
    push eax
    push ds
    mov ax, K_DATA
    mov ds, ax
    mov eax, [esp + 16]           ; EFLAGS image
    shr eax, 17
    and eax, 1
    or eax, 0x360
    out PORT, eax
    cmp byte [int3_action], 2
    je .clear_pvi
    xor dword [esp + 16], 0x100000
    jmp .done
.clear_pvi:
    mov eax, cr4
    and eax, ~2
    mov cr4, eax
    and dword [esp + 16], ~0x100000
.done:
    pop ds
    pop eax
    iretd

ISR_STUBS isr

isr_common:
    push eax
    push ds
    mov ax, K_DATA
    mov ds, ax
    mov eax, [esp + 8]            ; vector
    shl eax, 16
    mov ax, [esp + 12]            ; error code
    or eax, 0xE0000000
    out PORT, eax
    mov eax, [resume]
    test eax, eax
    jz .stage
    mov [esp + 16], eax           ; return EIP
    pop ds
    pop eax
    add esp, 8
    iretd
.stage:
    jmp [stage]

; ---------------------------------------------------------------- data
GDT_FLAT32
    dq 0x00CFFB000000FFFF         ; 0x18 U_CODE32
    dq 0x00CFF3000000FFFF         ; 0x20 U_DATA
    dw tss_end - tss - 1, tss, 0x8900, 0  ; 0x28 TSS
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 32*8 - 1
    dd idt
resume: dd 0
stage: dd 0
int3_action: db 0

isr_table:
ISR_TABLE isr, dd

align 16
tss:
    times 0x66 db 0
    dw 0x88                       ; I/O map base; redirection bitmap at 0x68
    times 8 db 0                  ; vectors 0x00-0x3F: redirected
    db 0x02                       ; 0x40 redirected, 0x41 not
    times 23 db 0
    times 32 db 0                 ; I/O bitmap: ports 0-255 allowed
    db 0xFF
tss_end:
align 8
idt: times 32*8 db 0
