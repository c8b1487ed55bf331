; Dead-flag elimination (decode_block drops the flag results of records whose
; flags are overwritten before anything reads them) must never be visible:
; wherever RFLAGS can be observed, it is what the instructions computed.
; Started in flat long mode at CPL 0 (identity paging of the first 16 MiB).
; Each case leaves the arithmetic flags of a sequence on port 0xF4; the test
; compares them with the values worked out by hand.
%include "common.inc"
UNMAPPED equ 0x40000000
ARITH equ 0x8D5                   ; OF SF ZF AF PF CF

bits 64
org 0x1000
    lgdt [gdt_desc]
    lea rax, [rel pf_handler]
    mov word [idt + 14*16], ax
    mov word [idt + 14*16 + 2], 0x08
    mov byte [idt + 14*16 + 5], 0x8E
    shr rax, 16
    mov word [idt + 14*16 + 6], ax
    shr rax, 16
    mov dword [idt + 14*16 + 8], eax
    lidt [idt_desc]

    ; 1: a fault after records whose flags a later record would overwrite:
    ; the #PF handler sees the flags of the ADD (OF SF AF PF), not stale ones.
    xor eax, eax                  ; ZF PF
    mov ecx, 0x7FFFFFFF
    add ecx, 1                    ; 0x80000000: OF SF AF (PF: low byte 0, even)
    mov rbx, [UNMAPPED]           ; #PF: RFLAGS pushed here
    xor edx, edx                  ; would overwrite all six
    ; 2: the same with a rotate in between, which only writes CF (and OF
    ; for a count of 1): SF/ZF/AF/PF still come from the SUB.
    mov ecx, 1
    sub ecx, 2                    ; 0xFFFFFFFF: SF AF PF CF
    rol ecx, 1                    ; CF = 1, OF = SF ^ CF = 0
    mov rbx, [UNMAPPED]
    test edx, edx
    ; 3: dead records in the middle of a block, flags read at its end.
    mov ecx, 0x7FFFFFFF
    add ecx, 1                    ; dead: the SHL overwrites all six
    imul ecx, ecx, 3              ; dead
    shl ecx, 4                    ; 0x80000000 << 4 = 0: CF = 0, ZF PF, OF = 0
    pushfq
    pop rax
    and eax, ARITH
    out PORT, eax
    ; 4: a dead INC (the second one rewrites all it writes) leaves CF alone:
    ; CF from the STC survives both.
    stc
    mov ecx, 5
    inc ecx                       ; dead
    inc ecx                       ; 7: CF (kept), nothing else
    pushfq
    pop rax
    and eax, ARITH
    out PORT, eax
    ; 5: CMP/TEST with dead flags do nothing; a live CMP feeds a CMOV.
    mov ecx, 3
    cmp ecx, 4                    ; dead (the next CMP rewrites all six)
    cmp ecx, 2                    ; 3 > 2: CF = 0 ZF = 0
    mov edx, 0x11
    mov esi, 0x22
    cmova edx, esi                ; taken
    mov eax, edx
    out PORT, eax                 ; 0x22
    hlt

pf_handler:
    mov rax, [rsp + 24]           ; RFLAGS (error code, RIP, CS before it)
    and eax, ARITH
    out PORT, eax
    add qword [rsp + 8], 8        ; skip the 8-byte `mov rbx, [UNMAPPED]`
    add rsp, 8
    iretq

align 8
gdt:
    dq 0
    dq 0x00AF9B000000FFFF         ; 0x08 code64
    dq 0x00CF93000000FFFF         ; 0x10 data
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dq gdt
idt_desc:
    dw 15*16 - 1
    dq idt
align 16
idt: times 15*16 db 0
