/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomalloc internal types, shared by the files of mod/ and by the KUnit
 * suites in kunit/ (which import the GOMALLOC_INTERNAL symbol namespace).
 *
 * Ownership, one file per level, top to bottom; a file calls only the
 * files below it:
 *   api.c      - the public interface: gom_alloc() and friends
 *   main.c     - module init/exit, CPU hotplug, the shrinker, gom_shrink_all()
 *   stack.c    - level 1: gom_stack bump allocation in frames
 *   mcache.c   - level 2 front end: each CPU's owned span and magazine per
 *                size class (mcache.h holds the inline fast paths)
 *   runcache.c - each CPU's cache of small page runs
 *   mcentral.c - level 2 middle: the spans of each class on each node
 *   mheap.c    - levels 2 and 3: page heaps over arenas from alloc_pages,
 *                the scavenger, the memory limit
 *   pagemap.c  - the page map: what every page of the heap is, found from
 *                its address without a lock
 *   profile.c  - sampled heap profiles by stack and client module
 *   unwind.c   - the profile's call stacks, and each CPU's memo of its
 *                last walks
 *   debug.c    - debug= checks, the quarantine, fault injection
 *   report.c   - error counters and their ratelimited reports
 *   sysfs.c    - /sys/kernel/gomalloc and debugfs, built from the readers
 *                each level exports
 *
 * Lock order (every nesting there is):
 *   per-CPU section (gom_mc_trylock(); preemption disabled, never waits)
 *     - takes no lock: refills, flushes and growth run outside it
 *   gom_mcentral.lock	(irq-safe)
 *     -> queue_delayed_work() of the spare spans' trim (workqueue's locks)
 *     -> gom_mheap.lock	(irq-safe)
 *          -> queue_delayed_work() of the scavenger (workqueue's own locks)
 *          -> every CPU's memo (gom_memo_forget(): a cmpxchg, no lock)
 *   gom_pm_lock		(irq-safe, leaf: page map leaves and root)
 *   gom_prof_lock		(irq-safe, leaf: heap profile tables)
 *   the unwinder's memo	(per CPU, task context with preemption
 *				 disabled; takes no lock)
 *   gom_quarantine_lock	(irq-safe, leaf: debug=Q's quarantine)
 *   gom_drain_mutex	(sleeps; drains every CPU through a workqueue)
 *   gom_prof_mutex		(sleeps; profile rate, client directories)
 *   gom_fail_mutex		(sleeps; fault injection settings)
 * No gomalloc lock is held across a call into the page allocator or
 * kmalloc(), so the caller's gfp decides alone whether growth sleeps.
 */
#ifndef _GOM_INTERNAL_H
#define _GOM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/numa.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/stackdepot.h>
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

/* report.c: error counters, see /sys/kernel/gomalloc. */
struct gom_counters {
	atomic_long_t invalid_frees;
	atomic_long_t double_frees;
	atomic_long_t alloc_failures;
	atomic_long_t alloc_limited;	/* refused by the memory limit */
	atomic_long_t debug_reports;	/* problems debug= found */
	atomic_long_t faults_injected;	/* failures fail_alloc made */
};

extern struct gom_counters gom_counters;
extern atomic_long_t gom_metadata_bytes;	/* descriptors, maps, caches */

void gom_refuse_free(const void *ptr, const char *why, bool dbl);
void gom_alloc_failed(size_t size, gfp_t flags);
void gom_alloc_refused(size_t size, gfp_t flags);

static inline void gom_meta_add(long bytes)
{
	atomic_long_add(bytes, &gom_metadata_bytes);
}

/* Flags for metadata allocations made on behalf of a caller's request. */
static inline gfp_t gom_meta_gfp(gfp_t gfp)
{
	return (gfp & (GFP_KERNEL | __GFP_HIGH | __GFP_MEMALLOC |
		       __GFP_NOMEMALLOC | __GFP_NOFAIL)) | __GFP_NOWARN;
}

/*
 * pagemap.c: one word per page of the heap, keyed by the page's index in
 * the direct map (its pfn). An entry is
 *   GOM_PM_NONE:	not gomalloc's page (what any other address gives)
 *   a span pointer:	the page belongs to that small span (low bits 0)
 *   a tagged word:	GOM_PM_* tag, order of the page's arena, the node of
 *			the heap that owns it, and a value:
 *	GOM_PM_LARGE	first page of a live large run; value: its pages
 *	GOM_PM_CACHED	first page of a run in a CPU's run cache; its pages
 *	GOM_PM_FREE	first page of a free buddy block; value: its order
 *	GOM_PM_TAIL	any other page of an arena
 */
#define GOM_PM_LARGE		1UL
#define GOM_PM_FREE		2UL
#define GOM_PM_CACHED		3UL
#define GOM_PM_TAIL		4UL
#define GOM_PM_NONE		5UL
#define GOM_PM_TAG_MASK		7UL
#define GOM_PM_AORDER_SHIFT	3
#define GOM_PM_AORDER_MASK	0x1fUL
#define GOM_PM_NODE_SHIFT	8
#define GOM_PM_NODE_MASK	0x3ffUL
#define GOM_PM_VAL_SHIFT	18

#define GOM_PM_LEAF_SHIFT	9
#define GOM_PM_LEAF_ENTRIES	BIT(GOM_PM_LEAF_SHIFT)

/*
 * struct gom_pm_root - the page map's first level
 *
 * Replaced by a larger copy when memory appears above what it covers; old
 * roots and leaves are not freed while the module is loaded.
 */
struct gom_pm_root {
	unsigned long nr;		/* leaves it can point to */
	unsigned long slot[];		/* leaf li, GOM_PM_LEAF_ENTRIES words,
					 * less li leaves' worth of bytes:
					 * the entry of page pfn is at
					 * slot[li] + pfn words
					 */
};

extern struct gom_pm_root *gom_pm;

static inline unsigned long gom_pm_make(unsigned long tag,
					unsigned int aorder, int node,
					unsigned long val)
{
	return (val << GOM_PM_VAL_SHIFT) |
	       ((unsigned long)node << GOM_PM_NODE_SHIFT) |
	       ((unsigned long)aorder << GOM_PM_AORDER_SHIFT) | tag;
}

static inline unsigned long gom_pm_tag(unsigned long e)
{
	return e & GOM_PM_TAG_MASK;
}

static inline unsigned long gom_pm_val(unsigned long e)
{
	return e >> GOM_PM_VAL_SHIFT;
}

static inline unsigned int gom_pm_aorder(unsigned long e)
{
	return (e >> GOM_PM_AORDER_SHIFT) & GOM_PM_AORDER_MASK;
}

static inline int gom_pm_node(unsigned long e)
{
	return (e >> GOM_PM_NODE_SHIFT) & GOM_PM_NODE_MASK;
}

static __always_inline unsigned long gom_addr_pfn(unsigned long addr)
{
	return (addr - PAGE_OFFSET) >> PAGE_SHIFT;
}

/*
 * The entry of the page holding @addr, GOM_PM_NONE for any address
 * outside the heap: no lock, and no access to the memory at @addr. Every
 * root slot points to a leaf (a shared one full of GOM_PM_NONE until the
 * heap uses its memory), and nothing of the map is freed while the module
 * is loaded. The slot is biased by the leaf's index, so the pfn itself
 * indexes it: one shift and two loads.
 */
static __always_inline unsigned long *gom_pm_entry(struct gom_pm_root *root,
						   unsigned long pfn)
{
	return (unsigned long *)READ_ONCE(root->slot[pfn >> GOM_PM_LEAF_SHIFT]) +
	       pfn;
}

/* gom_pm_get() of page @pfn of the direct map, with @root read once. */
static __always_inline unsigned long gom_pm_get_in(struct gom_pm_root *root,
						   unsigned long pfn)
{
	if (unlikely((pfn >> GOM_PM_LEAF_SHIFT) >= root->nr))
		return GOM_PM_NONE;
	return READ_ONCE(*gom_pm_entry(root, pfn));
}

static __always_inline unsigned long gom_pm_get(unsigned long addr)
{
	return gom_pm_get_in(READ_ONCE(gom_pm), gom_addr_pfn(addr));
}

/*
 * The entry word of page @pfn, which gom_pm_prepare() covered (a page of
 * the heap): for a caller that reads or changes the entry of a page it
 * knows is the heap's.
 */
static __always_inline unsigned long *gom_pm_slot(unsigned long pfn)
{
	return gom_pm_entry(READ_ONCE(gom_pm), pfn);
}

/* Entry @e with its tag replaced by @tag. */
static inline unsigned long gom_pm_with_tag(unsigned long e,
					    unsigned long tag)
{
	return (e & ~GOM_PM_TAG_MASK) | tag;
}

/*
 * Give the entry at @slot, read as @e, the tag @tag unless it changed
 * since: of racing callers that read @e, exactly one succeeds.
 */
static inline bool gom_pm_retag(unsigned long *slot, unsigned long e,
				unsigned long tag)
{
	return try_cmpxchg(slot, &e, gom_pm_with_tag(e, tag));
}

int gom_pm_init(void);
void gom_pm_exit(void);
int gom_pm_prepare(unsigned long pfn, unsigned long n, gfp_t gfp);
void gom_pm_set(unsigned long pfn, unsigned long entry);
void gom_pm_fill(unsigned long pfn, unsigned long n, unsigned long entry);
unsigned long gom_pm_lookup(const void *addr);

/*
 * struct gom_span - a run of pages carved into objects of one class
 *
 * A span is in one of three states, under the lock of its mcentral:
 * on the partial list (free objects left), on the full list (none), or
 * owned by one CPU's mcache, which allocates from it without a lock.
 *
 * @free_bits has a bit set for every object free in the span. The owner
 * claims a word of it at a time with xchg() into @cache (Go's allocCache)
 * and hands out its bits; frees reach the span in batches and set bits
 * with atomic operations under the mcentral lock, so they never race
 * with a claim. @nfree and the lists are exact only for spans that are
 * not owned; an owned span's count is computed when it is handed back.
 */
struct gom_span {
	union {
		struct list_head list;	/* on the mcentral partial/full list */
		struct rcu_head rcu;	/* freed after lockless lookups end */
	};
	unsigned long base;		/* address of object 0 */
	unsigned long cache;		/* owner's claimed, unallocated objects */
	unsigned long cache_base;	/* address of the object of bit 0 of
					 * @cache
					 */
	u64 inv;			/* see gom_inv64() */
	u32 size;			/* object size, from the class */
	u32 mag_off;			/* offset of its class's magazine in
					 * struct gom_mcache, or of the
					 * always full class-0 one while it
					 * holds a profiled object
					 */
	u16 nsampled;			/* live profiled objects, see
					 * profile.c
					 */
	u16 sampled;			/* index of the one while that is
					 * known, else GOM_SAMPLED_ANY
					 */
	u32 born;			/* jiffies when it was carved, the
					 * low 32 bits: ages wrap after 2^32
					 * jiffies
					 */
	union {
		struct {
			u16 cls;	/* size class, never 0 */
			u16 node;	/* NUMA node of its pages */
		};
		u32 home;		/* both: which mcentral it is of */
	};
	u16 nobjs;			/* objects in the span */
	u16 nfree;			/* objects free in the span */
	u16 npages;			/* pages of the span */
	u16 next_word;			/* next word of @free_bits to claim */
	u8 shift;
	u8 state;			/* GOM_SPAN_* */
	u8 aorder;			/* order of its arena, set by the mheap */
	unsigned long free_bits[];	/* bit set: object free in the span */
};

/* The header is 80 bytes: the metadata a span costs is in the targets. */
static_assert(!IS_ENABLED(CONFIG_64BIT) ||
	      offsetof(struct gom_span, free_bits) == 80);

enum gom_span_state {
	GOM_SPAN_PARTIAL,
	GOM_SPAN_FULL,
	GOM_SPAN_OWNED,
};

/*
 * The index of the object at @addr in @s, or a value >= @s->nobjs when
 * @addr is not the start of an object. With size = odd << shift and inv
 * the inverse of odd modulo 2^32, multiplying maps the offsets of objects,
 * and only them, onto 0, 1 << shift, 2 << shift, ...; the rotation brings
 * those to 0, 1, 2, ... and everything else above the object count.
 */
static __always_inline unsigned int gom_index_at(unsigned long base, u32 inv,
						 u8 shift, unsigned long addr)
{
	return ror32((u32)(addr - base) * inv, shift);
}

/*
 * The same over 64 bits, for a loop that checks many addresses against
 * one span: one Newton step lifts the class's inverse @inv of @odd to the
 * inverse modulo 2^64, which each span keeps in @s->inv (its low half is
 * the 32-bit one), and then gom_index64() is below @s->nobjs for the
 * start of an object of @s and for no other address at all, so no range
 * check is needed besides it.
 */
static __always_inline u64 gom_inv64(u64 odd, u64 inv)
{
	return inv * (2 - odd * inv);
}

static __always_inline unsigned long gom_index64(unsigned long base, u64 inv,
						 u8 shift, unsigned long addr)
{
	return ror64((addr - base) * inv, shift);
}

static __always_inline unsigned int gom_obj_index(const struct gom_span *s,
						  unsigned long addr)
{
	return gom_index_at(s->base, (u32)s->inv, s->shift, addr);
}

#define GOM_SAMPLED_ANY		U16_MAX	/* not an object index: nobjs is u16 */

/*
 * Whether @addr, an object of @s, may be a live profile sample, so that
 * its free must look for it in the profile: when @s holds samples, unless
 * @s knows its one sample is another object. Without a lock: a live
 * sample's record, nsampled and sampled were written before its object
 * was handed out, and while it lives sampled names it or no one.
 */
static __always_inline bool gom_obj_may_sample(const struct gom_span *s,
					       unsigned long addr)
{
	unsigned int i;

	if (likely(!READ_ONCE(s->nsampled)))
		return false;
	i = READ_ONCE(s->sampled);
	return i == GOM_SAMPLED_ANY || i == gom_obj_index(s, addr);
}

static __always_inline bool gom_obj_valid(const struct gom_span *s,
					  unsigned int idx)
{
	return idx < s->nobjs;
}

/* Whether object @idx is free in @s (a lockless hint while @s is owned). */
static __always_inline bool gom_obj_is_free(const struct gom_span *s,
					    unsigned int idx)
{
	return (READ_ONCE(s->free_bits[idx / BITS_PER_LONG]) >>
		(idx % BITS_PER_LONG)) & 1;
}

static __always_inline bool gom_pm_is_span(unsigned long entry)
{
	return !gom_pm_tag(entry);
}

/*
 * Every free small object carries a mark in its first word: its address
 * xor a per-boot random key. Objects get it when a span is carved and
 * when they are freed, and lose it when they are handed out, so a free of
 * a marked object is refused in O(1) as a double free, wherever the first
 * copy waits: a magazine, a span, or the word a CPU has claimed. The
 * helpers are not instrumented: under KASAN a free object is poisoned.
 */
extern unsigned long gom_free_key;

static __always_inline unsigned long gom_obj_mark_of(const void *obj)
{
	return gom_free_key ^ (unsigned long)obj;
}

/* The first word of @obj, which may be poisoned: where the mark goes. */
static __no_kasan_or_inline unsigned long gom_obj_word(const void *obj)
{
	return *(const unsigned long *)obj;
}

static __no_kasan_or_inline void gom_obj_set_word(void *obj, unsigned long v)
{
	*(unsigned long *)obj = v;
}

static __always_inline bool gom_obj_marked(const void *obj)
{
	return gom_obj_word(obj) == gom_obj_mark_of(obj);
}

static __always_inline void gom_obj_mark(void *obj)
{
	gom_obj_set_word(obj, gom_obj_mark_of(obj));
}

static __always_inline void gom_obj_unmark(void *obj)
{
	gom_obj_set_word(obj, 0);
}

/*
 * struct gom_mheap - the page heap of one NUMA node
 *
 * A buddy allocator over the pages of its arenas, blocks of any order
 * taken from the page allocator. Free blocks are linked through
 * page->lru of their first page; blocks never merge across arenas. A
 * wholly free arena waits on @empty until it is needed or released.
 * All fields are under @lock.
 */
struct gom_mheap {
	spinlock_t lock;		/* protects everything below */
	int node;
	struct list_head free[GOM_MAX_ORDER + 1];	/* in partly used arenas */
	struct list_head empty[GOM_MAX_ORDER + 1];	/* wholly free arenas */
	unsigned long nr_free[GOM_MAX_ORDER + 1];
	unsigned long nr_empty[GOM_MAX_ORDER + 1];
	unsigned long nr_arenas[GOM_MAX_ORDER + 1];	/* arenas by order */
	unsigned long pages_total;
	unsigned long pages_free;	/* free blocks and empty arenas */
	unsigned long pages_released;	/* since load */
	unsigned long large_spans;
	unsigned long large_pages;
	unsigned long small_spans;
	unsigned long grow_fallbacks;	/* arenas below the order wanted */
	unsigned long grow_failures;	/* no block of any usable order */
	unsigned long hint_jiffies;	/* when the arena order last failed */
	unsigned int hint_order;	/* order that last succeeded since */
};

extern struct gom_mheap *gom_heaps[MAX_NUMNODES];
extern unsigned int gom_arena_order;
extern unsigned int gom_arena_min_order;
extern unsigned int gom_grow_max_order;
extern unsigned long gom_mem_limit;

/* The page heaps, summed over nodes; see gom_mheap_read(). */
struct gom_heap_stats {
	unsigned long arenas;
	unsigned long arena_pages;	/* pages of a gom_arena_order arena */
	unsigned long pages_total;
	unsigned long pages_inuse;	/* pages_total - pages_free */
	unsigned long pages_free;
	unsigned long pages_released;	/* since load */
	unsigned long large_spans;	/* live, not in a run cache */
	unsigned long large_pages;	/* live, not in a run cache */
	unsigned long cached_pages;	/* free runs in per-CPU run caches */
	unsigned long small_spans;
	unsigned long grow_fallbacks;
	unsigned long grow_failures;
	unsigned long free_blocks[GOM_MAX_ORDER + 1];	/* per order */
	unsigned long arenas_by_order[GOM_MAX_ORDER + 1];
};

void gom_mheap_init(struct gom_mheap *heap, int node);
unsigned long gom_mheap_destroy(struct gom_mheap *heap);
int gom_mheap_grow(struct gom_mheap *heap, unsigned int min_order,
		   gfp_t gfp);
int gom_mheap_grow_spare(struct gom_mheap *heap, unsigned int order,
			 gfp_t gfp);
void *gom_mheap_alloc_run(struct gom_mheap *heap, unsigned int npages,
			  struct gom_span *span);
int gom_mheap_free_run(void *addr, unsigned int npages,
		       struct gom_span *span);
int gom_mheap_recache_run(void *addr, unsigned int npages, bool cached);
unsigned long gom_mheap_release(struct gom_mheap *heap,
				unsigned long keep_pages);
unsigned long gom_mheap_release_all(unsigned int keep_arenas);
int gom_heap_node(int node);
bool gom_page_is_free(unsigned long addr);
void gom_mheap_read(struct gom_heap_stats *st);
long gom_heap_bytes(void);
int gom_set_mem_limit(unsigned long bytes);
int gom_store_mem_limit(const char *buf);
void gom_scavenge_kick(bool now);
void gom_scavenger_stop(void);

/*
 * struct gom_mcentral - the spans of one size class on one node
 *
 * Everything under @lock, taken with interrupts disabled. The counters
 * are read without the lock by the statistics.
 */
struct gom_mcentral {
	spinlock_t lock;		/* protects everything below */
	u16 cls;
	int node;
	struct list_head partial;	/* spans with free objects */
	struct list_head full;		/* spans with none */
	unsigned long nr_partial;
	unsigned long nr_full;
	unsigned long nr_owned;		/* spans owned by an mcache */
	unsigned long nr_empty;		/* partial spans wholly free */
	unsigned long nr_min;		/* spans smaller than the class's */
	unsigned long objs_total;	/* objects of all its spans */
	unsigned long objs_free;	/* free in partial and full spans */
};

extern struct gom_mcentral *gom_centrals[MAX_NUMNODES];

static inline struct gom_mcentral *gom_central(int node, unsigned int cls)
{
	return &gom_centrals[node][cls];
}

/* One size class, summed over nodes and CPUs; see gom_class_stats(). */
struct gom_class_stats {
	unsigned long spans;		/* partial + full + owned */
	unsigned long spans_partial;
	unsigned long spans_full;
	unsigned long spans_owned;
	unsigned long spans_min;	/* fallback spans of minimum size */
	unsigned long spans_empty;	/* partial ones wholly free: kept */
	unsigned long objects_total;	/* objects in all spans */
	unsigned long objects_inuse;	/* handed out */
	unsigned long objects_free;	/* free in spans, owned ones included */
	unsigned long objects_cached;	/* in per-CPU magazines */
	unsigned long allocs;
	unsigned long frees;
	unsigned long refills;
	unsigned long flushes;
	unsigned long occupancy[GOM_OCC_BUCKETS];
};

/*
 * Whether a hole of the heap too small for @k's preferred span should
 * rather take a minimum span than the heap grow: only if that span holds
 * GOM_HOLE_MIN_OBJS objects or more, which classes up to 1 KiB do in one
 * page. Above, a minimum span holds one to three objects, each paying for
 * a descriptor and a trip to the heap.
 */
#define GOM_HOLE_MIN_OBJS	4

static inline bool gom_hole_worth(const struct gom_class *k)
{
	return k->min_nobjs >= GOM_HOLE_MIN_OBJS;
}

void gom_mcentral_init(struct gom_mcentral *c, int node, unsigned int cls);
struct gom_span *gom_mcentral_cache_span(struct gom_mcentral *c,
					 struct gom_span *old, gfp_t gfp);
void gom_mcentral_uncache(struct gom_span *s);
void *gom_mcentral_alloc(struct gom_mcentral *c, gfp_t gfp);
void gom_mcentral_flush(void **objs, unsigned int nr);
unsigned long gom_mcentral_trim(struct gom_mcentral *c, unsigned long keep);
unsigned long gom_mcentral_trim_all(void);
unsigned long gom_mcentral_reclaim(int nid);
int gom_mcentral_grow(int nid, unsigned int order, gfp_t gfp);
unsigned long gom_mcentral_spare_pages(void);
extern unsigned int gom_empty_ms;
void gom_mcentral_trim_stop(void);
unsigned long gom_mcentral_inuse(struct gom_mcentral *c);
void gom_mcentral_read(unsigned int cls, struct gom_class_stats *st);
void gom_mcentral_occupancy(struct gom_mcentral *c, unsigned long *occ);
bool gom_span_claim(struct gom_span *s);
unsigned long gom_span_free_objects(const struct gom_span *s);
bool gom_object_is_free(unsigned long addr);
/* How long ago @s was carved, in milliseconds, at jiffies @now. */
static inline u32 gom_span_age(const struct gom_span *s, unsigned long now)
{
	return jiffies_to_msecs((u32)now - READ_ONCE(s->born));
}

unsigned int gom_mcentral_span_ages(unsigned int cls, u32 *ages,
				    unsigned int max);
void gom_span_desc_free(struct gom_span *span);
int gom_mcentral_caches_init(void);
void gom_mcentral_caches_exit(void);
void gom_mcentral_exit(struct gom_mcentral *c);

/*
 * Take the next object of an owned span's claimed word. @c is the word;
 * the caller checked it is not 0. The object still carries its mark.
 */
static __always_inline void *gom_span_pop(struct gom_span *s,
					  unsigned long c)
{
	WRITE_ONCE(s->cache, c & (c - 1));
	return (void *)(s->cache_base + __ffs(c) * s->size);
}

/*
 * The occupancy bucket of a span of @nobjs objects, @nfree of them free:
 * the tenth of its objects that are in use, full spans in the last.
 */
static inline unsigned int gom_occ_bucket(unsigned int nobjs,
					  unsigned long nfree)
{
	unsigned int b = (nobjs - nfree) * GOM_OCC_BUCKETS / nobjs;

	return min_t(unsigned int, b, GOM_OCC_BUCKETS - 1);
}

/* Whether @addr lies in the pages of @s. */
static inline bool gom_span_holds(const struct gom_span *s, unsigned long addr)
{
	return addr - s->base < (unsigned long)s->npages << PAGE_SHIFT;
}

/* Where word @w of @s->free_bits starts: what @s->cache_base is for it. */
static inline unsigned long gom_span_word_base(const struct gom_span *s,
					       unsigned int w)
{
	return s->base + (unsigned long)w * BITS_PER_LONG * s->size;
}

/* mcache.c: a CPU's caches; runcache.c keeps its page runs. */
#define GOM_RC_ORDERS		7	/* runs of 2^0 .. 2^6 pages */
#define GOM_RC_MAX		16	/* runs of order 0 a CPU keeps */
/* all orders' runs: 16, 8, 4, then 2 of each order (gom_rc_cap()) */
#define GOM_RC_SLOTS		(GOM_RC_MAX + GOM_RC_MAX / 2 + GOM_RC_MAX / 4 + \
				 2 * (GOM_RC_ORDERS - 3))
