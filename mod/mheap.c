// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc mheap: levels 2 and 3 of the allocator, the page heap.
 *
 * The heap of each NUMA node grows by arenas: naturally aligned blocks of
 * 2^gom_arena_order pages taken from the kernel's page allocator with
 * alloc_pages_node() (level 3, Go's sysAlloc). Inside its arenas a heap is
 * a buddy allocator: per-order free lists, a block is split on allocation
 * and merged with its free buddy on free, up to a whole arena. A wholly free
 * arena goes back to the page allocator when the heap releases memory (see
 * gom_mheap_release(); main.c calls it from delayed work, the shrinker and
 * the sysfs "shrink" file).
 *
 * Small spans (runs of pages carved into objects by mcentral.c) and large
 * runs (objects above GOM_MAX_SMALL_SIZE, and gom_alloc_pages()) are exact
 * runs of pages: the buddy block is split and its tail given back, so a
 * five-page request holds five pages, not eight.
 *
 * Pointer to span lookup is O(1) and lockless, as Go's heapArena map: a
 * two-level table indexed by the arena number of the direct-map address
 * finds the struct gom_arena, and its map holds one word per page (a span
 * pointer, a large-run head, a free-block head, or 0). A pointer whose
 * arena slot is empty is not gomalloc's. Arena metadata is freed after an
 * RCU grace period; lookups run with interrupts disabled, which is an RCU
 * read-side critical section.
 *
 * Locking: gom_mheap.lock (irq-safe) protects the free lists, the arena
 * list, the counters and the map entries of the heap's arenas. It nests
 * inside gom_mcentral.lock and never the other way round. gom_table_lock
 * serialises arena registration and is a leaf lock. Nothing here sleeps
 * under a lock; gom_mheap_grow() sleeps only if its gfp allows it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "internal.h"

/* Default: the largest block the running kernel's page allocator gives. */
unsigned int gom_arena_order = GOM_MAX_ORDER;
module_param_named(arena_order, gom_arena_order, uint, 0444);
MODULE_PARM_DESC(arena_order, "Arena size as a page order (default: the largest the kernel allows)");
EXPORT_SYMBOL_GOM_INTERNAL(gom_arena_order);

unsigned int gom_arena_shift;
struct gom_arena ***gom_l1;
unsigned long gom_table_size;
static unsigned long gom_l1_size;
static DEFINE_SPINLOCK(gom_table_lock);

struct gom_mheap *gom_heaps[MAX_NUMNODES];
EXPORT_SYMBOL_GOM_INTERNAL(gom_heaps);

static unsigned int arena_pages(void)
{
	return 1U << gom_arena_order;
}

static unsigned long free_tag(unsigned int order)
{
	return ((unsigned long)order << GOM_MAP_SHIFT) | GOM_MAP_FREE;
}

static unsigned long pg_index(struct gom_arena *a, unsigned long addr)
{
	return (addr - a->base) >> PAGE_SHIFT;
}

static struct page *index_page(struct gom_arena *a, unsigned long pg)
{
	return virt_to_page(a->base + (pg << PAGE_SHIFT));
}

/**
 * gom_arena_lookup() - find the arena that holds an address
 * @addr: any kernel address
 *
 * Context: interrupts disabled, or otherwise inside an RCU read-side
 * critical section, when the arena may be released concurrently.
 * Return: the arena, or NULL if @addr is not in gomalloc's heap.
 */
struct gom_arena *gom_arena_lookup(unsigned long addr)
{
	return __gom_arena_lookup(addr);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_arena_lookup);

/**
 * gom_map_entry() - the arena map word of the page holding an address
 * @arena: arena holding @addr, from gom_arena_lookup()
 * @addr: the address
 *
 * Context: any.
 * Return: pointer to the map word.
 */
unsigned long *gom_map_entry(struct gom_arena *arena, unsigned long addr)
{
	return &arena->map[pg_index(arena, addr)];
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_map_entry);

/**
 * gom_page_free() - whether an address lies in a free block of its arena
 * @arena: arena holding @addr
 * @addr: the address
 *
 * Context: any; a lockless hint for error reports.
 * Return: true if the page of @addr is free.
 */
bool gom_page_free(struct gom_arena *arena, unsigned long addr)
{
	unsigned long pg = pg_index(arena, addr);
	unsigned int order;

	for (order = 0; order <= gom_arena_order; order++) {
		unsigned long head = pg & ~((1UL << order) - 1);

		if (READ_ONCE(arena->map[head]) == free_tag(order))
			return true;
	}
	return false;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_page_free);

static void push_free(struct gom_mheap *h, struct gom_arena *a,
		      unsigned long pg, unsigned int order)
{
	a->map[pg] = free_tag(order);
	list_add(&index_page(a, pg)->lru, &h->free[order]);
	h->nr_free[order]++;
	h->pages_free += 1UL << order;
	if (order == gom_arena_order)
		h->nr_empty_arenas++;
}

static void unlink_free(struct gom_mheap *h, struct gom_arena *a,
			unsigned long pg, unsigned int order)
{
	struct page *page = index_page(a, pg);

	list_del_init(&page->lru);
	a->map[pg] = 0;
	h->nr_free[order]--;
	h->pages_free -= 1UL << order;
	if (order == gom_arena_order)
		h->nr_empty_arenas--;
}

/* Free one aligned block, merging it with free buddies. */
static void free_block(struct gom_mheap *h, struct gom_arena *a,
		       unsigned long pg, unsigned int order)
{
	while (order < gom_arena_order) {
		unsigned long buddy = pg ^ (1UL << order);

		if (a->map[buddy] != free_tag(order))
			break;
		unlink_free(h, a, buddy, order);
		pg &= buddy;
		order++;
	}
	push_free(h, a, pg, order);
}

/* Free [pg, pg + n) as the largest aligned blocks that tile it. */
static void free_range(struct gom_mheap *h, struct gom_arena *a,
		       unsigned long pg, unsigned long n)
{
	while (n) {
		unsigned int order = ilog2(n);

		if (pg)
			order = min_t(unsigned int, order, __ffs(pg));
		free_block(h, a, pg, order);
		pg += 1UL << order;
		n -= 1UL << order;
	}
}

/* Take a free block of exactly @order, splitting a larger one if needed. */
static struct gom_arena *take_block(struct gom_mheap *h, unsigned int order,
				    unsigned long *pgp)
{
	unsigned int o = order;
	struct gom_arena *a;
	unsigned long addr, pg;
	struct page *page;

	while (o <= gom_arena_order && list_empty(&h->free[o]))
		o++;
	if (o > gom_arena_order)
		return NULL;
	page = list_first_entry(&h->free[o], struct page, lru);
	addr = (unsigned long)page_address(page);
	a = __gom_arena_lookup(addr);
	pg = pg_index(a, addr);
	unlink_free(h, a, pg, o);
	while (o > order) {
		o--;
		push_free(h, a, pg + (1UL << o), o);
	}
	*pgp = pg;
	return a;
}

static void set_run(struct gom_arena *a, unsigned long pg, unsigned int n,
		    struct gom_span *span)
{
	unsigned int i;

	if (!span) {
		a->map[pg] = ((unsigned long)n << GOM_MAP_SHIFT) | GOM_MAP_LARGE;
		return;
	}
	for (i = 0; i < n; i++)
		a->map[pg + i] = (unsigned long)span;
}

/**
 * gom_mheap_alloc_run() - take an exact run of pages from a heap
 * @heap: the heap
 * @npages: pages wanted, at most one arena
 * @span: small span the pages will back, or NULL for a large run
 *
 * The pages' map entries point to @span, or mark a large run head.
 *
 * Context: any; takes @heap->lock. Never sleeps.
 * Return: address of the first page, or NULL when the heap has no free
 * block large enough and must grow (gom_mheap_grow()).
 */
void *gom_mheap_alloc_run(struct gom_mheap *heap, unsigned int npages,
			  struct gom_span *span)
{
	unsigned int order = order_base_2(npages);
	struct gom_arena *a;
	unsigned long flags, pg;

	spin_lock_irqsave(&heap->lock, flags);
	a = take_block(heap, order, &pg);
	if (!a) {
		spin_unlock_irqrestore(&heap->lock, flags);
		return NULL;
	}
	if (npages < (1U << order))
		free_range(heap, a, pg + npages, (1UL << order) - npages);
	set_run(a, pg, npages, span);
	if (span) {
		heap->small_spans++;
	} else {
		heap->large_spans++;
		heap->large_pages += npages;
	}
	spin_unlock_irqrestore(&heap->lock, flags);
	return (void *)(a->base + (pg << PAGE_SHIFT));
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_alloc_run);

/**
 * gom_mheap_free_run() - give a run of pages back to its heap
 * @heap: the heap the run came from
 * @addr: first page of the run
 * @npages: length of the run
 * @span: the small span it backed, or NULL for a large run
 *
 * For a large run the head entry is checked under the lock, so that two
 * racing frees of one run cannot both succeed.
 *
 * Context: any; takes @heap->lock.
 * Return: 0, or -EINVAL if the run is not (or no longer) allocated.
 */
int gom_mheap_free_run(struct gom_mheap *heap, void *addr,
		       unsigned int npages, struct gom_span *span)
{
	struct gom_arena *a = __gom_arena_lookup((unsigned long)addr);
	unsigned long pg, flags, head;
	unsigned int i;

	if (!a)
		return -EINVAL;
	pg = pg_index(a, (unsigned long)addr);
	head = span ? (unsigned long)span :
		((unsigned long)npages << GOM_MAP_SHIFT) | GOM_MAP_LARGE;
	spin_lock_irqsave(&heap->lock, flags);
	if (a->map[pg] != head) {
		spin_unlock_irqrestore(&heap->lock, flags);
		return -EINVAL;
	}
	for (i = 0; i < npages; i++)
		a->map[pg + i] = 0;
	free_range(heap, a, pg, npages);
	if (span) {
		heap->small_spans--;
	} else {
		heap->large_spans--;
		heap->large_pages -= npages;
	}
	spin_unlock_irqrestore(&heap->lock, flags);
	if (heap->nr_empty_arenas)
		gom_scavenge_kick();
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_free_run);

static gfp_t grow_gfp(gfp_t gfp)
{
	gfp &= __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | __GFP_IO |
	       __GFP_FS | __GFP_HIGH | __GFP_MEMALLOC | __GFP_NOMEMALLOC |
	       __GFP_RETRY_MAYFAIL | __GFP_NORETRY;
	return gfp | __GFP_NOWARN;
}

/* Make sure the table has a second-level array for arena slot @idx. */
static int table_prepare(unsigned long idx, gfp_t gfp)
{
	struct gom_arena **l2;
	unsigned long flags;

	if (READ_ONCE(gom_l1[idx >> GOM_L2_BITS]))
		return 0;
	l2 = kcalloc(GOM_L2_SIZE, sizeof(*l2), gfp);
	if (!l2)
		return -ENOMEM;
	spin_lock_irqsave(&gom_table_lock, flags);
	if (!gom_l1[idx >> GOM_L2_BITS]) {
		WRITE_ONCE(gom_l1[idx >> GOM_L2_BITS], l2);
		l2 = NULL;
	}
	spin_unlock_irqrestore(&gom_table_lock, flags);
	kfree(l2);
	return 0;
}

static unsigned long arena_slot(unsigned long base)
{
	return (base - PAGE_OFFSET) >> gom_arena_shift;
}

static void table_set(unsigned long base, struct gom_arena *a)
{
	unsigned long idx = arena_slot(base), flags;

	spin_lock_irqsave(&gom_table_lock, flags);
	WRITE_ONCE(gom_l1[idx >> GOM_L2_BITS][idx & (GOM_L2_SIZE - 1)], a);
	spin_unlock_irqrestore(&gom_table_lock, flags);
}

/* The arena descriptor and its map, as the kmalloc buckets they take. */
static long arena_meta_bytes(void)
{
	return kmalloc_size_roundup(sizeof(struct gom_arena)) +
	       kmalloc_size_roundup(arena_pages() * sizeof(long));
}

static struct gom_arena *arena_new(struct gom_mheap *h, struct page *page,
				   gfp_t gfp)
{
	struct gom_arena *a;

	a = kzalloc_node(sizeof(*a), gfp, h->node);
	if (!a)
		return NULL;
	a->map = kcalloc_node(arena_pages(), sizeof(*a->map), gfp, h->node);
	if (!a->map) {
		kfree(a);
		return NULL;
	}
	a->base = (unsigned long)page_address(page);
	a->heap = h;
	atomic_long_add(arena_meta_bytes(), &gom_errors.metadata_bytes);
	return a;
}

static void arena_free_rcu(struct rcu_head *rcu)
{
	struct gom_arena *a = container_of(rcu, struct gom_arena, rcu);

	atomic_long_sub(arena_meta_bytes(), &gom_errors.metadata_bytes);
	kfree(a->map);
	kfree(a);
}

/**
 * gom_mheap_grow() - add one arena from the page allocator to a heap
 * @heap: the heap
 * @gfp: allocation context of the caller; sleeps only if it allows
 *
 * Context: process context if @gfp allows blocking, else any context
 * where alloc_pages(@gfp) is allowed. No gomalloc lock may be held.
 * Return: 0 on success, -ENOMEM if the page allocator had no block.
 */
int gom_mheap_grow(struct gom_mheap *heap, gfp_t gfp)
{
	gfp_t meta_gfp = gom_meta_gfp(gfp);
	struct gom_arena *a;
	struct page *page;
	unsigned long flags;

	page = alloc_pages_node(heap->node, grow_gfp(gfp), gom_arena_order);
	if (!page)
		return -ENOMEM;
	if (!PageHighMem(page) &&
	    arena_slot((unsigned long)page_address(page)) < gom_table_size &&
	    !table_prepare(arena_slot((unsigned long)page_address(page)),
			   meta_gfp)) {
		a = arena_new(heap, page, meta_gfp);
		if (a)
			goto add;
	}
	__free_pages(page, gom_arena_order);
	return -ENOMEM;
add:
	table_set(a->base, a);
	spin_lock_irqsave(&heap->lock, flags);
	list_add_tail(&a->list, &heap->arenas);
	heap->nr_arenas++;
	heap->pages_total += arena_pages();
	free_block(heap, a, 0, gom_arena_order);
	spin_unlock_irqrestore(&heap->lock, flags);
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_grow);

/* Detach a wholly free arena from the heap; caller holds the lock. */
static struct gom_arena *detach_empty(struct gom_mheap *h)
{
	unsigned int order = gom_arena_order;
	struct gom_arena *a;
	struct page *page;

	if (list_empty(&h->free[order]))
		return NULL;
	/* The oldest free arena: recently freed ones are warm in caches. */
	page = list_last_entry(&h->free[order], struct page, lru);
	a = __gom_arena_lookup((unsigned long)page_address(page));
	unlink_free(h, a, 0, order);
	list_del(&a->list);
	h->nr_arenas--;
	h->pages_total -= arena_pages();
	h->pages_released += arena_pages();
	return a;
}

static void arena_release(struct gom_arena *a)
{
	table_set(a->base, NULL);
	free_pages(a->base, gom_arena_order);
	call_rcu(&a->rcu, arena_free_rcu);
}

/**
 * gom_mheap_release() - give wholly free arenas back to the page allocator
 * @heap: the heap
 * @keep: number of free arenas to keep as a reserve
 *
 * Context: any context that may call free_pages(); takes @heap->lock.
 * Return: the number of arenas released.
 */
int gom_mheap_release(struct gom_mheap *heap, unsigned int keep)
{
	struct gom_arena *a;
	unsigned long flags;
	int n = 0;

	for (;;) {
		spin_lock_irqsave(&heap->lock, flags);
		a = heap->nr_empty_arenas > keep ? detach_empty(heap) : NULL;
		spin_unlock_irqrestore(&heap->lock, flags);
		if (!a)
			return n;
		arena_release(a);
		n++;
	}
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mheap_release);

/**
 * gom_mheap_init() - set up an empty heap
 * @heap: the heap
 * @node: NUMA node its arenas come from
 *
 * Context: any.
 * Return: 0.
 */
int gom_mheap_init(struct gom_mheap *heap, int node)
{
	unsigned int o;

	memset(heap, 0, sizeof(*heap));
	spin_lock_init(&heap->lock);
	heap->node = node;
	INIT_LIST_HEAD(&heap->arenas);
	for (o = 0; o <= GOM_MAX_ORDER; o++)
		INIT_LIST_HEAD(&heap->free[o]);
	return 0;
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
	struct gom_arena *a, *tmp;

	gom_mheap_release(heap, 0);
	list_for_each_entry_safe(a, tmp, &heap->arenas, list) {
		pr_err("node %d: arena leaked with pages in use\n", heap->node);
		list_del(&a->list);
		table_set(a->base, NULL);
		call_rcu(&a->rcu, arena_free_rcu);
	}
	return heap->nr_arenas;
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

/**
 * gom_table_init() - size and allocate the arena lookup table
 *
 * Context: process context (module init).
 * Return: 0 or -ENOMEM.
 */
int gom_table_init(void)
{
	unsigned int bits = MAX_PHYSMEM_BITS;

#ifdef CONFIG_X86
	bits = min_t(unsigned int, bits, boot_cpu_data.x86_phys_bits);
#endif
	if (gom_arena_order > GOM_MAX_ORDER)
		gom_arena_order = GOM_MAX_ORDER;
	gom_arena_shift = PAGE_SHIFT + gom_arena_order;
	gom_table_size = 1UL << (max(bits, gom_arena_shift + GOM_L2_BITS) -
				 gom_arena_shift);
	gom_l1_size = DIV_ROUND_UP(gom_table_size, GOM_L2_SIZE);
	gom_l1 = kvcalloc(gom_l1_size, sizeof(*gom_l1), GFP_KERNEL);
	return gom_l1 ? 0 : -ENOMEM;
}

/**
 * gom_table_exit() - free the arena lookup table
 *
 * Context: process context, after every heap is destroyed.
 */
void gom_table_exit(void)
{
	unsigned long i;

	rcu_barrier();
	for (i = 0; i < gom_l1_size; i++)
		kfree(gom_l1[i]);
	kvfree(gom_l1);
}
