/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomalloc debugging hooks, shared by api.c, mcache.h, mcentral.c,
 * runcache.c and stack.c; the options behind them live in debug.c.
 *
 * KASAN and kmemleak are the kernel's own and exist only in kernels built
 * with them (the project's debug kernel): there, every object is
 * unpoisoned for exactly the bytes asked for when it is handed out,
 * poisoned when it is freed, and registered with kmemleak while it is
 * live. Elsewhere these hooks compile to nothing.
 *
 * debug=, the quarantine and fault injection are gomalloc's own and work
 * on any kernel: while one of them is on, gom_debug_key sends every
 * allocation and free through api.c's debug paths.
 *
 * gom_alloc() and gom_free() test one static key each before their fast
 * paths, on while anything needs the out-of-line ones: gom_alloc_hook_key
 * for the debug options and the gom_alloc tracepoint, gom_free_hook_key
 * for the debug options, the gom_free tracepoint, init_on_free and more
 * than one NUMA node. While all are off, that branch is all they cost.
 */
#ifndef _GOM_DEBUG_H
#define _GOM_DEBUG_H

#include <linux/jump_label.h>
#include <linux/kasan.h>
#include <linux/kmemleak.h>
#include "internal.h"

DECLARE_STATIC_KEY_FALSE(gom_debug_key);
DECLARE_STATIC_KEY_FALSE(gom_alloc_hook_key);
DECLARE_STATIC_KEY_FALSE(gom_free_hook_key);

#ifdef CONFIG_KASAN_GENERIC
/* mm/kasan/kasan.h declares them; they are exported for modules. */
void kasan_poison(const void *addr, size_t size, u8 value, bool init);
bool kasan_save_enable_multi_shot(void);
void kasan_restore_multi_shot(bool enabled);

#define GOM_KASAN_GRANULE	BIT(KASAN_SHADOW_SCALE_SHIFT)
#define GOM_KASAN_FREE		0xFB	/* KASAN_SLAB_FREE: use after free */
#define GOM_KASAN_REDZONE	0xFC	/* KASAN_SLAB_REDZONE: out of bounds */

/* Make exactly [@p, @p + @size) accessible; @p is granule aligned. */
static inline void gom_kasan_unpoison(const void *p, size_t size)
{
	size_t whole = round_down(size, GOM_KASAN_GRANULE);

	kasan_poison(p, whole, 0, false);
	/* a partial granule: its shadow byte says how much of it is valid */
	if (size > whole)
		kasan_poison(p + whole, GOM_KASAN_GRANULE, size - whole, false);
}

/* Poison [@p + @from, @p + @to) with @value; @to is granule aligned. */
static inline void gom_kasan_poison(const void *p, size_t from, size_t to,
				    u8 value)
{
	from = round_up(from, GOM_KASAN_GRANULE);
	if (to > from)
		kasan_poison(p + from, to - from, value, false);
}
#else
static inline void gom_kasan_unpoison(const void *p, size_t size)
{
}

static inline void gom_kasan_poison(const void *p, size_t from, size_t to,
				    u8 value)
{
}

#define GOM_KASAN_FREE		0
#define GOM_KASAN_REDZONE	0
#endif

/*
 * An object of @slot bytes is handed out for @size: the rest of the slot
 * is a red zone to KASAN, and kmemleak scans the object for pointers.
 */
static __always_inline void gom_hook_alloc(void *obj, size_t size,
					   size_t slot, gfp_t gfp)
{
	if (IS_ENABLED(CONFIG_KASAN_GENERIC)) {
		gom_kasan_unpoison(obj, size);
		gom_kasan_poison(obj, size, slot, GOM_KASAN_REDZONE);
	}
	kmemleak_alloc(obj, size, 1, gfp);
}

/* Clear @len bytes being freed: under KASAN, all of them must be allowed. */
static inline void gom_clear_on_free(void *obj, size_t len)
{
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		gom_kasan_unpoison(obj, len);
	memset(obj, 0, len);
}

/* An object of @slot bytes is freed: no access to it is valid any more. */
static __always_inline void gom_hook_free(const void *obj, size_t slot)
{
	kmemleak_free(obj);
	gom_kasan_poison(obj, 0, slot, GOM_KASAN_FREE);
}

/* Debug options: debug.c */
size_t gom_debug_size(size_t size);
bool gom_debug_alloc_ok(void *obj, size_t size, size_t slot,
			unsigned long caller);
bool gom_debug_free_ok(void *obj, size_t slot, unsigned long caller,
		       bool span_free);
size_t gom_debug_usable(const void *obj, size_t slot);
void gom_debug_carve(unsigned long base, unsigned int nobjs,
		     unsigned int size);
void *gom_quarantine_put(void *obj, size_t slot);
void *gom_quarantine_take(void);
bool gom_should_fail(size_t size, gfp_t gfp, unsigned long caller);
void gom_debug_debugfs(struct dentry *dir);
int gom_debug_init(void);
void gom_debug_exit(void);

#endif /* _GOM_DEBUG_H */