static_assert(GOM_RC_MAX / 8 == 2, "GOM_RC_SLOTS: from order 3, 2 runs");

/* Runs a CPU keeps of order @order: half as many each order up, 2 least. */
static inline unsigned int gom_rc_cap(unsigned int order)
{
	return max(2U, GOM_RC_MAX >> order);
}

/*
 * struct gom_runcache - one CPU's cached page runs of one order
 * @count: runs in the cache
 * @cap: gom_rc_cap() of its order
 * @runs: its @cap slots of struct gom_mcache's rc_slots
 */
struct gom_runcache {
	unsigned int count;
	unsigned int cap;
	void **runs;
};

/*
 * struct gom_mag - one CPU's cache of one size class
 *
 * @span is the span the CPU owns (Go's mcache.alloc[class]); @objs is a
 * magazine of freed objects, used before the span and flushed in batches
 * to the objects' spans when it fills. It holds @cap objects, the class's
 * mag_cap: 54 up to 1 KiB, 64 KiB of objects above, but at least a span's
 * objects up to 16 (so 16 from 4 KiB to 8 KiB), and at least 8.
 */
struct gom_mag {
	struct gom_span *span;
	unsigned int count;
	unsigned int cap;
	unsigned long allocs;
	unsigned long frees;
	unsigned int refills;		/* spans taken from the mcentral */
	unsigned int flushes;		/* batches sent back to spans */
	void *objs[];
};

