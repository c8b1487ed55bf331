; The PC's legacy x87 error path, CR0.NE = 0 (SDM Vol. 1 D.2.1.1, D.2.2),
; on the whole board (tests/frontend/ferr_irq13_test.cpp runs it): a waiting
; x87 instruction that finds an unmasked exception pending asserts FERR# and
; freezes before it starts; FERR# -> IRQ13 -> the handler, which writes port
; 0xF0 (IRQ13 off, IGNNE# on), and returns to the frozen instruction. The
; handler reports where the interrupt hit (its return IP relative to the
; instruction expected to be frozen) and the x87 TOP it sees, so a frozen
; instruction that ran before the handler shows up as a wrong TOP.
;
;   1. handler with FNCLEX: the frozen FLD1 runs once, afterwards
;   2. handler without FNCLEX: IGNNE# stays asserted, the frozen FLD1 and
;      the next waiting instructions proceed with ES still set
;   3. FNCLEX negates FERR# and with it IGNNE#: the next exception freezes
;      FWAIT again
;
; Reports (port 0xF4): 0x13000000 | (return IP - expected IP) and
; 0x14000000 | TOP from the handler; 0x2000000n | handler count << 8 | TOP
; and 0x30000000 | FSW.ES from the main program.
%include "common.inc"

bits 16
org 0x1000

start:
    REAL_MODE_START
    mov word [0x75 * 4], irq13        ; IRQ13 = slave 8259 IR5, vector 0x70 + 5
    mov word [0x75 * 4 + 2], 0
    ; 8259 pair: master at vector 0x08, slave at 0x70 cascaded on IR2; only
    ; the cascade and IRQ13 unmasked.
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x70
    out 0xA1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xA1, al
    mov al, 0x01
    out 0x21, al
    out 0xA1, al
    mov al, 0xFB
    out 0x21, al
    mov al, 0xDF
    out 0xA1, al
    sti

    ; ---- 1: the handler clears the exception ----
    fninit
    fldcw [cw_ze]                     ; ZE unmasked
    fld1
    fldz
    fdivp st1, st0                    ; 1/0: ZE pending; unmasked, so no pop (TOP 6)
    REPORT 1                          ; a non-x87 instruction: nothing happens yet
    mov byte [clear], 1
    mov word [expect_ip], frozen1
frozen1:
    fld1                              ; freezes: IRQ13 first, then runs (TOP 5)
    call report_state

    ; ---- 2: IGNNE# lets waiting instructions proceed ----
    fninit
    fldcw [cw_ze]
    fld1
    fldz
    fdivp st1, st0                    ; ZE pending again (TOP 6)
    mov byte [clear], 0
    mov word [expect_ip], frozen2
frozen2:
    fld1                              ; freezes; the handler leaves ES set
    fld1                              ; IGNNE#: proceeds
    fwait                             ; IGNNE#: proceeds
    call report_state                 ; count 2, TOP 4, ES still 1

    ; ---- 3: FNCLEX negates FERR#, IGNNE# follows ----
    fnclex
    fldz
    fdivp st1, st0                    ; 1/0 again (TOP 3)
    mov byte [clear], 1
    mov word [expect_ip], frozen3
frozen3:
    fwait                             ; freezes again: IGNNE# is off
    call report_state                 ; count 3, TOP 3, ES 0
    REPORT 0xD0E
    cli
    jmp $                             ; the test's instruction budget ends here

; 0x2000000n | count << 8 | TOP, then 0x30000000 | FSW.ES.
report_state:
    fnstsw ax
    movzx edx, ax
    shr edx, 11
    and edx, 7
    movzx eax, byte [count]
    shl eax, 8
    or eax, edx
    or eax, 0x20000000
    out PORT, eax
    fnstsw ax
    movzx eax, ax
    shr eax, 7
    and eax, 1
    or eax, 0x30000000
    out PORT, eax
    ret

irq13:
    pushad
    mov bp, sp
    movzx eax, word [bp + 32]         ; the interrupted IP (IRET frame above PUSHAD's 32 bytes)
    sub ax, [expect_ip]
    or eax, 0x13000000
    out PORT, eax
    fnstsw ax                         ; non-waiting: does not freeze
    movzx eax, ax
    shr eax, 11
    and eax, 7
    or eax, 0x14000000
    out PORT, eax
    out 0xF0, al                      ; IRQ13 off; IGNNE# on while FERR# is asserted
    cmp byte [clear], 0
    je .keep
    fnclex                            ; FERR# off (and IGNNE# with it)
.keep:
    inc byte [count]
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    popad
    iret

cw_ze:     dw 0x037B
expect_ip: dw 0
clear:     db 0
count:     db 0
