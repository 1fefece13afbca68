// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc pcache: the per-CPU page cache in front of the mheap.
 *
 * Go keeps a small per-P cache of free pages (runtime/mpagecache.go) so
 * that small page requests skip the heap lock. gomalloc does the same for
 * page runs of 2^0 to 2^(GOM_PCACHE_ORDERS - 1) pages, the sizes a buddy
 * allocator otherwise splits off a whole arena and merges back on every
 * alloc/free pair: each CPU keeps a few runs of each such order, refilled
 * from and flushed to its node's heap in batches.
 *
 * A cached run stays allocated in the heap's view; its arena map head
 * changes from GOM_MAP_LARGE to GOM_MAP_CACHED with a compare-and-swap,
 * so of two racing frees of one run exactly one succeeds.
 *
 * Locking: as the object magazines, each CPU's cache is touched only with
 * local interrupts disabled, or by CPU hotplug teardown once the CPU is
 * dead; refill and flush take the heap lock inside that section.
 */
#include <linux/module.h>
#include "internal.h"

static unsigned long run_tag(unsigned int order, unsigned long tag)
{
	return ((1UL << order) << GOM_MAP_SHIFT) | tag;
}

static void set_head(void *run, unsigned int order, unsigned long tag)
{
	unsigned long addr = (unsigned long)run;

	WRITE_ONCE(*gom_map_entry(__gom_arena_lookup(addr), addr),
		   run_tag(order, tag));
}

static struct gom_pcache *this_pcache(unsigned int order)
{
	return &this_cpu_read(*gom_mcaches)->pc[order];
}

/* Move runs from the local heap into @pc; irqs off. */
static void refill(struct gom_pcache *pc, unsigned int order)
{
	struct gom_mheap *heap = gom_heaps[numa_mem_id()];
	void *run;

	while (pc->count < pc->cap / 2) {
		run = gom_mheap_alloc_run(heap, 1U << order, NULL);
		if (!run)
			break;
		set_head(run, order, GOM_MAP_CACHED);
		pc->runs[pc->count++] = run;
	}
}

/* Give back the oldest @nr runs of @pc to their heaps; irqs off. */
static void flush(struct gom_pcache *pc, unsigned int order, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct gom_arena *a;

		a = __gom_arena_lookup((unsigned long)pc->runs[i]);
		set_head(pc->runs[i], order, GOM_MAP_LARGE);
		gom_mheap_free_run(a->heap, pc->runs[i], 1U << order, NULL);
	}
	pc->count -= nr;
	memmove(pc->runs, pc->runs + nr, pc->count * sizeof(void *));
}

/**
 * gom_pcache_alloc() - take a run of 2^@order pages from this CPU's cache
 * @order: order of the run, below GOM_PCACHE_ORDERS
 *
 * Context: any.
 * Return: the run, or NULL when neither the cache nor the local heap had
 * one (the caller grows the heap and asks the heap directly).
 */
void *gom_pcache_alloc(unsigned int order)
{
	struct gom_pcache *pc;
	unsigned long flags;
	void *run = NULL;

	local_irq_save(flags);
	pc = this_pcache(order);
	if (!pc->count)
		refill(pc, order);
	if (pc->count) {
		run = pc->runs[--pc->count];
		set_head(run, order, GOM_MAP_LARGE);
	}
	local_irq_restore(flags);
	return run;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_pcache_alloc);

/**
 * gom_pcache_free() - put a freed run of 2^@order pages in this CPU's cache
 * @a: arena of the run
 * @run: first page of the run
 * @order: order of the run, below GOM_PCACHE_ORDERS
 *
 * Context: any; interrupts disabled by the caller.
 * Return: 0, or -EINVAL if @run is not an allocated run of that size.
 */
int gom_pcache_free(struct gom_arena *a, void *run, unsigned int order)
{
	unsigned long *entry = gom_map_entry(a, (unsigned long)run);
	struct gom_pcache *pc = this_pcache(order);

	if (cmpxchg(entry, run_tag(order, GOM_MAP_LARGE),
		    run_tag(order, GOM_MAP_CACHED)) !=
	    run_tag(order, GOM_MAP_LARGE))
		return -EINVAL;
	if (pc->count == pc->cap)
		flush(pc, order, pc->cap / 2);
	pc->runs[pc->count++] = run;
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_pcache_free);

/**
 * gom_pcache_drain() - give every run of a CPU's cache back to the heaps
 * @mc: the CPU's caches
 *
 * Context: interrupts disabled, on the cache's CPU or after it died.
 */
void gom_pcache_drain(struct gom_mcache *mc)
{
	unsigned int order;

	for (order = 0; order < GOM_PCACHE_ORDERS; order++)
		flush(&mc->pc[order], order, mc->pc[order].count);
}

/**
 * gom_pcache_init() - set the capacity of a CPU's page caches
 * @mc: the CPU's caches
 *
 * Up to 16 pages per order for the small orders, two runs for the large.
 *
 * Context: any.
 */
void gom_pcache_init(struct gom_mcache *mc)
{
	unsigned int order;

	for (order = 0; order < GOM_PCACHE_ORDERS; order++)
		mc->pc[order].cap = max(2, GOM_PCACHE_MAX >> order);
}