/*
 * struct gom_memo - the object this CPU's mcache handed out last
 * @mark: that object's free-object mark (gom_obj_mark_of()) while nothing
 *	  else has been taken from or put in this CPU's magazines, so that
 *	  it is still the pointer just above the top of its magazine; else 0
 * @mag: the magazine it came from
 *
 * The mark rather than the address: the allocation reads it from the
 * object it pops, the free computes it for its check anyway, and 0 is
 * the mark of no pointer but gom_free_key itself, where NULL as "none"
 * would be the address gom_free(NULL) passes.
 *
 * gom_free() of that object puts it back by raising @mag's count again:
 * the pointer is known to be the start of a live object, and the page map
 * lookup and the object index check have nothing to add. An object
 * allocated and freed at once, as a short-lived buffer is, pays for
 * neither. The mark check stays: the object may have been freed on
 * another CPU.
 *
 * The mcache sets and clears @mark inside the CPU's section (mcache.h),
 * and its hotplug teardown clears a dead CPU's. The mheap forgets an
 * object whose span it unmaps (gom_memo_forget()): after a free on
 * another CPU, the span may go back to the heap and its memory be reused,
 * and a second free on this CPU must then meet the page map's refusal.
 * That is the only code outside the mcache that touches it; it lives in
 * struct gom_mcache, on the cache line of the section's busy flag, so
 * that the fast paths reach it from the pointer the section gives them.
 */
