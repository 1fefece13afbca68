/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomalloc internal types, shared by the files of mod/ and by the KUnit
 * suites in kunit/ (which import the GOMALLOC_INTERNAL symbol namespace).
 *
 * Ownership, one file per level:
 *   mcache.c   - level 2 front end: per-CPU magazines, the public object API
 *   mcentral.c - level 2 middle: per-node, per-class span lists
 *   mheap.c    - level 2/3 back end: arenas from alloc_pages, buddy spans,
 *                pointer-to-span lookup, large page runs, arena release
 *   pcache.c   - per-CPU cache of small page runs in front of the mheap
 *   stack.c    - level 1: gom_stack bump allocation in frames
 *   sysfs.c    - /sys/kernel/gomalloc and debugfs statistics
 *   main.c     - module init/exit, CPU hotplug, parameters
 *
 * Lock order (the only nesting there is):
 *   local_irq_save (per-CPU magazine)
 *     -> gom_mcentral.lock
 *       -> gom_mheap.lock
 */
#ifndef _GOM_INTERNAL_H
#define _GOM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <gomalloc.h>

#include "compat.h"
#include "sizeclasses.h"

/*
 * Internals the KUnit suites inspect, exported into their own namespace
 * (the suites import GOMALLOC_INTERNAL), like EXPORT_SYMBOL_IF_KUNIT.
 */
#define EXPORT_SYMBOL_GOM_INTERNAL(sym) \
	EXPORT_SYMBOL_NS_GPL(sym, GOMALLOC_INTERNAL)

/* Buckets of the per-class span occupancy histogram (0-10%, ..., 90-100%). */
#define GOM_OCC_BUCKETS		10

/*
 * struct gom_span - a run of pages carved into objects of one class
 *
 * Small spans only; large runs carry no descriptor (see the arena map).
 * Protected by the lock of the mcentral that owns it.
 */
struct gom_span {
	union {
		struct list_head list;	/* on mcentral partial or full list */
		struct rcu_head rcu;	/* freed after lockless lookups end */
	};
	unsigned long base;		/* address of object 0 */
	u16 cls;			/* size class, never 0 */
	u16 node;			/* NUMA node of its pages */
	u16 nfree;			/* objects free in the span */
	u8 occ;				/* occupancy bucket it is counted in */
	u8 full;			/* on the full list */
	unsigned long free_bits[];	/* bit set: object free in the span */
};

/*
 * Arena page map entries, one word per page of an arena:
 *   a struct gom_span pointer: the page belongs to that small span;
 *   (npages << GOM_MAP_SHIFT) | GOM_MAP_LARGE: first page of a large run;
 *   (order << GOM_MAP_SHIFT) | GOM_MAP_FREE: first page of a free block;
 *   (npages << GOM_MAP_SHIFT) | GOM_MAP_CACHED: a run in a page cache;
 *   0: any other page (inside a free block or a large run).
 */
#define GOM_MAP_LARGE		1UL
#define GOM_MAP_FREE		2UL
#define GOM_MAP_CACHED		3UL	/* large run in a per-CPU page cache */
#define GOM_MAP_TAGS		3UL
#define GOM_MAP_SHIFT		2

/*
 * struct gom_arena - a naturally aligned block taken from the page allocator
 *
 * Registered in the arena table while it is part of the heap; freed with
 * RCU so that lockless lookups (done with interrupts disabled) stay safe.
 */
struct gom_arena {
	struct list_head list;		/* gom_mheap.arenas */
	unsigned long base;		/* kernel virtual address */
	struct gom_mheap *heap;
	unsigned long *map;		/* one entry per page, see GOM_MAP_* */
	struct rcu_head rcu;
};

/*
 * struct gom_mheap - the page heap of one NUMA node
 *
 * A buddy allocator over the pages of its arenas. Free blocks are linked
 * through page->lru of their first page. All fields are under @lock.
 */
struct gom_mheap {
	spinlock_t lock;		/* protects everything below */
	int node;
	struct list_head free[GOM_MAX_ORDER + 1];
	unsigned long nr_free[GOM_MAX_ORDER + 1];
	struct list_head arenas;
	unsigned long nr_arenas;
	unsigned long pages_total;
	unsigned long pages_free;
	unsigned long pages_released;	/* since load */
	unsigned long large_spans;
	unsigned long large_pages;
	unsigned long small_spans;
	unsigned long nr_empty_arenas;	/* arenas wholly free */
};

