// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc mheap: levels 2 and 3 of the allocator, the page heap.
 *
 * The heap of each NUMA node grows by arenas, naturally aligned blocks
 * taken from the kernel's page allocator with alloc_pages_node() (level 3,
 * Go's sysAlloc). Like Go's heap it grows in proportion to its size: an
 * arena is about an eighth of the heap it joins, at least
 * 2^gom_arena_min_order pages (256 KiB) and at most 2^gom_arena_order (4
 * MiB, reached once the heap holds 32 MiB), so that the untouched tail of
 * the last arena stays a small fraction of a small heap while a big heap
 * still grows by few, large arenas. A request larger than that order gets
 * the block it needs. When memory is fragmented and no block of the order
 * wanted is free, growth asks for smaller ones, down to the smallest
 * block that holds what is being allocated, so the heap keeps growing
 * wherever kmalloc() would; those arenas count in grow_fallbacks. Arenas
 * of every order coexist. Only the last attempt, for the smallest block,
 * uses the caller's gfp as given: the larger ones neither reclaim, nor
 * retry, nor dip into reserves, so GFP_ATOMIC growth never drains the
 * page allocator's high-order reserve for a block it does not need.
 *
 * Inside its arenas a heap is a buddy allocator: per-order free lists, a
 * block is split on allocation and merged with its free buddy on free, up
 * to its arena and never across arenas. A wholly free arena waits on an
 * empty list, used after every partly used arena, until the scavenger
 * (delayed work, Go's scavenger) gives it back beyond a reserve; the
 * smallest arenas go back first. The reserve is counted in pages,
 * reserve_arenas times 2^gom_arena_order whatever the order of the free
 * arenas that make it up: a bound on idle memory per node that does not
 * depend on how the heap happened to grow.
 *
 * Spans of small objects (mcentral.c) and large runs (objects above
 * GOM_MAX_SMALL_SIZE, gom_alloc_pages()) are exact runs of pages: a five
 * page request holds five pages, not eight. The page map (pagemap.c)
 * records what every page of every arena is.
 *
 * A memory limit (mem_limit, Go's GOMEMLIMIT) bounds the bytes of all
 * arenas together. Growth skips the orders that would cross it; when even
 * the smallest block that serves the caller would, it first gives back
 * the free arenas of every node, and otherwise fails with -EDQUOT, so that
 * the caller can return its cached memory (gom_reclaim()) and try once
 * more. __GFP_NOFAIL passes the limit with that smallest block only.
 *
 * Locking: gom_mheap.lock (irq-safe) protects a heap's free lists, its
 * counters and the page map entries of its arenas. It nests inside
 * gom_mcentral.lock and never the other way round; the scavenger is
 * queued under it. Nothing here sleeps under a lock; gom_mheap_grow()
 * sleeps only if its gfp allows it, with no gomalloc lock held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include "debug.h"
#include "trace.h"

static_assert(GOM_PM_NODE_MASK + 1 >= MAX_NUMNODES);
static_assert(GOM_PM_AORDER_MASK >= GOM_MAX_ORDER);

/* Default: the largest block the running kernel's page allocator gives. */
unsigned int gom_arena_order = GOM_MAX_ORDER;
module_param_named(arena_order, gom_arena_order, uint, 0444);
MODULE_PARM_DESC(arena_order, "Largest arena size as a page order, what a heap of 8 such arenas or more grows by (default: the largest the kernel allows)");
EXPORT_SYMBOL_GOM_INTERNAL(gom_arena_order);

/*
 * The smallest order growth asks for: a smaller arena would cost a grow
 * and a page map leaf for every few spans. Set it to arena_order for
 * full-size arenas from the first growth on.
 */
unsigned int gom_arena_min_order = 6;
module_param_named(arena_min_order, gom_arena_min_order, uint, 0644);
MODULE_PARM_DESC(arena_min_order, "Smallest arena order growth asks for while the heap is small (default 6, 256 KiB; arena_order or more: always full-size arenas)");
EXPORT_SYMBOL_GOM_INTERNAL(gom_arena_min_order);

/* A heap grows by about 1/2^GOM_GROW_SHIFT of what it holds. */
#define GOM_GROW_SHIFT	3

/* A test knob: the largest order growth may ask for beyond its need. */
unsigned int gom_grow_max_order = GOM_MAX_ORDER;
module_param_named(grow_max_order, gom_grow_max_order, uint, 0644);
MODULE_PARM_DESC(grow_max_order, "Debug: cap on the arena order growth asks for (requests that need more still get it)");
EXPORT_SYMBOL_GOM_INTERNAL(gom_grow_max_order);

static unsigned int gom_reserve_arenas = 1;
module_param_named(reserve_arenas, gom_reserve_arenas, uint, 0644);
MODULE_PARM_DESC(reserve_arenas, "Free memory each node keeps, in pages of as many arenas of arena_order, instead of returning it to the page allocator");

static unsigned int gom_scavenge_ms = 1000;
module_param_named(scavenge_delay_ms, gom_scavenge_ms, uint, 0644);
MODULE_PARM_DESC(scavenge_delay_ms, "Delay before free arenas are returned to the page allocator");

struct gom_mheap *gom_heaps[MAX_NUMNODES];
EXPORT_SYMBOL_GOM_INTERNAL(gom_heaps);

/* Bytes of every arena of every node; what mem_limit bounds. */
static atomic_long_t gom_arena_bytes;

static void scavenge(struct work_struct *work);
static DECLARE_DELAYED_WORK(gom_scavenge_work, scavenge);

static void *pfn_addr(unsigned long pfn)
{
	return pfn_to_kaddr(pfn);
}

static unsigned long free_tag(struct gom_mheap *h, unsigned int order,
			      unsigned int aorder)
{
	return gom_pm_make(GOM_PM_FREE, aorder, h->node, order);
}

static unsigned long tail_tag(struct gom_mheap *h, unsigned int aorder)
{
	return gom_pm_make(GOM_PM_TAIL, aorder, h->node, 0);
}

static void push_free(struct gom_mheap *h, unsigned long pfn,
		      unsigned int order, unsigned int aorder)
{
	struct page *page = pfn_to_page(pfn);

	gom_pm_set(pfn, free_tag(h, order, aorder));
	if (order == aorder) {
		list_add(&page->lru, &h->empty[order]);
		h->nr_empty[order]++;
	} else {
		list_add(&page->lru, &h->free[order]);
		h->nr_free[order]++;
	}
	h->pages_free += 1UL << order;
}

static void unlink_free(struct gom_mheap *h, unsigned long pfn,
			unsigned int order, unsigned int aorder)
{
	list_del_init(&pfn_to_page(pfn)->lru);
	gom_pm_set(pfn, tail_tag(h, aorder));
	if (order == aorder)
		h->nr_empty[order]--;
	else
		h->nr_free[order]--;
	h->pages_free -= 1UL << order;
}

/* Free one aligned block, merging it with free buddies inside its arena. */
static void free_block(struct gom_mheap *h, unsigned long pfn,
		       unsigned int order, unsigned int aorder)
{
	while (order < aorder) {
		unsigned long buddy = pfn ^ (1UL << order);

		if (*gom_pm_slot(buddy) != free_tag(h, order, aorder))
			break;
		unlink_free(h, buddy, order, aorder);
		pfn &= ~(1UL << order);
		order++;
	}
	push_free(h, pfn, order, aorder);
}

/* Free [pfn, pfn + n) as the largest aligned blocks that tile it. */
static void free_range(struct gom_mheap *h, unsigned long pfn,
		       unsigned long n, unsigned int aorder)
{
	while (n) {
		unsigned int order = ilog2(n);

		if (pfn)
			order = min_t(unsigned int, order, __ffs(pfn));
		free_block(h, pfn, order, aorder);
		pfn += 1UL << order;
		n -= 1UL << order;
	}
}

static struct list_head *first_list(struct gom_mheap *h, unsigned int order,
				    unsigned int *op)
{
	unsigned int o;

	/* Partly used arenas first: wholly free ones can be given back. */
	for (o = order; o <= GOM_MAX_ORDER; o++) {
		if (!list_empty(&h->free[o]))
			goto found;
	}
	for (o = order; o <= GOM_MAX_ORDER; o++) {
		if (!list_empty(&h->empty[o]))
			goto found;
	}
	return NULL;
found:
	*op = o;
	return list_empty(&h->free[o]) ? &h->empty[o] : &h->free[o];
}

/* Take a free block of exactly @order, splitting a larger one if needed. */
static bool take_block(struct gom_mheap *h, unsigned int order,
		       unsigned long *pfnp, unsigned int *aorderp)
{
	struct list_head *list;
	unsigned int o, aorder;
	unsigned long pfn;

	list = first_list(h, order, &o);
	if (!list)
		return false;
	pfn = page_to_pfn(list_first_entry(list, struct page, lru));
	aorder = gom_pm_aorder(*gom_pm_slot(pfn));
	unlink_free(h, pfn, o, aorder);
	while (o > order) {
		o--;
		push_free(h, pfn + (1UL << o), o, aorder);
	}
	*pfnp = pfn;
	*aorderp = aorder;
	return true;
}

/**
 * gom_mheap_alloc_run() - take an exact run of pages from a heap
 * @heap: the heap
 * @npages: pages wanted, at most 2^GOM_MAX_ORDER
 * @span: small span the pages will back, or NULL for a large run
 *
 * The run's page map entries point to @span, whose @base and @aorder are
 * set before the entries appear, or mark a large run. A caller that gets
 * NULL grows the heap (gom_mheap_grow()) and tries again.
 *
 * Context: any; takes @heap->lock. Never sleeps.
 * Return: address of the first page, or NULL when the heap has no free
 * block large enough.
 */
void *gom_mheap_alloc_run(struct gom_mheap *heap, unsigned int npages,
			  struct gom_span *span)
{
	unsigned int order = order_base_2(npages), aorder;
	unsigned long flags, pfn;

	spin_lock_irqsave(&heap->lock, flags);
	if (!take_block(heap, order, &pfn, &aorder)) {
		spin_unlock_irqrestore(&heap->lock, flags);
		return NULL;
	}
	if (npages < (1U << order))
		free_range(heap, pfn + npages, (1UL << order) - npages, aorder);
	if (span) {
		span->base = (unsigned long)pfn_addr(pfn);
		span->aorder = aorder;
		smp_wmb();	/* a lockless reader of an entry sees the span */
		gom_pm_fill(pfn, npages, (unsigned long)span);
		heap->small_spans++;
	} else {
		gom_pm_set(pfn, gom_pm_make(GOM_PM_LARGE, aorder, heap->node,
					    npages));
		heap->large_spans++;
		heap->large_pages += npages;
	}
	spin_unlock_irqrestore(&heap->lock, flags);
	return pfn_addr(pfn);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_alloc_run);

static bool over_reserve(struct gom_mheap *h)
{
	unsigned long pages = 0;
	unsigned int o;

	for (o = 0; o <= GOM_MAX_ORDER; o++)
		pages += h->nr_empty[o] << o;
	return pages > ((unsigned long)READ_ONCE(gom_reserve_arenas) <<
			gom_arena_order);
}

/*
 * Unmap a live run under the heap lock, checking its first entry; returns
 * the order of its arena, or -EINVAL if it is not that run.
 */
static int unmap_run(struct gom_mheap *h, unsigned long pfn,
		     unsigned int npages, struct gom_span *span)
{
	unsigned long e = *gom_pm_slot(pfn);
	unsigned int aorder;

	if (span) {
		if (e != (unsigned long)span)
			return -EINVAL;
		aorder = span->aorder;
		gom_pm_fill(pfn, npages, tail_tag(h, aorder));
		gom_memo_forget(span->base, span->base +
				((unsigned long)npages << PAGE_SHIFT));
		h->small_spans--;
		return aorder;
	}
	if (gom_pm_tag(e) != GOM_PM_LARGE || gom_pm_val(e) != npages ||
	    gom_pm_node(e) != h->node)
		return -EINVAL;
	aorder = gom_pm_aorder(e);
	gom_pm_set(pfn, tail_tag(h, aorder));
	h->large_spans--;
	h->large_pages -= npages;
	return aorder;
}

/**
 * gom_mheap_free_run() - give a run of pages back to its heap
 * @addr: first page of the run
 * @npages: length of the run
 * @span: the small span it backed, or NULL for a large run
 *
 * The run goes back to the heap that owns its arena. For a large run the
 * head entry is checked under the heap lock, so that of two racing frees
 * of one run exactly one succeeds.
 *
 * Context: any; takes the heap lock.
 * Return: 0, or -EINVAL if the run is not (or no longer) allocated.
 */
int gom_mheap_free_run(void *addr, unsigned int npages, struct gom_span *span)
{
	unsigned long pfn = gom_addr_pfn((unsigned long)addr), flags, e;
	struct gom_mheap *h;
	bool kick;
	int aorder;

	e = span ? 0 : gom_pm_lookup(addr);
	if (!span && gom_pm_tag(e) != GOM_PM_LARGE)
		return -EINVAL;
	h = gom_heaps[span ? span->node : gom_pm_node(e)];
	spin_lock_irqsave(&h->lock, flags);
	aorder = unmap_run(h, pfn, npages, span);
	if (aorder >= 0)
		free_range(h, pfn, npages, aorder);
	kick = over_reserve(h);
	spin_unlock_irqrestore(&h->lock, flags);
	if (kick)
		gom_scavenge_kick(false);
	return aorder < 0 ? -EINVAL : 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_free_run);

/**
 * gom_mheap_recache_run() - mark a large run as cached or live again
 * @addr: first page of the run
 * @npages: its length
 * @cached: true to move it from live to cached, false for the way back
 *
 * A run in a CPU's run cache stays allocated in its heap; only its head
 * entry changes, with a compare-and-swap, so that of two racing frees of
 * one run exactly one succeeds.
 *
 * Context: any.
 * Return: 0, or -EINVAL if the run was not in the state @cached leaves.
 */
int gom_mheap_recache_run(void *addr, unsigned int npages, bool cached)
{
	unsigned long from = cached ? GOM_PM_LARGE : GOM_PM_CACHED;
	unsigned long to = cached ? GOM_PM_CACHED : GOM_PM_LARGE;
	unsigned long e = gom_pm_lookup(addr);

	if (gom_pm_tag(e) != from || gom_pm_val(e) != npages ||
	    offset_in_page(addr))
		return -EINVAL;
	return gom_pm_retag(gom_pm_slot(gom_addr_pfn((unsigned long)addr)), e,
			    to) ? 0 : -EINVAL;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_recache_run);

/*
 * Count @bytes against mem_limit; NOFAIL callers are never refused. Only
 * a charge that fits is added, so that nobody sees the heap over the
 * limit, nor is refused, because of a charge that is being refused.
 */
static bool limit_charge(long bytes, gfp_t gfp)
{
	unsigned long limit = READ_ONCE(gom_mem_limit);
	long old = atomic_long_read(&gom_arena_bytes);

	do {
		if (limit && !(gfp & __GFP_NOFAIL) && old + bytes > limit)
			return false;
	} while (!atomic_long_try_cmpxchg(&gom_arena_bytes, &old, old + bytes));
	return true;
}

/* A larger block than needed: no reclaim, no reserves, no retries. */
static gfp_t spare_gfp(gfp_t gfp)
{
	gfp &= __GFP_IO | __GFP_FS;
	return gfp | __GFP_NOWARN | __GFP_NORETRY | __GFP_NOMEMALLOC;
}

/* The block the request needs: the caller's flags, as it gave them. */
static gfp_t need_gfp(gfp_t gfp)
{
	gfp &= __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH |
	       __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_RETRY_MAYFAIL |
	       __GFP_NORETRY | __GFP_NOFAIL | GOM_GFP_ATOMIC;
	return gfp | __GFP_NOWARN;
}

/*
 * The order @h wants to grow by: an eighth of its size, within
 * [arena_min_order, arena_order], and at least @min_order. A lockless
 * read of pages_total: racing growths may both size from the old total.
 */
static unsigned int grow_want(struct gom_mheap *h, unsigned int min_order)
{
	unsigned long pages = READ_ONCE(h->pages_total) >> GOM_GROW_SHIFT;
	unsigned int lo = min(READ_ONCE(gom_arena_min_order), gom_arena_order);
	unsigned int o = pages ? ilog2(pages) : 0;

	return max(clamp(o, lo, gom_arena_order), min_order);
}

/* First order to try: lower for a second after a larger order failed. */
static unsigned int grow_start(struct gom_mheap *h, unsigned int want,
			       unsigned int min_order)
{
	unsigned int o = min(want, READ_ONCE(gom_grow_max_order));

	if (time_before(jiffies, READ_ONCE(h->hint_jiffies) + HZ))
		o = min(o, READ_ONCE(h->hint_order));
	return max(o, min_order);
}

/*
 * A block of @want down to @min_order pages, charged to the limit; its
 * order in @orderp. ERR_PTR(-EDQUOT) if the limit refused @min_order,
 * ERR_PTR(-ENOMEM) if the page allocator had no such block. The refusal
 * is told here, as it happened: read again later, the limit may have
 * moved and made it look like a failure of the page allocator.
 */
static struct page *alloc_block(struct gom_mheap *h, unsigned int *orderp,
				unsigned int want, unsigned int min_order,
				gfp_t gfp)
{
	unsigned int start = grow_start(h, want, min_order), o;
	bool last, failed = false;
	struct page *page;

	for (o = start; o >= min_order && o <= GOM_MAX_ORDER; o--) {
		last = o == min_order;
		/* __GFP_NOFAIL passes the limit with the block it needs only */
		if (!limit_charge(PAGE_SIZE << o,
				  last ? gfp : gfp & ~__GFP_NOFAIL)) {
			if (last)
				return ERR_PTR(-EDQUOT);
			continue;
		}
		page = alloc_pages_node(h->node, last ? need_gfp(gfp) :
					spare_gfp(gfp), o);
		if (page) {
			/* the page allocator failed a larger order: start lower */
			if (failed) {
				WRITE_ONCE(h->hint_order, o);
				WRITE_ONCE(h->hint_jiffies, jiffies);
			}
			*orderp = o;
			return page;
		}
		atomic_long_sub(PAGE_SIZE << o, &gom_arena_bytes);
		failed = true;
	}
	return ERR_PTR(-ENOMEM);
}

static void count_failure(struct gom_mheap *h)
{
	unsigned long flags;

	spin_lock_irqsave(&h->lock, flags);
	h->grow_failures++;
	spin_unlock_irqrestore(&h->lock, flags);
}

/*
 * Add an arena of @order to @h. Growth wanted @want: a smaller arena came
 * from fragmentation (or the grow_max_order knob that stands in for it).
 */
static void add_arena(struct gom_mheap *h, unsigned long pfn,
		      unsigned int order, unsigned int want)
{
	unsigned long flags;

	gom_pm_fill(pfn, 1UL << order, tail_tag(h, order));
	/* free heap memory: nothing may touch it until it is handed out */
	gom_kasan_poison(pfn_addr(pfn), 0, PAGE_SIZE << order, GOM_KASAN_FREE);
	trace_gom_heap_grow(pfn_addr(pfn), order, h->node,
			    atomic_long_read(&gom_arena_bytes));
	spin_lock_irqsave(&h->lock, flags);
	h->nr_arenas[order]++;
	h->pages_total += 1UL << order;
	if (order < want)
		h->grow_fallbacks++;
	push_free(h, pfn, order, order);
	spin_unlock_irqrestore(&h->lock, flags);
}

/* Whether even the smallest block would cross the limit. */
static bool limited(unsigned int min_order, gfp_t gfp)
{
	unsigned long limit = READ_ONCE(gom_mem_limit);

	return limit && !(gfp & __GFP_NOFAIL) &&
	       atomic_long_read(&gom_arena_bytes) + (PAGE_SIZE << min_order) >
	       limit;
}

static int grow(struct gom_mheap *heap, unsigned int min_order, gfp_t gfp,
		bool spare)
{
	unsigned int order, want;
	struct page *page;
	unsigned long pfn;

	if (min_order > GOM_MAX_ORDER)
		return -ENOMEM;
	if (limited(min_order, gfp)) {
		if (spare)
			return -EDQUOT;
		gom_mheap_release_all(0);
	}
	want = grow_want(heap, min_order);
	page = alloc_block(heap, &order, want, min_order, gfp);
	if (IS_ERR(page)) {
		if (page == ERR_PTR(-ENOMEM) && !spare)
			count_failure(heap);
		return PTR_ERR(page);
	}
	pfn = page_to_pfn(page);
	if (gom_pm_prepare(pfn, 1UL << order, gfp)) {
		__free_pages(page, order);
		atomic_long_sub(PAGE_SIZE << order, &gom_arena_bytes);
		return -ENOMEM;
	}
	add_arena(heap, pfn, order, want);
	return 0;
}

/**
 * gom_mheap_grow() - add an arena from the page allocator to a heap
 * @heap: the heap
 * @min_order: order of the smallest block that serves the caller
 * @gfp: allocation context of the caller; sleeps only if it allows
 *
 * Tries the order the heap's size calls for (see grow_want()), then
 * smaller ones down to @min_order. Only the @min_order attempt reclaims,
 * retries or uses reserves, as @gfp allows.
 *
 * Context: process context if @gfp allows blocking, else any context
 * where alloc_pages(@gfp) is allowed. No gomalloc lock may be held.
 * Return: 0 on success, -EDQUOT if mem_limit leaves no room for a block
 * of @min_order, -ENOMEM if the page allocator had none.
 */
int gom_mheap_grow(struct gom_mheap *heap, unsigned int min_order, gfp_t gfp)
{
	return grow(heap, min_order, gfp, false);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_grow);

/**
 * gom_mheap_grow_spare() - grow a heap for a block larger than needed
 * @heap: the heap
 * @order: order of the block wanted, where a smaller one would do
 * @gfp: allocation context of the caller
 *
 * As gom_mheap_grow() down to @order, but as the page allocator gives
 * spare memory: no reclaim, retries or reserves, whatever @gfp allows,
 * and nothing above grow_max_order. A failure is not a grow failure.
 *
 * Context: any context where alloc_pages(@gfp) is allowed. No gomalloc
 * lock may be held.
 * Return: 0 on success, -EDQUOT or -ENOMEM.
 */
int gom_mheap_grow_spare(struct gom_mheap *heap, unsigned int order, gfp_t gfp)
{
	if (order > READ_ONCE(gom_grow_max_order))
		return -ENOMEM;
	return grow(heap, order, spare_gfp(gfp), true);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_grow_spare);

/* Detach the smallest wholly free arena that @keep_pages lets go. */
static bool detach_empty(struct gom_mheap *h, unsigned long keep_pages,
			 unsigned long *pfnp, unsigned int *orderp)
{
	unsigned long empty = 0, pfn;
	unsigned int o;

	for (o = 0; o <= GOM_MAX_ORDER; o++)
		empty += h->nr_empty[o] << o;
	for (o = 0; o <= GOM_MAX_ORDER; o++)
		if (h->nr_empty[o])
			break;
	if (o > GOM_MAX_ORDER || empty - (1UL << o) < keep_pages)
		return false;
	/* The oldest: recently freed arenas are warm in the caches. */
	pfn = page_to_pfn(list_last_entry(&h->empty[o], struct page, lru));
	unlink_free(h, pfn, o, o);
	gom_pm_fill(pfn, 1UL << o, GOM_PM_NONE);
	h->nr_arenas[o]--;
	h->pages_total -= 1UL << o;
	h->pages_released += 1UL << o;
	*pfnp = pfn;
	*orderp = o;
	return true;
}

/**
 * gom_mheap_release() - give wholly free arenas back to the page allocator
 * @heap: the heap
 * @keep_pages: pages of free arenas to keep as a reserve
 *
 * The smallest arenas go first, so the reserve is kept in the largest.
 *
 * Context: any context that may call free_pages(); takes @heap->lock.
 * Return: the number of pages released.
 */
unsigned long gom_mheap_release(struct gom_mheap *heap,
				unsigned long keep_pages)
{
	unsigned long flags, pfn, n = 0;
	unsigned int order;
	bool got;

	for (;;) {
		spin_lock_irqsave(&heap->lock, flags);
		got = detach_empty(heap, keep_pages, &pfn, &order);
		spin_unlock_irqrestore(&heap->lock, flags);
		if (!got)
			return n;
		atomic_long_sub(PAGE_SIZE << order, &gom_arena_bytes);
		trace_gom_heap_release(pfn_addr(pfn), order, heap->node,
				       atomic_long_read(&gom_arena_bytes));
		__free_pages(pfn_to_page(pfn), order);
		n += 1UL << order;
	}
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_release);

/**
 * gom_mheap_release_all() - release the free arenas of every node
 * @keep_arenas: reserve each node keeps, in arenas of gom_arena_order
 *
 * Context: as gom_mheap_release().
 * Return: the number of pages released.
 */
unsigned long gom_mheap_release_all(unsigned int keep_arenas)
{
	unsigned long n = 0;
	int nid;

	for_each_node(nid)
		if (gom_heaps[nid])
			n += gom_mheap_release(gom_heaps[nid],
					       (unsigned long)keep_arenas <<
					       gom_arena_order);
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_release_all);

/* Near the limit, the heap keeps no reserve. */
static unsigned int reserve_now(void)
{
	unsigned long limit = READ_ONCE(gom_mem_limit);

	if (limit && atomic_long_read(&gom_arena_bytes) > limit - limit / 8)
		return 0;
	return READ_ONCE(gom_reserve_arenas);
}

static void scavenge(struct work_struct *work)
{
	gom_mheap_release_all(reserve_now());
}

/**
 * gom_scavenge_kick() - schedule the release of free arenas
 * @now: release at once rather than after scavenge_delay_ms
 *
 * Context: any.
 */
void gom_scavenge_kick(bool now)
{
	if (now)
		mod_delayed_work(system_unbound_wq, &gom_scavenge_work, 0);
	else if (!delayed_work_pending(&gom_scavenge_work))
		queue_delayed_work(system_unbound_wq, &gom_scavenge_work,
				   msecs_to_jiffies(READ_ONCE(gom_scavenge_ms)));
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_scavenge_kick);

/**
 * gom_scavenger_stop() - wait for the scavenger and keep it from running
 *
 * Context: process context (module exit), once nothing frees any more.
 */
void gom_scavenger_stop(void)
{
	cancel_delayed_work_sync(&gom_scavenge_work);
}

/**
 * gom_heap_bytes() - bytes of every arena of every node
 *
 * Context: any.
 * Return: the bytes, what mem_limit bounds.
 */
long gom_heap_bytes(void)
{
	return atomic_long_read(&gom_arena_bytes);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_heap_bytes);

/* mem_limit, as a module parameter and /sys/kernel/gomalloc/mem_limit. */
unsigned long gom_mem_limit;
EXPORT_SYMBOL_GOM_INTERNAL(gom_mem_limit);

/**
 * gom_set_mem_limit() - set the memory limit
 * @bytes: the most the arenas may hold together, 0 for no limit
 *
 * A limit below what the heap holds makes the scavenger give back every
 * free arena at once; allocations fail until frees bring the heap under.
 *
 * Context: any.
 * Return: 0.
 */
int gom_set_mem_limit(unsigned long bytes)
{
	WRITE_ONCE(gom_mem_limit, bytes);
	if (bytes && atomic_long_read(&gom_arena_bytes) > bytes - bytes / 8)
		gom_scavenge_kick(true);
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_set_mem_limit);

/**
 * gom_store_mem_limit() - set the memory limit from text
 * @buf: bytes, with an optional K, M or G suffix and a trailing newline,
 *	 as the module parameter and /sys/kernel/gomalloc/mem_limit take it
 *
 * Context: any.
 * Return: 0, or -EINVAL for anything else.
 */
int gom_store_mem_limit(const char *buf)
{
	unsigned long long bytes;
	char *end;

	bytes = memparse(buf, &end);
	if (end == buf || (*end && *end != '\n') || bytes > ULONG_MAX)
		return -EINVAL;
	return gom_set_mem_limit(bytes);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_store_mem_limit);

static int mem_limit_set(const char *val, const struct kernel_param *kp)
{
	return gom_store_mem_limit(val);
}

static const struct kernel_param_ops mem_limit_ops = {
	.set = mem_limit_set,
	.get = param_get_ulong,
};
module_param_cb(mem_limit, &mem_limit_ops, &gom_mem_limit, 0644);
MODULE_PARM_DESC(mem_limit, "Most bytes the heap may take from the page allocator (0: no limit)");

/**
 * gom_page_is_free() - whether an address lies in a free block of the heap
 * @addr: the address
 *
 * Context: any; a lockless hint for error reports.
 * Return: true if the page of @addr is in a free block.
 */
bool gom_page_is_free(unsigned long addr)
{
	unsigned long pfn = gom_addr_pfn(addr), e = gom_pm_lookup((void *)addr);
	unsigned int o, aorder = gom_pm_aorder(e);

	if (e == GOM_PM_NONE || gom_pm_is_span(e))
		return false;
	for (o = 0; o <= aorder; o++) {
		unsigned long head = pfn & ~((1UL << o) - 1);

		e = gom_pm_lookup(pfn_addr(head));
		if (gom_pm_tag(e) == GOM_PM_FREE && gom_pm_val(e) >= o)
			return true;
	}
	return false;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_page_is_free);

static void add_heap(struct gom_heap_stats *st, struct gom_mheap *h)
{
	unsigned int o;

	st->pages_total += READ_ONCE(h->pages_total);
	st->pages_free += READ_ONCE(h->pages_free);
	st->pages_released += READ_ONCE(h->pages_released);
	st->large_spans += READ_ONCE(h->large_spans);
	st->large_pages += READ_ONCE(h->large_pages);
	st->small_spans += READ_ONCE(h->small_spans);
	st->grow_fallbacks += READ_ONCE(h->grow_fallbacks);
	st->grow_failures += READ_ONCE(h->grow_failures);
	for (o = 0; o <= GOM_MAX_ORDER; o++) {
		st->free_blocks[o] += READ_ONCE(h->nr_free[o]) +
				      READ_ONCE(h->nr_empty[o]);
		st->arenas_by_order[o] += READ_ONCE(h->nr_arenas[o]);
		st->arenas += READ_ONCE(h->nr_arenas[o]);
	}
}

/**
 * gom_mheap_read() - add the page heaps' counters to a snapshot
 * @st: the snapshot; every field the heaps own is added to
 *
 * Context: any; takes no lock (a lockless snapshot).
 */
void gom_mheap_read(struct gom_heap_stats *st)
{
	int nid;

	for_each_node(nid)
		if (gom_heaps[nid])
			add_heap(st, gom_heaps[nid]);
	st->arena_pages = 1UL << gom_arena_order;
}

/**
 * gom_mheap_init() - set up an empty heap
 * @heap: the heap
 * @node: NUMA node its arenas come from
 *
 * Context: any.
 */
void gom_mheap_init(struct gom_mheap *heap, int node)
{
	unsigned int o;

	memset(heap, 0, sizeof(*heap));
	spin_lock_init(&heap->lock);
	heap->node = node;
	for (o = 0; o <= GOM_MAX_ORDER; o++) {
		INIT_LIST_HEAD(&heap->free[o]);
		INIT_LIST_HEAD(&heap->empty[o]);
	}
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_init);

/**
 * gom_mheap_destroy() - release a heap's arenas
 * @heap: the heap
 *
 * Arenas with pages still in use are left allocated (leaked on purpose:
 * freeing them could turn a caller's bug into a use after free) and
 * reported.
 *
 * Context: process context.
 * Return: the number of arenas leaked.
 */
unsigned long gom_mheap_destroy(struct gom_mheap *heap)
{
	unsigned long n = 0;
	unsigned int o;

	gom_mheap_release(heap, 0);
	for (o = 0; o <= GOM_MAX_ORDER; o++)
		n += heap->nr_arenas[o];
	if (n)
		pr_err("node %d: %lu arenas leaked with pages in use\n",
		       heap->node, n);
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_destroy);

/**
 * gom_heap_node() - the node whose heap serves a request
 * @node: requested node or NUMA_NO_NODE
 *
 * Context: any.
 * Return: a node with a heap.
 */
int gom_heap_node(int node)
{
	if (node == NUMA_NO_NODE || node < 0 || node >= MAX_NUMNODES ||
	    !gom_heaps[node])
		return numa_mem_id();
	return node;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_heap_node);