struct gom_memo {
	unsigned long mark;
	struct gom_mag *mag;
};

void gom_memo_forget(unsigned long start, unsigned long end);

/* The object @memo names, or NULL. */
static inline const void *gom_memo_obj(const struct gom_memo *memo)
{
	unsigned long mark = READ_ONCE(memo->mark);

	return mark ? (const void *)(mark ^ gom_free_key) : NULL;
}

/*
 * struct gom_mcache - the caches of one CPU, allocated on its node
 *
 * The magazines follow the structure, each as big as its class's
 * capacity, class 0's (which stays full: see struct gom_span.mag_off)
 * only a header; gom_mag_off() says where. All of it fits in 24 KiB,
 * taken as whole pages (gom_mcache_bytes).
 *
 * Touched only inside the CPU's section (gom_mc_trylock()), or by the
 * hotplug teardown once the CPU is dead.
 */
struct gom_mcache {
	u8 busy;			/* the section is held */
	struct gom_memo memo;
	int node;			/* the CPU's memory node */
	long sample_left;		/* bytes to the next profile sample */
	u64 sample_rnd;			/* draws the distance after that */
	/*
	 * classes whose last bulk free met a new span at more than a
	 * quarter of its objects (take_bulk())
	 */
	DECLARE_BITMAP(spread, GOM_NR_CLASSES);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
	struct gom_runcache rc[GOM_RC_ORDERS];
	void *rc_slots[GOM_RC_SLOTS];	/* the run caches' runs */
};

/*
 * Copy @n pointers from @src to @dst, a word at a time, front to back, so
 * @dst may overlap @src from below. The caches copy a few dozen pointers
 * each time one overflows: memcpy() and memmove() would copy them a byte
 * per iteration of rep movsb on CPUs with fast short rep movsb, which is
 * cheap on hardware and costs an instruction a byte under icount.
 */
static __always_inline void gom_move_ptrs(void **dst, void *const *src,
					  unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
}

DECLARE_PER_CPU(struct gom_mcache *, gom_mcache_pcpu);

extern u16 gom_mag_offs[GOM_NR_CLASSES];

/*
 * gom_alloc() finds the magazine of 1 to GOM_DIRECT_MAX bytes with one
 * lookup in gom_small_mag_offs[], in 8-byte steps (2 KiB of table). The
 * size classes are 128 bytes apart above GOM_SMALL_MAX, where going
 * through the class would take a second lookup.
 */
#define GOM_DIRECT_MAX		8192
extern u16 gom_small_mag_offs[GOM_DIRECT_MAX >> GOM_SMALL_STEP_SHIFT];

/* Where class @cls's magazine is in a CPU's caches. */
static __always_inline u32 gom_mag_off(unsigned int cls)
{
	return gom_mag_offs[cls];
}

/* Class @cls's magazine in @mc. */
static __always_inline struct gom_mag *gom_mc_mag(struct gom_mcache *mc,
						  unsigned int cls)
{
	return (void *)mc + gom_mag_off(cls);
}

