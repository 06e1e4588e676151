#!/usr/bin/python3
"""pngcheck.py - is a rendered PNG a picture? For t3900 (the SVG plot).

usage: pngcheck.py [--decoder auto|pil|zlib] [--size WxH] [--colours N]
                   [--region NAME:X0,Y0,X1,Y1:FRACTION ...]
                   [--blank NAME:X0,Y0,X1,Y1:FRACTION ...] file.png

Decodes the PNG with PIL when it imports (auto), else by hand with zlib
(8-bit grey, grey+alpha, RGB or RGBA, not interlaced), and prints
    size WxH
    colours N                 distinct RGB colours in the whole image
    region NAME FRACTION      the share of "ink" pixels in the box
where ink is a pixel with some channel below 200: lines, text and shading,
but not white, the light grey grid (#e6e6e6) or antialiasing haze. Exits 1
when the size differs from --size, there are fewer than --colours colours,
a --region has less ink than its FRACTION or a --blank region more (what
must stay empty: a picture shifted by an error message fails there); 2 on
a usage or decoding error.
"""
import struct
import sys
import zlib

INK = 200


def decode_zlib(path):
    """(width, height, rows of RGB tuples) by hand."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG file')
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0]:
            raise ValueError('bad CRC in chunk %r' % kind)
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
        pos += 12 + n
    if ihdr is None:
        raise ValueError('no IHDR chunk')
    w, h, depth, ctype, _, _, interlace = ihdr
    chans = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or chans is None or interlace:
        raise ValueError('unsupported PNG: depth %d, colour type %d, interlace %d'
                         % (depth, ctype, interlace))
    raw = zlib.decompress(b''.join(idat))
    stride = w * chans
    if len(raw) != h * (stride + 1):
        raise ValueError('image data is %d bytes, expected %d' % (len(raw), h * (stride + 1)))
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft == 1:
            for i in range(chans, stride):
                line[i] = (line[i] + line[i - chans]) & 255
        elif ft == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif ft == 3:
            for i in range(stride):
                left = line[i - chans] if i >= chans else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ft == 4:
            for i in range(stride):
                a = line[i - chans] if i >= chans else 0
                b = prev[i]
                c = prev[i - chans] if i >= chans else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        elif ft != 0:
            raise ValueError('bad filter type %d in row %d' % (ft, y))
        prev = line
        if chans >= 3:
            rows.append([tuple(line[i:i + 3]) for i in range(0, stride, chans)])
        else:
            rows.append([(v, v, v) for v in line[::chans]])
    return w, h, rows


def decode_pil(path):
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert('RGB')
        w, h = im.size
        px = list(im.getdata())
    return w, h, [px[y * w:(y + 1) * w] for y in range(h)]


def main(argv):
    decoder, size, colours, regions, path = 'auto', None, 0, [], None
    args = list(argv)
    try:
        while args:
            a = args.pop(0)
            if a == '--decoder':
                decoder = args.pop(0)
            elif a == '--size':
                size = tuple(int(v) for v in args.pop(0).split('x'))
            elif a == '--colours':
                colours = int(args.pop(0))
            elif a in ('--region', '--blank'):
                name, box, frac = args.pop(0).split(':')
                regions.append((name, [int(v) for v in box.split(',')], float(frac),
                                a == '--blank'))
            elif path is None and not a.startswith('-'):
                path = a
            else:
                raise ValueError(a)
        if path is None or decoder not in ('auto', 'pil', 'zlib'):
            raise ValueError('no file')
    except (IndexError, ValueError):
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    try:
        if decoder == 'auto':
            try:
                import PIL  # noqa: F401
                decoder = 'pil'
            except ImportError:
                decoder = 'zlib'
        w, h, rows = decode_pil(path) if decoder == 'pil' else decode_zlib(path)
    except Exception as err:  # any decoding failure is a plain error
        print('pngcheck: %s: %s' % (path, err), file=sys.stderr)
        return 2
    bad = []
    print('size %dx%d' % (w, h))
    if size is not None and (w, h) != size:
        bad.append('size %dx%d, expected %dx%d' % (w, h, size[0], size[1]))
    ncol = len(set(p for row in rows for p in row))
    print('colours %d' % ncol)
    if ncol < colours:
        bad.append('%d colours, expected at least %d' % (ncol, colours))
    for name, (x0, y0, x1, y1), want, blank in regions:
        x0, x1 = max(0, x0), min(w, x1)
        y0, y1 = max(0, y0), min(h, y1)
        total = max(1, (x1 - x0) * (y1 - y0))
        ink = sum(1 for y in range(y0, y1) for p in rows[y][x0:x1] if min(p) < INK) / total
        print('region %s %.4f' % (name, ink))
        if blank and ink > want:
            bad.append('region %s: ink %.4f, expected at most %g' % (name, ink, want))
        elif not blank and ink < want:
            bad.append('region %s: ink %.4f, expected at least %g' % (name, ink, want))
    for b in bad:
        print('pngcheck: %s: %s' % (path, b), file=sys.stderr)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
