#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate gomalloc's size-class table (mod/sizeclasses.h, mod/sizeclasses.c).

In the spirit of Go's runtime/_mkmalloc/mksizeclasses.go, adapted to the
kernel's 4 KiB pages and to explicit free:

- Sizes step by an alignment that grows with the size: 8 bytes up to 32,
  16 up to 128, then size/8 within each power-of-two interval, so that above
  128 bytes no request gets more than 1.125 times what it asked for.
- Each class gets a preferred span: the smallest (in pages) whose unusable
  tail is at most 1/8 of the span. It also has a minimum span, used when
  the page allocator is too fragmented for the preferred one: one page for
  classes up to PAGE_SIZE, the class size rounded up to pages above.
- Two neighbouring classes with the same span size and objects per span are
  merged into the larger one, as Go does, unless that would lose a power of
  two or break the 1.125 bound.
- An object's index in its span is ror32(offset * inv, shift), where
  size = odd << shift and inv is odd's inverse modulo 2^32: the result is
  below the span's object count exactly when the offset is a multiple of
  the size, so one multiply both finds and validates an object.
- Size-to-class lookup is two direct-indexed tables, as in Go: one by 8-byte
  steps up to 1024 bytes, one by 128-byte steps up to 32 KiB.

Usage: mksizeclasses.py [--check] OUTDIR
"""
import argparse
import os
import sys

PAGE_SIZE = 4096
MAX_SMALL = 32768
SMALL_STEP = 8          # size_to_class8 granularity
SMALL_MAX = 1024        # size_to_class8 covers sizes up to this
LARGE_STEP = 128        # size_to_class128 granularity
MAG_MAX = 54            # magazine slots: a CPU's caches fit in 6 pages
MAG_BYTES = 65536       # a magazine caches at most this many bytes...
MAG_MIN = 8             # ...but never fewer than this many objects,
MAG_SPAN = 16           # nor than a span's, up to this many
WASTE_LIMIT = 0.125     # tail waste bound; requests above 128 bytes get at
GROW_LIMIT = 1.125      # most GROW_LIMIT times their size
MIN_SPAN_PAGES = 4      # smallest span
MIN_SPAN_OBJS = 16      # objects a span should hold...
MAX_SPAN_PAGES = 32     # ...unless that needs more pages than this


def pow2(n):
    return n & (n - 1) == 0


def span_pages(size):
    """Smallest span of at least MIN_SPAN_PAGES pages with a tail of at
    most 1/8 that holds MIN_SPAN_OBJS objects, if MAX_SPAN_PAGES allows.
    Larger spans than Go's (which has 8 KiB pages) amortise the span
    descriptor and the trip to the mheap over more objects."""
    alloc = MIN_SPAN_PAGES * PAGE_SIZE
    while (alloc % size > alloc // 8 or
           (alloc // size < MIN_SPAN_OBJS and
            alloc < MAX_SPAN_PAGES * PAGE_SIZE)):
        alloc += PAGE_SIZE
    return alloc // PAGE_SIZE


def gen_classes():
    classes = []
    align = 8
    size = align
    while size <= MAX_SMALL:
        if pow2(size):
            if size >= 128:
                align = size // 8
            elif size >= 32:
                align = 16
        npages = span_pages(size)
        nobjs = npages * PAGE_SIZE // size
        if len(classes) >= 2:
            last = classes[-1]
            prev = classes[-2]['size']
            if (last['npages'] == npages and last['nobjs'] == nobjs and
                    not pow2(last['size']) and
                    (size <= 128 or size <= GROW_LIMIT * (prev + 1))):
                last['size'] = size
                size += align
                continue
        classes.append({'size': size, 'npages': npages, 'nobjs': nobjs})
        size += align
    return classes


def annotate(classes):
    prev = 0
    for c in classes:
        span = c['npages'] * PAGE_SIZE
        c['tail'] = span - c['nobjs'] * c['size']
        c['tail_pct'] = 100.0 * c['tail'] / span
        c['prev'] = prev
        c['round_pct'] = 100.0 * (c['size'] - prev - 1) / (prev + 1)
        c['max_pct'] = 100.0 * (span - c['nobjs'] * (prev + 1)) / span
        c['min_pages'] = -(-c['size'] // PAGE_SIZE)
        c['min_nobjs'] = c['min_pages'] * PAGE_SIZE // c['size']
        shift = (c['size'] & -c['size']).bit_length() - 1
        c['shift'] = shift
        c['inv'] = pow(c['size'] >> shift, -1, 1 << 32)
        cap = max(MAG_MIN, min(MAG_SPAN, c['nobjs']),
                  min(MAG_MAX, MAG_BYTES // c['size']))
        c['mag_cap'] = cap
        prev = c['size']


def check(classes):
    errs = []
    sizes = [c['size'] for c in classes]
    if len(classes) < 60:
        errs.append('only %d classes' % len(classes))
    if sizes[0] != 8 or sizes[-1] != MAX_SMALL:
        errs.append('range %d..%d' % (sizes[0], sizes[-1]))
    p = 8
    while p <= MAX_SMALL:
        if p not in sizes:
            errs.append('power of two %d is not a class' % p)
        p *= 2
    for c in classes:
        s = c['size']
        if s % 8:
            errs.append('%d not 8-byte aligned' % s)
        if s > 128 and s > GROW_LIMIT * (c['prev'] + 1):
            errs.append('%d is %.3f times a request of %d' %
                        (s, s / (c['prev'] + 1), c['prev'] + 1))
        if c['tail_pct'] > 100 * WASTE_LIMIT:
            errs.append('%d tail waste %.2f%%' % (s, c['tail_pct']))
        if c['min_pages'] > c['npages'] or c['min_nobjs'] < 1:
            errs.append('%d minimum span %d pages' % (s, c['min_pages']))
        for o in range(c['npages'] * PAGE_SIZE):
            idx = obj_index(c, o)
            if (idx < c['nobjs']) != (o % s == 0 and o // s < c['nobjs']) or (
                    idx < c['nobjs'] and idx != o // s):
                errs.append('object index wrong for %d at %d' % (s, o))
                break
    return errs


def obj_index(c, off):
    """ror32(off * inv, shift), as the kernel computes it."""
    v = (off * c['inv']) & 0xffffffff
    sh = c['shift']
    return ((v >> sh) | (v << (32 - sh))) & 0xffffffff if sh else v


def lookup_tables(classes):
    def cls_for(size):
        for i, c in enumerate(classes):
            if c['size'] >= size:
                return i + 1
        raise ValueError(size)
    t8 = [0] + [cls_for(i * SMALL_STEP)
                for i in range(1, SMALL_MAX // SMALL_STEP + 1)]
    n128 = (MAX_SMALL - SMALL_MAX) // LARGE_STEP + 1
    t128 = [cls_for(SMALL_MAX + i * LARGE_STEP) for i in range(n128)]
    return t8, t128


def table_comment(classes):
    lines = [' * class  bytes/obj  pages  objects  min pages  tail waste  max waste  mag']
    for i, c in enumerate(classes, 1):
        lines.append(' * %5d  %9d  %5d  %7d  %9d  %9.2f%%  %8.2f%%  %3d' %
                     (i, c['size'], c['npages'], c['nobjs'], c['min_pages'],
                      c['tail_pct'], c['round_pct'], c['mag_cap']))
    return '\n'.join(lines)


HEADER = """/* SPDX-License-Identifier: GPL-2.0 */
/* Code generated by scripts/mksizeclasses.py; DO NOT EDIT. */
/*
 * gomalloc size classes for %(page)d-byte pages.
 *
 * bytes/obj:  the class (object) size; every object is 8-byte aligned and
 *             power-of-two sizes up to PAGE_SIZE are naturally aligned.
 * pages:      pages in the class's preferred span.
 * objects:    objects carved from a preferred span.
 * min pages:  the smallest span, used when the page allocator has no
 *             free block of the preferred size (one page up to PAGE_SIZE).
 * tail waste: bytes at the end of a preferred span that hold no object.
 * max waste:  worst rounding loss of one object: what a request one byte
 *             above the previous class gets beyond what it asked for, as
 *             a share of the request.
 * mag:        per-CPU magazine capacity (objects); a full one is flushed whole.
 *
%(table)s
 */
