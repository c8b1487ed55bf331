; pc64 multiboot test kernel (issue 7). Booted by `pc64 --kernel mbtest.bin
; --initrd "module1.txt first,module2.txt" --append "..."`, it checks the
; machine state the Multiboot Specification 0.6.96 (section 3.2) promises and
; prints the multiboot information structure (3.3) on COM1, so the guest test
; can compare it with what it passed. Then it powers off through the PIIX4's
; PM1a_CNT (PMBA 0x600 as pc64's direct boot sets it: SLP_TYP 0 = S5, SLP_EN).
; Flat binary with the a.out kludge (header flag 16): nasm -f bin.
        bits 32
        org 0x100000

MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ (1 << 0) | (1 << 1) | (1 << 16)  ; page-aligned modules, memory info, address fields
COM1            equ 0x3F8
PM1A_CNT        equ 0x604

start_of_image:
        jmp     entry
        align   4
mb_header:
        dd      MB_MAGIC
        dd      MB_FLAGS
        dd      -(MB_MAGIC + MB_FLAGS)
        dd      mb_header               ; header_addr
        dd      start_of_image          ; load_addr
        dd      end_of_data             ; load_end_addr
        dd      end_of_bss              ; bss_end_addr
        dd      entry                   ; entry_addr

entry:
        mov     [boot_eax], eax
        mov     [boot_ebx], ebx
        mov     esp, stack_top          ; ESP is undefined at entry (3.2)
        pushfd
        pop     dword [boot_eflags]
        mov     esi, s_start
        call    puts

        ; ---- entry state (3.2): magic, protected mode without paging, IF=0, flat segments, A20
        mov     esi, s_magic
        mov     eax, [boot_eax]
        call    put_labelled_hex
        mov     esi, s_cr0
        mov     eax, cr0
        and     eax, 0x80000001         ; PG, PE
        call    put_labelled_hex
        mov     esi, s_if
        mov     eax, [boot_eflags]
        shr     eax, 9
        and     eax, 1
        call    put_labelled_hex
        ; A20: 0x100000 aliases 0 when A20 is masked.
        mov     dword [0x0FF0], 0x11111111
        mov     dword [0x100FF0], 0x22222222
        mov     esi, s_a20_on
        cmp     dword [0x0FF0], 0x11111111
        je      .a20
        mov     esi, s_a20_off
.a20:   call    puts
        ; Flat data segment: its limit covers 4 GiB (LSL works on the selector).
        mov     esi, s_ds_limit
        mov     ax, ds
        movzx   eax, ax
        lsl     eax, eax
        call    put_labelled_hex

        ; ---- information structure (3.3)
        mov     ebx, [boot_ebx]
        mov     esi, s_flags
        mov     eax, [ebx]
        call    put_labelled_hex
        mov     esi, s_mem_lower
        mov     eax, [ebx + 4]
        call    put_labelled_hex
        mov     esi, s_mem_upper
        mov     eax, [ebx + 8]
        call    put_labelled_hex
        test    dword [ebx], 1 << 2
        jz      .no_cmdline
        mov     esi, s_cmdline
        call    puts_nonl
        mov     esi, [ebx + 16]
        call    puts
.no_cmdline:
        test    dword [ebx], 1 << 9
        jz      .no_name
        mov     esi, s_loader
        call    puts_nonl
        mov     esi, [ebx + 64]
        call    puts
.no_name:
        ; modules: start, end, string; the first line of each file
        test    dword [ebx], 1 << 3
        jz      .no_mods
        mov     esi, s_mods_count
        mov     eax, [ebx + 20]
        call    put_labelled_hex
        mov     edi, [ebx + 24]
        mov     ecx, [ebx + 20]
.mod:   test    ecx, ecx
        jz      .mods_done
        mov     esi, s_mod
        call    puts_nonl
        mov     eax, [edi + 4]
        sub     eax, [edi]
        call    put_hex                 ; size
        mov     esi, s_align
        test    dword [edi], 0xFFF
        jz      .aligned
        mov     esi, s_unaligned
.aligned:
        call    puts_nonl
        mov     eax, [edi]
        cmp     eax, end_of_bss         ; modules must not overlap the kernel
        mov     esi, s_after_kernel
        jae     .after
        mov     esi, s_overlaps_kernel
.after: call    puts_nonl
        mov     esi, [edi + 8]
        call    puts_nonl
        mov     esi, s_text
        call    puts_nonl
        mov     esi, [edi]              ; first line of the module's contents
        call    puts_line
        add     edi, 16
        dec     ecx
        jmp     .mod
.mods_done:
.no_mods:
        ; memory map: base, length, type of each entry; the RAM that holds
        ; the kernel must be type 1 and agree with mem_upper.
        test    dword [ebx], 1 << 6
        jz      .no_mmap
        mov     edi, [ebx + 48]         ; mmap_addr
        mov     edx, edi
        add     edx, [ebx + 44]         ; + mmap_length
.entry: cmp     edi, edx
        jae     .mmap_done
        mov     esi, s_mmap
        call    puts_nonl
        mov     eax, [edi + 8]          ; base_addr high
        call    put_hex
        mov     eax, [edi + 4]          ; base_addr low
        call    put_hex
        mov     al, ' '
        call    putc
        mov     eax, [edi + 16]         ; length high
        call    put_hex
        mov     eax, [edi + 12]
        call    put_hex
        mov     al, ' '
        call    putc
        mov     eax, [edi + 20]         ; type
        call    put_hex
        mov     al, 10
        call    putc
        ; The entry that starts at 1 MiB: RAM whose length is mem_upper KiB.
        cmp     dword [edi + 4], 0x100000
        jne     .next
        cmp     dword [edi + 8], 0
        jne     .next
        cmp     dword [edi + 20], 1
        jne     .next
        mov     eax, [ebx + 8]
        shl     eax, 10
        cmp     eax, [edi + 12]
        jne     .next
        mov     byte [upper_ok], 1
.next:  add     edi, [edi]              ; size field excludes itself
        add     edi, 4
        jmp     .entry
.mmap_done:
        mov     esi, s_upper_bad
        cmp     byte [upper_ok], 1
        jne     .say
        mov     esi, s_upper_ok
.say:   call    puts
.no_mmap:
        ; The bss the a.out kludge asked for is zero.
        mov     esi, s_bss_zero
        cmp     dword [bss_probe], 0
        je      .bss
        mov     esi, s_bss_dirty
.bss:   call    puts
        mov     esi, s_done
        call    puts
        mov     dx, PM1A_CNT
        mov     ax, 1 << 13             ; SLP_EN, SLP_TYP 0 (S5 in pc64's DSDT)
        out     dx, ax
        cli
.hang:  hlt
        jmp     .hang

; ---- COM1 output (polls LSR.THRE)
putc:   push    edx
        push    eax
        mov     dx, COM1 + 5
.wait:  in      al, dx
        test    al, 0x20
        jz      .wait
        pop     eax
        mov     dx, COM1
        out     dx, al
        pop     edx
        ret
puts_nonl:                              ; ESI: NUL-terminated string
        push    eax
.l:     lodsb
        test    al, al
        jz      .e
        call    putc
        jmp     .l
.e:     pop     eax
        ret
puts:   call    puts_nonl
        push    eax
        mov     al, 10
        call    putc
        pop     eax
        ret
puts_line:                              ; ESI: text up to the first newline (at most 80 bytes)
        push    eax
        push    ecx
        mov     ecx, 80
.l:     lodsb
        cmp     al, 10
        je      .e
        test    al, al
        jz      .e
        call    putc
        loop    .l
.e:     mov     al, 10
        call    putc
        pop     ecx
        pop     eax
        ret
put_hex:                                ; EAX as 8 hex digits
        push    ecx
        push    eax
        mov     ecx, 8
.l:     rol     eax, 4
        push    eax
        and     al, 0x0F
        add     al, '0'
        cmp     al, '9'
        jbe     .d
        add     al, 'A' - '9' - 1
.d:     call    putc
        pop     eax
        loop    .l
        pop     eax
        pop     ecx
        ret
put_labelled_hex:                       ; ESI: label, EAX: value
        call    puts_nonl
        call    put_hex
        push    eax
        mov     al, 10
        call    putc
        pop     eax
        ret

s_start:        db "PC64-MB-START", 0
s_magic:        db "magic=", 0
s_cr0:          db "cr0.pg.pe=", 0
s_if:           db "eflags.if=", 0
s_a20_on:       db "a20=on", 0
s_a20_off:      db "a20=off", 0
s_ds_limit:     db "ds.limit=", 0
s_flags:        db "info.flags=", 0
s_mem_lower:    db "mem_lower=", 0
s_mem_upper:    db "mem_upper=", 0
s_cmdline:      db "cmdline=", 0
s_loader:       db "boot_loader_name=", 0
s_mods_count:   db "mods_count=", 0
s_mod:          db "module size=", 0
s_align:        db " page-aligned", 0
s_unaligned:    db " UNALIGNED", 0
s_after_kernel: db " after-kernel string=", 0
s_overlaps_kernel: db " OVERLAPS-KERNEL string=", 0
s_text:         db " text=", 0
s_mmap:         db "mmap ", 0
s_upper_ok:     db "mmap agrees with mem_upper", 0
s_upper_bad:    db "MB-FAIL: no RAM entry at 1 MiB of mem_upper KiB", 0
s_bss_zero:     db "bss zeroed", 0
s_bss_dirty:    db "MB-FAIL: bss not zeroed", 0
s_done:         db "PC64-MB-DONE", 0
        align   4
end_of_data:

        absolute end_of_data
boot_eax:       resd 1
boot_ebx:       resd 1
boot_eflags:    resd 1
upper_ok:       resd 1
bss_probe:      resd 1
                resb 4096
stack_top:
end_of_bss:
