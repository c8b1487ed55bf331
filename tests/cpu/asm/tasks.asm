; Hardware task switching and virtual-8086 mode. Starts in real mode at
; 0000:1000, reports each step as a 32-bit value on port 0xF4.
;   task A --JMP--> task B --CALL--> task A --IRET (NT)--> task B
;   task B: UD2 --#UD task gate--> task C --IRET--> task B
;   task B --IRETD (VM=1)--> V86 code: OUT via the TSS I/O bitmap, INT 31h
;   --DPL-3 interrupt gate--> ring 0 handler (V86 frame)
%include "common.inc"

K_CODE equ 0x08
K_DATA equ 0x10
TSS_A  equ 0x18
TSS_B  equ 0x20
TSS_C  equ 0x28

bits 16
org 0x1000
    REAL_MODE_START
    lgdt [gdt_desc]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp K_CODE:pm

bits 32
pm:
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, 0x7000
    REPORT 0x20
    ; Task images for B and C.
    mov dword [tss_b + 0x20], task_b
    mov dword [tss_b + 0x38], 0x6000          ; ESP
    mov dword [tss_c + 0x20], task_c
    mov dword [tss_c + 0x38], 0x5000
    mov ax, TSS_A
    ltr ax
    lidt [idt_desc]
    jmp TSS_B:0                               ; task switch A -> B
back_in_a:
    pushfd
    pop eax
    shr eax, 14
    and eax, 1
    or eax, 0x220
    out PORT, eax                             ; 0x221: NT set by the CALL
    iretd                                     ; nested task return to B
    REPORT 0xBAD
    hlt

task_b:
    REPORT 0x21
    call TSS_A:0                              ; B -> A (A resumes at back_in_a)
    REPORT 0x23
    ud2                                       ; #UD through a task gate -> task C
    REPORT 0x25
    ; Enter virtual-8086 mode with IRETD (IOPL 3).
    push dword 0                              ; GS
    push dword 0                              ; FS
    push dword 0                              ; DS
    push dword 0                              ; ES
    push dword 0                              ; SS
    push dword 0x6F00                         ; ESP
    push dword 0x23002                        ; EFLAGS: VM, IOPL 3
    push dword 0                              ; CS
    push dword v86_code                       ; EIP
    iretd

task_c:
    mov eax, [tss_b + 0x20]                   ; B's saved EIP: the faulting UD2
    sub eax, task_b
    or eax, 0x240000
    out PORT, eax
    add dword [tss_b + 0x20], 2               ; resume B after the UD2
    iretd                                     ; back to B (NT set by the task gate)

v86_int:
    mov eax, [esp + 8]                        ; EFLAGS image
    shr eax, 17
    and eax, 1
    or eax, 0x280
    out PORT, eax                             ; 0x281: interrupted V86 code
    mov eax, [esp + 20]                       ; ES pushed for a V86 interrupt
    or eax, 0x290000
    out PORT, eax
    hlt

bits 16
v86_code:
    mov eax, 0x27
    out PORT, eax                             ; allowed by the TSS I/O bitmap
    mov ax, 0x1234
    mov es, ax                                ; real-mode style segment load
    int 0x31

; ---------------------------------------------------------------- data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF                     ; 0x08 code
    dq 0x00CF92000000FFFF                     ; 0x10 data
    dw 0x67, tss_a, 0x8900, 0                 ; 0x18 TSS A
    dw 0x88, tss_b, 0x8900, 0                 ; 0x20 TSS B (with I/O bitmap)
    dw 0x67, tss_c, 0x8900, 0                 ; 0x28 TSS C
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt

idt:
    times 6 dq 0
    dw 0, TSS_C, 0x8500, 0                    ; vector 6: task gate
    times (0x31 - 7) dq 0
    dw v86_int, K_CODE, 0xEE00, 0             ; vector 0x31: DPL 3 interrupt gate
idt_end:
idt_desc:
    dw idt_end - idt - 1
    dd idt

align 16
tss_a: times 0x68 db 0
align 16
tss_b:
    dd 0                                      ; link
    dd 0x5800, K_DATA                         ; ESP0, SS0
    times 4 dd 0                              ; ESP1 SS1 ESP2 SS2
    dd 0                                      ; CR3
    dd 0                                      ; EIP (filled in)
    dd 2                                      ; EFLAGS
    times 8 dd 0                              ; EAX..EDI
    dd K_DATA, K_CODE, K_DATA, K_DATA, K_DATA, K_DATA  ; ES CS SS DS FS GS
    dd 0                                      ; LDT
    dw 0, 0x68                                ; T, I/O map base
    times 32 db 0                             ; ports 0-255 allowed
    db 0xFF
align 16
tss_c:
    dd 0
    dd 0x5400, K_DATA
    times 4 dd 0
    dd 0, 0, 2
    times 8 dd 0
    dd K_DATA, K_CODE, K_DATA, K_DATA, K_DATA, K_DATA
    dd 0
    dw 0, 0x68
