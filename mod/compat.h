/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thin layer over kernel API differences between the kernels gomalloc is
 * built for: Debian's 6.1 and the 6.12 of bookworm-backports. Features are
 * detected by the macros the headers define, not by version numbers.
 */
#ifndef _GOM_COMPAT_H
#define _GOM_COMPAT_H

#include <linux/mmzone.h>
#include <linux/shrinker.h>

/*
 * Largest page order alloc_pages() accepts, inclusive. 6.1's MAX_ORDER is
 * exclusive; 6.8 introduced the inclusive MAX_PAGE_ORDER. (6.4 to 6.7 had
 * an inclusive MAX_ORDER; there this is one order short of the maximum,
 * which is still correct.)
 */
#ifdef MAX_PAGE_ORDER
#define GOM_MAX_ORDER		MAX_PAGE_ORDER
#else
#define GOM_MAX_ORDER		(MAX_ORDER - 1)
#endif

/* 6.7 replaced register_shrinker() by shrinker_alloc()/_register(). */
#ifdef SHRINKER_ALLOCATED
#define GOM_HAVE_SHRINKER_ALLOC	1
#endif

/*
 * 6.1's __GFP_ATOMIC lets an atomic allocation use the high-order reserve;
 * 6.3 folded it into __GFP_HIGH.
 */
#ifdef __GFP_ATOMIC
#define GOM_GFP_ATOMIC		__GFP_ATOMIC
#else
#define GOM_GFP_ATOMIC		0
#endif

#endif /* _GOM_COMPAT_H */