/*
 * struct gom_mcentral - the spans of one size class on one node
 *
 * Everything under @lock, which is taken with interrupts disabled on refill
 * and flush only. The counters are read without the lock by sysfs.
 */
struct gom_mcentral {
	spinlock_t lock;		/* protects everything below */
	u16 cls;
	int node;
	struct list_head partial;	/* spans with free objects */
	struct list_head full;		/* spans with none */
	unsigned long nr_partial;
	unsigned long nr_full;
	unsigned long nr_empty;		/* partial spans wholly free */
	unsigned long objs_free;	/* free objects in spans */
	unsigned long occ[GOM_OCC_BUCKETS];
};

/*
 * struct gom_mag - one CPU's magazine of free objects of one class
 *
 * Touched only by its CPU with interrupts disabled, or by the hotplug
 * callback once the CPU is dead. Counters are summed by sysfs. The
 * structure is 512 bytes so that indexing by class is a shift.
 */
struct gom_mag {
	unsigned int count;
	unsigned int cap;
	unsigned long allocs;
	unsigned long frees;
	unsigned int refills;
	unsigned int flushes;
	void *objs[GOM_MAG_MAX];
};

/* Per-CPU page cache: runs of 2^0 .. 2^(GOM_PCACHE_ORDERS - 1) pages. */
#define GOM_PCACHE_ORDERS	7
#define GOM_PCACHE_MAX		16

/* struct gom_pcache - one CPU's cached page runs of one order */
struct gom_pcache {
	unsigned int count;
	unsigned int cap;
	void *runs[GOM_PCACHE_MAX];
};

/* struct gom_mcache - all caches of one CPU, allocated on its node */
struct gom_mcache {
	struct gom_mag mag[GOM_NR_CLASSES];
	struct gom_pcache pc[GOM_PCACHE_ORDERS];
};

/* Global counters, see /sys/kernel/gomalloc. */
struct gom_errors {
	atomic_long_t invalid_frees;
	atomic_long_t double_frees;
	atomic_long_t alloc_failures;
	atomic_long_t metadata_bytes;	/* descriptors, maps, caches */
};

/* Level 1 statistics, owned by stack.c. */
struct gom_stack_stats {
	long stacks;			/* live gom_stack objects */
	long segments;			/* segments allocated, spares included */
	long bytes_reserved;		/* bytes of all segments */
	long bytes_inuse;		/* bytes handed out by frames */
	long high_water;		/* largest bytes_inuse seen */
};

extern struct gom_errors gom_errors;
extern struct gom_mheap *gom_heaps[MAX_NUMNODES];
extern struct gom_mcentral *gom_centrals[MAX_NUMNODES];
extern struct gom_mcache * __percpu *gom_mcaches;
extern unsigned int gom_arena_order;
extern unsigned int gom_arena_shift;

static inline struct gom_mcentral *gom_central(int node, unsigned int cls)
{
	return &gom_centrals[node][cls];
}

/* Size to class: a table index, no search. 0 for sizes above the classes. */
static __always_inline unsigned int gom_size_class(size_t size)
{
	if (size <= GOM_SMALL_MAX)
		return gom_size_to_class8[(size + 7) >> GOM_SMALL_STEP_SHIFT];
	if (size <= GOM_MAX_SMALL_SIZE)
		return gom_size_to_class128[(size - GOM_SMALL_MAX + 127) >>
					    GOM_LARGE_STEP_SHIFT];
	return 0;
}

/* The arena lookup table (mheap.c), read locklessly by the free path. */
#define GOM_L2_BITS		12
#define GOM_L2_SIZE		BIT(GOM_L2_BITS)
extern struct gom_arena ***gom_l1;
extern unsigned long gom_table_size;

static __always_inline struct gom_arena *__gom_arena_lookup(unsigned long addr)
{
	unsigned long idx = (addr - PAGE_OFFSET) >> gom_arena_shift;
	struct gom_arena **l2;

	if (unlikely(idx >= gom_table_size))
		return NULL;
	l2 = READ_ONCE(gom_l1[idx >> GOM_L2_BITS]);
	if (unlikely(!l2))
		return NULL;
	return READ_ONCE(l2[idx & (GOM_L2_SIZE - 1)]);
}

static __always_inline unsigned long __gom_map_entry(struct gom_arena *arena,
						     unsigned long addr)
{
	return READ_ONCE(arena->map[(addr - arena->base) >> PAGE_SHIFT]);
}

