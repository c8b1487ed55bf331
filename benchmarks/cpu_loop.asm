; CPU-bound guest loop for the interpreter benchmark: integer ALU, loads and
; stores, conditional branches and calls, in 64-bit mode. Never terminates;
; the benchmark bounds it by an instruction budget.
bits 64
org 0x10000

start:
    lea rsi, [rel table]
    xor ecx, ecx
    mov r8, 0x9E3779B97F4A7C15
.loop:
    mov rax, rcx
    and eax, 63
    mov rdx, [rsi + rax*8]       ; load
    add rdx, r8
    rol rdx, 7
    xor rdx, rcx
    mov [rsi + rax*8], rdx       ; store
    imul r9, rdx, 31
    test r9b, 1
    jz .even
    add r10, r9
    jmp .next
.even:
    sub r10, r9
.next:
    call mix
    inc rcx
    cmp rcx, 1000000
    jb .loop
    jmp start

mix:
    mov r11, r10
    shr r11, 3
    add r12, r11
    cmp r12, r10
    cmova r12, r10
    ret

align 4096   ; data on its own page, as compilers and kernels lay it out
table: times 64 dq 0