#ifndef _GOM_SIZECLASSES_H
#define _GOM_SIZECLASSES_H

#include <linux/types.h>

#define GOM_NR_CLASSES		%(nr)d	/* class 0 means "large" */
#define GOM_SMALL_MAX		%(small_max)d
#define GOM_SMALL_STEP_SHIFT	3
#define GOM_LARGE_STEP_SHIFT	7
#define GOM_MAG_MAX		%(mag_max)d
#define GOM_MAX_SPAN_PAGES	%(max_pages)d
#define GOM_MAX_SPAN_OBJS	%(max_objs)d

/**
 * struct gom_class - static description of one size class
 * @size: object size in bytes
 * @npages: pages per preferred span
 * @nobjs: objects per preferred span
 * @min_pages: pages of the smallest span
 * @min_nobjs: objects per smallest span
 * @mag_cap: per-CPU magazine capacity
 * @shift: trailing zero bits of @size
 * @inv: inverse of (@size >> @shift) modulo 2^32; an offset's object index
 *	 is ror32(offset * @inv, @shift), below the object count only for
 *	 the offset of an object
 */
struct gom_class {
	u32 size;
	u16 npages;
	u16 nobjs;
	u16 min_pages;
	u16 min_nobjs;
	u16 mag_cap;
	u8 shift;
	u32 inv;
};