/*
 * gom_mag_off(gom_size_class(size)) for 1 to GOM_DIRECT_MAX bytes, from
 * the size - 1 the caller's range test computed: one table lookup.
 */
static __always_inline u32 gom_mag_off_small(size_t size)
{
	return gom_small_mag_offs[(size - 1) >> GOM_SMALL_STEP_SHIFT];
}

/* The caches of a possible CPU. */
static inline struct gom_mcache *gom_mcache_of(unsigned int cpu)
{
	return *per_cpu_ptr(&gom_mcache_pcpu, cpu);
}

int gom_mcache_init(void);
void gom_mcache_exit(void);
void gom_mcache_drain_cpu(unsigned int cpu);
void gom_mcache_drain_local(void);
void gom_mcache_drain_all(void);
void gom_mcache_read(unsigned int cls, struct gom_class_stats *st);

/* Per-CPU magazine counters, for sysfs's "total C0=n C1=n" files. */
enum gom_mag_stat {
	MAG_CACHED,
	MAG_ALLOCS,
	MAG_FREES,
	MAG_REFILLS,
	MAG_FLUSHES,
};

unsigned long gom_mcache_stat(unsigned int cpu, unsigned int cls,
			      enum gom_mag_stat item);
unsigned int gom_mcache_span_ages(unsigned int cls, u32 *ages,
				  unsigned int max);