/* Flags for metadata allocations made on behalf of a caller's request. */
static inline gfp_t gom_meta_gfp(gfp_t gfp)
{
	return (gfp & (GFP_KERNEL | __GFP_HIGH | __GFP_MEMALLOC |
		       __GFP_NOMEMALLOC)) | __GFP_NOWARN;
}

/* mheap.c */
int gom_table_init(void);
void gom_table_exit(void);
int gom_mheap_init(struct gom_mheap *heap, int node);
unsigned long gom_mheap_destroy(struct gom_mheap *heap);
int gom_mheap_grow(struct gom_mheap *heap, gfp_t gfp);
void *gom_mheap_alloc_run(struct gom_mheap *heap, unsigned int npages,
			  struct gom_span *span);
int gom_mheap_free_run(struct gom_mheap *heap, void *addr,
		       unsigned int npages, struct gom_span *span);
int gom_mheap_release(struct gom_mheap *heap, unsigned int keep);
struct gom_arena *gom_arena_lookup(unsigned long addr);
unsigned long *gom_map_entry(struct gom_arena *arena, unsigned long addr);
int gom_heap_node(int node);
bool gom_page_free(struct gom_arena *arena, unsigned long addr);

/* mcentral.c */
void gom_mcentral_init(struct gom_mcentral *c, int node, unsigned int cls);
int gom_mcentral_refill(struct gom_mcentral *c, void **objs, int nr,
			struct gom_span **spare);
void gom_mcentral_flush(unsigned int cls, void **objs, int nr);
struct gom_span *gom_span_desc_alloc(unsigned int cls, int node, gfp_t gfp);
void gom_span_desc_free(struct gom_span *span);
unsigned long gom_mcentral_trim(struct gom_mcentral *c, unsigned long keep);
unsigned long gom_mcentral_inuse(struct gom_mcentral *c);
bool gom_object_free(struct gom_span *span, unsigned long addr);

/* mcache.c */
int gom_mcache_init(void);
void gom_mcache_exit(void);
void gom_mcache_drain_cpu(unsigned int cpu);
void gom_mcache_drain_all(void);
void gom_refuse_free(const void *ptr, const char *why, bool dbl);
void gom_set_check_cached(bool on);

/* pcache.c */
void *gom_pcache_alloc(unsigned int order);
int gom_pcache_free(struct gom_arena *a, void *run, unsigned int order);
void gom_pcache_drain(struct gom_mcache *mc);
void gom_pcache_init(struct gom_mcache *mc);

/* stack.c */
void gom_stack_read_stats(struct gom_stack_stats *out);

/* sysfs.c: what /sys/kernel/gomalloc shows, also read by the KUnit suites */

/* One size class, summed over nodes and CPUs; see gom_class_stats(). */
struct gom_class_stats {
	unsigned long spans;		/* spans_partial + spans_full */
	unsigned long spans_partial;
	unsigned long spans_full;
	unsigned long objects_inuse;	/* handed out, not in a magazine */
	unsigned long objects_free;	/* free in spans */
	unsigned long objects_cached;	/* in per-CPU magazines */
	unsigned long allocs;
	unsigned long frees;
	unsigned long refills;
	unsigned long flushes;
	unsigned long occupancy[GOM_OCC_BUCKETS];
};

/* The page heaps, summed over nodes; see gom_heap_stats(). */
struct gom_heap_stats {
	unsigned long arenas;
	unsigned long arena_pages;	/* pages in one arena */
	unsigned long pages_total;
	unsigned long pages_inuse;	/* pages_total - pages_free */
	unsigned long pages_free;
	unsigned long pages_released;	/* since load */
	unsigned long large_spans;	/* live, not in a page cache */
	unsigned long large_pages;	/* live, not in a page cache */
	unsigned long cached_pages;	/* free runs in per-CPU page caches */
	unsigned long small_spans;
	unsigned long free_blocks[GOM_MAX_ORDER + 1];	/* per order */
};

int gom_sysfs_init(void);
void gom_sysfs_exit(void);
void gom_class_stats(unsigned int cls, struct gom_class_stats *st);
void gom_heap_stats(struct gom_heap_stats *st);

/* main.c: memory return */
void gom_shrink_all(void);
void gom_scavenge_kick(void);

#endif /* _GOM_INTERNAL_H */