extern const struct gom_class gom_classes[GOM_NR_CLASSES];
extern const u8 gom_size_to_class8[%(n8)d];
extern const u8 gom_size_to_class128[%(n128)d];

#endif /* _GOM_SIZECLASSES_H */
"""

SOURCE = """// SPDX-License-Identifier: GPL-2.0
/* Code generated by scripts/mksizeclasses.py; DO NOT EDIT. */
#include "internal.h"

/* Exported for the KUnit suites, which check the table. */
const struct gom_class gom_classes[GOM_NR_CLASSES] = {
	[0] = { 0 },
%(rows)s
};
EXPORT_SYMBOL_GOM_INTERNAL(gom_classes);

const u8 gom_size_to_class8[%(n8)d] = {
%(t8)s
};
EXPORT_SYMBOL_GOM_INTERNAL(gom_size_to_class8);

const u8 gom_size_to_class128[%(n128)d] = {
%(t128)s
};
EXPORT_SYMBOL_GOM_INTERNAL(gom_size_to_class128);
"""


def wrap(nums, per=12):
    out = []
    for i in range(0, len(nums), per):
        out.append('\t' + ', '.join('%d' % n for n in nums[i:i + per]) + ',')
    return '\n'.join(out)


def render(classes):
    t8, t128 = lookup_tables(classes)
    rows = []
    for i, c in enumerate(classes, 1):
        rows.append('\t[%d] = { %d, %d, %d, %d, %d, %d, %d, 0x%08x },' %
                    (i, c['size'], c['npages'], c['nobjs'], c['min_pages'],
                     c['min_nobjs'], c['mag_cap'], c['shift'],
                     c['inv']))
    d = {
        'page': PAGE_SIZE, 'table': table_comment(classes),
        'nr': len(classes) + 1, 'small_max': SMALL_MAX, 'mag_max': MAG_MAX,
        'max_pages': max(c['npages'] for c in classes),
        'max_objs': max(c['nobjs'] for c in classes),
        'n8': len(t8), 'n128': len(t128), 'rows': '\n'.join(rows),
        't8': wrap(t8), 't128': wrap(t128),
    }
    return HEADER % d, SOURCE % d


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true',
                    help='fail if OUTDIR differs from what would be written')
    ap.add_argument('outdir')
    args = ap.parse_args()
    classes = gen_classes()
    annotate(classes)
    errs = check(classes)
    if errs:
        sys.exit('mksizeclasses: ' + '; '.join(errs))
    h, c = render(classes)
    files = {'sizeclasses.h': h, 'sizeclasses.c': c}
    stale = []
    for name, text in files.items():
        path = os.path.join(args.outdir, name)
        if args.check:
            try:
                with open(path) as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(path, 'w') as f:
                f.write(text)
    if stale:
        sys.exit('mksizeclasses: out of date: ' + ' '.join(stale))


if __name__ == '__main__':
    main()