void *gom_mcache_refill(unsigned int cls, gfp_t gfp);
void *gom_mcache_alloc_nested(unsigned int cls, gfp_t gfp, int node);
bool gom_mcache_free_slow(const void *ptr);
int gom_mcache_alloc_bulk(unsigned int cls, size_t size, gfp_t gfp,
			  size_t nr, void **ptrs);
size_t gom_mcache_free_bulk(size_t nr, void **ptrs);

/* profile.c */
DECLARE_STATIC_KEY_FALSE(gom_profile_key);
extern unsigned long gom_profile_rate;
extern unsigned long gom_profile_live;
#define GOM_PROF_RUN_BITS	8
extern unsigned int gom_prof_runs[];

static inline unsigned int gom_prof_run_bucket(const void *run)
{
	return hash_ptr(run, GOM_PROF_RUN_BITS);
}

/* Whether the page run at @run may hold a live sample (profile.c). */
static inline bool gom_profile_run_sampled(const void *run)
{
	return READ_ONCE(gom_prof_runs[gom_prof_run_bucket(run)]);
}

struct gom_prof_frames;

/**
 * struct gom_prof_record - one stack's estimates, copied for a reader
 * @stack: the stack depot handle
 * @module: the client module
 * @live_objs: estimated live objects
 * @live_bytes: estimated live bytes
 * @alloc_objs: estimated allocations since load
 * @alloc_bytes: estimated bytes allocated since load
 * @frames: the frames named when a module in the stack went away, or NULL
 */
