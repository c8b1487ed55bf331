; Soft-TLB benchmark guest loop (64-bit): one load and one store per page
; step across [r8, r9) with stride r10, then starts over. The C++ side picks
; the working set: smaller than the soft TLB (hits) or larger (misses).
; 6 instructions and 2 memory accesses per step; never terminates.
bits 64
org 0x10000

start:
    mov rdi, r8
.loop:
    mov rax, [rdi]          ; load
    add rax, rdi
    mov [rdi + 8], rax      ; store
    add rdi, r10
    cmp rdi, r9
    jb .loop
    jmp start
