// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc report: what goes wrong, counted and reported.
 *
 * Every level refuses bad input the same way: the error is counted in
 * struct gom_counters (shown in /sys/kernel/gomalloc), reported with a
 * ratelimited warning, and nothing else happens: a refused free leaves
 * the memory alone, a failed allocation returns NULL. This file is the
 * bottom of the call graph; it calls no other file of gomalloc.
 *
 * It also keeps gom_metadata_bytes, the memory gomalloc takes from
 * kmalloc and the page allocator for its own structures, which is not an
 * error but is counted here for the same reason: every level adds to it.
 *
 * Locking: none; the counters are atomics.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/printk.h>
#include "internal.h"

struct gom_counters gom_counters;
EXPORT_SYMBOL_GOM_INTERNAL(gom_counters);

atomic_long_t gom_metadata_bytes;
EXPORT_SYMBOL_GOM_INTERNAL(gom_metadata_bytes);

/**
 * gom_refuse_free() - count and report a free that gomalloc refuses
 * @ptr: the pointer passed in
 * @why: what is wrong with it
 * @dbl: true for a double free, false for an invalid pointer
 *
 * Context: any.
 */
void gom_refuse_free(const void *ptr, const char *why, bool dbl)
{
	atomic_long_inc(dbl ? &gom_counters.double_frees :
			&gom_counters.invalid_frees);
	pr_warn_ratelimited("refused free of %p: %s\n", ptr, why);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_refuse_free);

/**
 * gom_alloc_failed() - count and report an allocation that failed
 * @size: bytes asked for
 * @flags: the caller's GFP flags; __GFP_NOWARN silences the report
 *
 * Context: any.
 */
void gom_alloc_failed(size_t size, gfp_t flags)
{
	atomic_long_inc(&gom_counters.alloc_failures);
	if (!(flags & __GFP_NOWARN))
		pr_warn_ratelimited("allocation of %zu bytes failed (gfp %pGg)\n",
				    size, &flags);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_alloc_failed);

/**
 * gom_alloc_refused() - count and report an allocation the memory limit
 *			 refused
 * @size: bytes asked for
 * @flags: the caller's GFP flags; __GFP_NOWARN silences the report
 *
 * Counted in alloc_limited and, as every failure, in alloc_failures.
 *
 * Context: any.
 */
void gom_alloc_refused(size_t size, gfp_t flags)
{
	atomic_long_inc(&gom_counters.alloc_limited);
	atomic_long_inc(&gom_counters.alloc_failures);
	if (!(flags & __GFP_NOWARN))
		pr_warn_ratelimited("allocation of %zu bytes refused: the heap is at mem_limit\n",
				    size);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_alloc_refused);