struct gom_prof_record {
	u32 stack;			/* depot_stack_handle_t */
	const struct gom_prof_frames *frames;
	char module[MODULE_NAME_LEN];
	long live_objs;
	long live_bytes;
	unsigned long alloc_objs;
	unsigned long alloc_bytes;
};

long gom_profile_next(void);
void *gom_profile_alloc(void *obj, size_t size, unsigned int cls,
			unsigned long caller);
void gom_profile_free(const void *obj);
bool gom_profile_count(size_t size);
void gom_profile_tick_bulk(void **ptrs, size_t nr, size_t size,
			   unsigned int cls, unsigned long caller);
int gom_set_profile_rate(unsigned long rate);
u64 gom_profile_lifetime(unsigned int cls, unsigned long *n);
struct gom_prof_record *gom_profile_snapshot(unsigned int *nr);
void gom_profile_debugfs(struct dentry *dir);
int gom_profile_sysfs(struct kobject *root);
void gom_profile_sysfs_exit(void);
void gom_profile_report_leaks(void);
int gom_profile_init(void);
void gom_profile_exit(void);

/* gom_profile_count() if profiling is on: outside the CPU's section. */
static inline bool gom_profile_due(size_t size)
{
	return static_branch_unlikely(&gom_profile_key) &&
	       gom_profile_count(size);
}

/* unwind.c: the heap profile's call stacks */
#define GOM_PROF_DEPTH		16	/* frames a profile stack keeps */
#define GOM_UNWIND_MAX		(GOM_PROF_DEPTH + 8)	/* and gomalloc's */
extern atomic_long_t gom_unwind_walks;
extern atomic_long_t gom_unwind_hits;
depot_stack_handle_t gom_unwind_save(unsigned long *ret, gfp_t gfp,
				     unsigned long *caller);
void gom_unwind_forget(void);
void gom_unwind_init(void);
void gom_unwind_exit(void);

/*
 * A run handed out by the run cache carries this bit when its allocation
 * is a heap profile sample, as mm's encoded_page carries flags in a page
 * pointer's low bits: a run is page-aligned, and the flag comes back in
 * the return register, where one stored through a pointer would cost the
 * callers' frames a stack canary.
 */
#define GOM_RUN_SAMPLE		1UL

static inline void *gom_run_tag(void *run, bool sample)
{
	return (void *)((unsigned long)run | (sample ? GOM_RUN_SAMPLE : 0));
}

/* The run gom_run_tag() was given, and in *@sample its flag. */
static inline void *gom_run_untag(void *tagged, bool *sample)
{
	*sample = (unsigned long)tagged & GOM_RUN_SAMPLE;
	return PTR_ALIGN_DOWN(tagged, PAGE_SIZE);
}

/* runcache.c: runs of 2^order pages, order below GOM_RC_ORDERS */
void *gom_runcache_alloc(unsigned int order, int node, size_t size);
int gom_runcache_free(void *run, unsigned int order, unsigned long e);
void gom_runcache_drain(struct gom_mcache *mc, bool local);
void gom_runcache_init(struct gom_mcache *mc);
void gom_runcache_read(struct gom_heap_stats *st);

/* stack.c */
struct gom_stack_stats {
	long stacks;			/* live gom_stack objects */
	long segments;			/* segments allocated, spares included */
	long bytes_reserved;		/* bytes of all segments */
	long bytes_inuse;		/* bytes handed out by frames */
	long high_water;		/* largest bytes_inuse seen */
};

void gom_stack_read_stats(struct gom_stack_stats *out);

/* sysfs.c: what /sys/kernel/gomalloc shows, also read by the KUnit suites */
int gom_sysfs_init(void);
void gom_sysfs_exit(void);
void gom_class_stats(unsigned int cls, struct gom_class_stats *st);
void gom_heap_stats(struct gom_heap_stats *st);

/* main.c: memory return */
void gom_shrink_all(void);
void gom_shrink_wait(void);
unsigned long gom_reclaim(gfp_t gfp);

/*
 * The class of 1 to GOM_SMALL_MAX bytes: (size + 7) >> 3 as an index,
 * written from the size - 1 that the caller's range test computed.
 */
static __always_inline unsigned int gom_size_class_small(size_t size)
{
	return gom_size_to_class8[((size - 1) >> GOM_SMALL_STEP_SHIFT) + 1];
}

/*
 * Size to class: a table index, no search. 0 for 0 and for sizes above
 * the classes (0 wraps to the largest size_t in the first test).
 */
static __always_inline unsigned int gom_size_class(size_t size)
{
	if (likely(size - 1 < GOM_SMALL_MAX))
		return gom_size_class_small(size);
	if (size - 1 < GOM_MAX_SMALL_SIZE)
		return gom_size_to_class128[(size - GOM_SMALL_MAX + 127) >>
					    GOM_LARGE_STEP_SHIFT];
	return 0;
}

#endif /* _GOM_INTERNAL_H */
