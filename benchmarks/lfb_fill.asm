; Linear-framebuffer fill for pc64_lfb_bench: dword stores over 1024x768x32
; (3 MiB) at the address in RDI at entry (kept in RBX), a new colour per frame.
; Never terminates; the benchmark bounds it by an instruction budget.
bits 64
org 0x10000

start:
    mov rbx, rdi
    mov eax, 0x00204080
.frame:
    mov rdi, rbx
    mov ecx, 1024 * 768
.pixel:
    mov [rdi], eax
    add rdi, 4
    dec ecx
    jnz .pixel
    inc eax
    jmp .frame
