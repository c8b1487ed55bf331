#!/usr/bin/env python3
"""png_text.py FILE.png --learn-row N [--size WxH]

Reads the text of a console screen drawn with an 8x16 font out of a PNG
screenshot (a tiny OCR for tests). Text row N (0-based) must show the 94
printable ASCII characters '!'..'~' from column 0: their cells become the
glyph table (so any 8x16 font works, e.g. Linux fbcon's VGA8x16). Every
8x16 cell is split into foreground (pixels that differ from the cell's
commonest colour) and background and looked up exactly; unknown cells
print as '?'. Prints one line per text row.

Exits 1 if the file is not a PNG of the expected --size, or if the learnt
glyphs are not 94 distinct non-blank cells (a garbled or blank
framebuffer). Only zlib and struct: the PNG decoder handles 8-bit RGB/RGBA
with all five filter types (pc64's own PNGs and ImageMagick's).
"""
import struct
import sys
import zlib


def read_png(path):
    d = open(path, 'rb').read()
    if d[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit(f'{path}: not a PNG')
    pos, idat, w, h, bpp = 8, b'', 0, 0, 3
    while pos < len(d):
        n, t = struct.unpack('>I4s', d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if t == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise SystemExit(f'{path}: only 8-bit RGB/RGBA PNGs (depth {depth}, type {ctype})')
            bpp = 3 if ctype == 2 else 4
        elif t == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if f == 1: line[i] = (line[i] + a) & 255
                elif f == 2: line[i] = (line[i] + b) & 255
                elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([bytes(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def cell_bits(px, cx, cy):
    cell = [px[cy + r][cx:cx + 8] for r in range(16)]
    counts = {}
    for row in cell:
        for p in row:
            counts[p] = counts.get(p, 0) + 1
    bg = max(counts, key=counts.get)
    return bytes(sum(0x80 >> i for i, p in enumerate(row) if p != bg) for row in cell)


def read_xwd(path):
    """An X window dump (xwd -root) of a TrueColor screen, as read_png returns it."""
    d = open(path, 'rb').read()
    f = struct.unpack('>25I', d[:100])
    header, fmt, w, h, order, bpp, stride, ncolors = f[0], f[2], f[4], f[5], f[7], f[11], f[12], f[19]
    masks = f[14:17]
    if fmt != 2 or bpp not in (24, 32):
        raise SystemExit(f'{path}: only ZPixmap dumps of 24/32-bit pixels (format {fmt}, {bpp} bpp)')
    shifts = [(m & -m).bit_length() - 1 for m in masks]
    base = header + ncolors * 12
    step = bpp // 8
    rows = []
    for y in range(h):
        line = d[base + y * stride:base + y * stride + w * step]
        row = []
        for x in range(w):
            v = int.from_bytes(line[x * step:(x + 1) * step], 'little' if order == 0 else 'big')
            row.append(bytes(((v & m) >> s) & 255 for m, s in zip(masks, shifts)))
        rows.append(row)
    return w, h, rows


def read_text(px, learn_row):
    """The text rows of a screen `px` (rows of RGB bytes); row `learn_row`
    must show '!'..'~' from column 0 (raises SystemExit otherwise)."""
    h, w = len(px), len(px[0])
    glyphs = {}
    for i, ch in enumerate(chr(c) for c in range(33, 127)):
        bits = cell_bits(px, i * 8, learn_row * 16)
        if not any(bits) or bits in glyphs:
            raise SystemExit(f'row {learn_row} column {i} ({ch!r}) is blank or repeats '
                             f'{glyphs.get(bits, "blank")!r}: not a font row')
        glyphs[bits] = ch
    lines = []
    for cy in range(0, h - 15, 16):
        out = []
        for cx in range(0, w - 7, 8):
            bits = cell_bits(px, cx, cy)
            out.append(' ' if not any(bits) else glyphs.get(bits, '?'))
        lines.append(''.join(out).rstrip())
    return lines


def main():
    args = sys.argv[1:]
    path = args[0]
    learn = int(args[args.index('--learn-row') + 1])
    want = tuple(map(int, args[args.index('--size') + 1].split('x'))) if '--size' in args else None
    w, h, px = read_png(path)
    if want and (w, h) != want:
        print(f'{path}: {w}x{h}, expected {want[0]}x{want[1]}', file=sys.stderr)
        sys.exit(1)
    print('\n'.join(read_text(px, learn)))


if __name__ == '__main__':
    main()
