; SSE2 floating-point guest loop for the benchmark: Mandelbrot in doubles
; (scalar SSE2 as compilers emit it: cvtsi2sd, mulsd/addsd/subsd, comisd,
; movapd), 64x32 points, at most 64 iterations each, over and over. Never
; terminates; the benchmark bounds it by an instruction budget.
bits 64
org 0x10000

start:
    movsd xmm15, [rel four]
    xor r8d, r8d                 ; y
.row:
    cvtsi2sd xmm1, r8d
    mulsd xmm1, [rel step_y]
    addsd xmm1, [rel min_y]         ; ci
    xor r9d, r9d                 ; x
.col:
    cvtsi2sd xmm0, r9d
    mulsd xmm0, [rel step_x]
    addsd xmm0, [rel min_x]         ; cr
    xorpd xmm2, xmm2             ; zr
    xorpd xmm3, xmm3             ; zi
    mov ecx, 64
.iter:
    movapd xmm4, xmm2
    mulsd xmm4, xmm2             ; zr^2
    movapd xmm5, xmm3
    mulsd xmm5, xmm3             ; zi^2
    movapd xmm6, xmm4
    addsd xmm6, xmm5
    comisd xmm6, xmm15
    ja .escape                   ; |z|^2 > 4
    mulsd xmm3, xmm2
    addsd xmm3, xmm3
    addsd xmm3, xmm1             ; zi = 2 zr zi + ci
    subsd xmm4, xmm5
    addsd xmm4, xmm0
    movapd xmm2, xmm4            ; zr = zr^2 - zi^2 + cr
    dec ecx
    jnz .iter
.escape:
    add r10d, ecx                ; keep the result live
    inc r9d
    cmp r9d, 64
    jb .col
    inc r8d
    cmp r8d, 32
    jb .row
    jmp start

align 16
four:   dq 4.0
min_x:  dq -2.0
min_y:  dq -1.0
step_x: dq 0.046875                ; 3 / 64
step_y: dq 0.0625                  ; 2 / 32
