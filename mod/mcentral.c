// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc mcentral: level 2, the spans of one size class on one node.
 *
 * As Go's mcentral, it keeps its spans in two sets, partial (free objects
 * left) and full (none), and hands out whole spans: each CPU's mcache
 * owns one span per class and allocates from it without a lock; when the
 * span is used up, gom_mcentral_cache_span() takes it back and hands out
 * a partial one in the same lock round trip, or carves a new span out of
 * the mheap. A span whose objects are all free stays at the tail of the
 * partial list, where it is handed out last, and goes back to the mheap,
 * which merges its pages with their free neighbours, only past a reserve
 * of gom_empty_spans per class and node, and then lazily: when the heap
 * would otherwise grow (gom_mcentral_reclaim(), before any growth), or
 * empty_delay_ms after it became spare (trim_work()). A burst that frees
 * a class's spans and allocates them again thus reuses them as they are,
 * descriptor and page map entries included, and memory that stays idle
 * still goes back, before the heap asks the page allocator for more.
 *
 * A span prefers its class's span size and falls back to the class's
 * minimum span (one page for classes up to PAGE_SIZE) when the heap has
 * no block of the preferred size, so a one-page hole serves small objects.
 *
 * A span records its free objects in a bitmap in its descriptor, not in
 * the objects: an object freed twice is caught when its bit is already
 * set, and a stray write into a freed object cannot corrupt span state.
 * Objects come back in batches from the mcaches' magazines
 * (gom_mcentral_flush()), a bitmap word at a time, with atomic operations
 * that cannot race with the owner claiming a word (gom_span_claim()).
 *
 * Locking: gom_mcentral.lock, taken with interrupts disabled, protects the
 * lists, the counters and the state of the spans that are not owned. It
 * nests outside gom_mheap.lock; the delayed trim is queued under it, and
 * takes the locks one class at a time. Nothing here runs inside a CPU's
 * section. Counters are read without the lock; the occupancy histogram
 * walks the partial list under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "debug.h"
#include "trace.h"

/* Wholly free spans an mcentral keeps before giving them to the mheap. */
static unsigned int gom_empty_spans = 1;
module_param_named(empty_spans, gom_empty_spans, uint, 0644);
MODULE_PARM_DESC(empty_spans, "Free spans each size class keeps per node before returning pages to the heap");

/* Delay before spare wholly free spans go back to the heap. */
unsigned int gom_empty_ms = 1000;
EXPORT_SYMBOL_GOM_INTERNAL(gom_empty_ms);
module_param_named(empty_delay_ms, gom_empty_ms, uint, 0644);
MODULE_PARM_DESC(empty_delay_ms, "Delay before wholly free spans beyond empty_spans go back to the heap");

/* Nodes whose mcentrals may keep wholly free spans beyond the reserve. */
static DECLARE_BITMAP(gom_spare_nodes, MAX_NUMNODES);

static void trim_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(gom_trim_work, trim_work);

/* Tries of carving a span before giving up on a heap others keep taking. */
#define GOM_CARVE_TRIES		8

struct gom_mcentral *gom_centrals[MAX_NUMNODES];
EXPORT_SYMBOL_GOM_INTERNAL(gom_centrals);

/* The key of the free-object mark (see gom_obj_mark()); set at load. */
unsigned long gom_free_key __read_mostly;
EXPORT_SYMBOL_GOM_INTERNAL(gom_free_key);

static const struct gom_class *class_of(struct gom_mcentral *c)
{
	return &gom_classes[c->cls];
}

static struct gom_mcentral *span_central(struct gom_span *s)
{
	return gom_central(s->node, s->cls);
}

static size_t desc_size(unsigned int cls)
{
	return struct_size((struct gom_span *)NULL, free_bits,
			   BITS_TO_LONGS(gom_classes[cls].nobjs));
}

/*
 * Descriptors come from caches of their exact size, one per bitmap
 * length (gom_span_88 to gom_span_336): kmalloc() would round them up to
 * its next bucket, 96 to 512 bytes, a tenth more of what gomalloc spends
 * besides the objects. Indexed by bitmap words.
 */
#define GOM_DESC_WORDS		BITS_TO_LONGS(GOM_MAX_SPAN_OBJS)
static struct kmem_cache *gom_desc_caches[GOM_DESC_WORDS + 1];

static struct kmem_cache *desc_cache(unsigned int cls)
{
	return gom_desc_caches[BITS_TO_LONGS(gom_classes[cls].nobjs)];
}

/* What a descriptor really takes: its cache's object size. */
static long desc_bytes(unsigned int cls)
{
	return kmem_cache_size(desc_cache(cls));
}

static struct gom_span *desc_alloc(struct gom_mcentral *c, gfp_t gfp)
{
	struct gom_span *s;

	s = kmem_cache_alloc_node(desc_cache(c->cls), gom_meta_gfp(gfp),
				  c->node);
	if (s) {
		s->cls = c->cls;
		gom_meta_add(desc_bytes(c->cls));
		/* its base points at object 0: kmemleak must not count it */
		kmemleak_no_scan(s);
	}
	return s;
}

/* A descriptor no lockless reader has seen. */
static void desc_discard(struct gom_span *s)
{
	gom_meta_add(-desc_bytes(s->cls));
	kmem_cache_free(desc_cache(s->cls), s);
}

static void desc_free_rcu(struct rcu_head *rcu)
{
	struct gom_span *s = container_of(rcu, struct gom_span, rcu);

	kmem_cache_free(desc_cache(s->cls), s);
}

/**
 * gom_span_desc_free() - free a span descriptor
 * @span: descriptor of a span whose pages went back to the heap
 *
 * The descriptor is freed after an RCU grace period: a racing gom_free()
 * of a stale pointer may still be reading it.
 *
 * Context: any.
 */
void gom_span_desc_free(struct gom_span *span)
{
	gom_meta_add(-desc_bytes(span->cls));
	call_rcu(&span->rcu, desc_free_rcu);
}

/**
 * gom_mcentral_caches_init() - create the descriptor caches
 *
 * Context: process context (module init).
 * Return: 0 or -ENOMEM.
 */
int gom_mcentral_caches_init(void)
{
	unsigned int cls, words;
	char name[24];

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		words = BITS_TO_LONGS(gom_classes[cls].nobjs);
		if (gom_desc_caches[words])
			continue;
		snprintf(name, sizeof(name), "gom_span_%zu", desc_size(cls));
		gom_desc_caches[words] = kmem_cache_create(name, desc_size(cls),
							   0, 0, NULL);
		if (!gom_desc_caches[words])
			goto destroy_caches;
	}
	return 0;
destroy_caches:
	gom_mcentral_caches_exit();
	return -ENOMEM;
}

/**
 * gom_mcentral_caches_exit() - destroy the descriptor caches
 *
 * Context: process context (module exit), after gom_mcentral_exit() of
 * every mcentral.
 */
void gom_mcentral_caches_exit(void)
{
	unsigned int w;

	/* descriptors waiting for a grace period, and their callbacks */
	rcu_barrier();
	for (w = 0; w <= GOM_DESC_WORDS; w++) {
		kmem_cache_destroy(gom_desc_caches[w]);
		gom_desc_caches[w] = NULL;
	}
}

/* Describe a span of @npages pages of @c's class, owned by its taker. */
static void span_init(struct gom_span *s, struct gom_mcentral *c,
		      unsigned int npages)
{
	const struct gom_class *k = class_of(c);

	s->node = c->node;
	s->mag_off = gom_mag_off(c->cls);
	s->nsampled = 0;
	s->sampled = GOM_SAMPLED_ANY;
	s->size = k->size;
	s->inv = gom_inv64(k->size >> k->shift, k->inv);
	s->shift = k->shift;
	s->npages = npages;
	s->nobjs = npages == k->npages ? k->nobjs : npages * PAGE_SIZE / k->size;
	s->nfree = s->nobjs;
	s->state = GOM_SPAN_OWNED;
	s->cache = 0;
	s->cache_base = 0;		/* no word claimed */
	s->next_word = 0;
	/* no bit past the last object: words are claimed whole */
	bitmap_zero(s->free_bits, k->nobjs);
	bitmap_set(s->free_bits, 0, s->nobjs);
}

static void *carve(struct gom_mcentral *c, struct gom_span *s,
		   unsigned int npages)
{
	span_init(s, c, npages);
	return gom_mheap_alloc_run(gom_heaps[c->node], npages, s);
}

/*
 * A new span's objects are all free: each gets its mark, KASAN poisons
 * them, and stale debug trailers are forgotten.
 */
static void mark_all(struct gom_span *s)
{
	unsigned int i;

	for (i = 0; i < s->nobjs; i++)
		gom_obj_mark((void *)(s->base + i * s->size));
	gom_kasan_poison((void *)s->base, 0, (size_t)s->npages << PAGE_SHIFT,
			 GOM_KASAN_FREE);
	gom_debug_carve(s->base, s->nobjs, s->size);
}

/*
 * Carve @s of @k's preferred size, or of its minimum size in a hole that
 * is worth it (gom_hole_worth()) or when the heap cannot grow for the
 * preferred size.
 */
static bool carve_some(struct gom_mcentral *c, struct gom_span *s,
		       const struct gom_class *k, gfp_t gfp)
{
	if (carve(c, s, k->npages))
		return true;
	if (k->min_pages == k->npages)
		return false;
	if (!gom_hole_worth(k)) {
		/* the node's spare spans first */
		if (gom_mcentral_reclaim(c->node) && carve(c, s, k->npages))
			return true;
		/* then, as SLUB tries its preferred slab order, spare memory */
		if (!gom_mheap_grow_spare(gom_heaps[c->node],
					  order_base_2(k->npages), gfp) &&
		    carve(c, s, k->npages))
			return true;
	}
	return carve(c, s, k->min_pages);
}

/*
 * Carve a new span, owned by the caller; gives the node's spare spans back
 * to the heap, and then grows it, if it must.
 */
static struct gom_span *span_new(struct gom_mcentral *c, gfp_t gfp)
{
	const struct gom_class *k = class_of(c);
	struct gom_span *s = desc_alloc(c, gfp);
	unsigned long flags;
	int err, tries = 0;

	if (!s)
		return ERR_PTR(-ENOMEM);
	while (!carve_some(c, s, k, gfp)) {
		err = gom_mcentral_grow(c->node, order_base_2(k->min_pages),
					gfp);
		if (!err && (++tries < GOM_CARVE_TRIES || (gfp & __GFP_NOFAIL)))
			continue;
		desc_discard(s);
		return ERR_PTR(err ? err : -ENOMEM);
	}
	mark_all(s);
	s->born = jiffies;
	trace_gom_span_alloc((void *)s->base, s->npages, s->size, s->nobjs,
			     s->node);
	spin_lock_irqsave(&c->lock, flags);
	c->nr_owned++;
	c->objs_total += s->nobjs;
	if (s->npages != k->npages)
		c->nr_min++;
	spin_unlock_irqrestore(&c->lock, flags);
	return s;
}

/**
 * gom_mcentral_init() - set up an empty mcentral
 * @c: the mcentral
 * @node: its node
 * @cls: its size class
 *
 * Context: any.
 */
void gom_mcentral_init(struct gom_mcentral *c, int node, unsigned int cls)
{
	memset(c, 0, sizeof(*c));
	spin_lock_init(&c->lock);
	c->node = node;
	c->cls = cls;
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->full);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_init);

/**
 * gom_mcentral_exit() - free the descriptors of an mcentral's spans
 * @c: the mcentral
 *
 * At unload, every span still listed holds objects that were never freed:
 * their pages stay allocated with their arena, but nothing will look at
 * the descriptors again.
 *
 * Context: process context (module exit), every CPU's caches drained.
 */
void gom_mcentral_exit(struct gom_mcentral *c)
{
	struct gom_span *s, *tmp;

	list_splice_init(&c->full, &c->partial);
	list_for_each_entry_safe(s, tmp, &c->partial, list) {
		list_del(&s->list);
		desc_discard(s);
	}
}

/* Put a span that is not owned on the list its count says; c->lock held. */
static void span_list(struct gom_mcentral *c, struct gom_span *s)
{
	if (!s->nfree) {
		s->state = GOM_SPAN_FULL;
		list_add(&s->list, &c->full);
		c->nr_full++;
		return;
	}
	s->state = GOM_SPAN_PARTIAL;
	c->nr_partial++;
	c->objs_free += s->nfree;
	if (s->nfree < s->nobjs) {
		list_add(&s->list, &c->partial);
		return;
	}
	list_add_tail(&s->list, &c->partial);
	c->nr_empty++;
}

/* Take a span off its list, counters with it; c->lock held. */
static void span_unlist(struct gom_mcentral *c, struct gom_span *s)
{
	list_del(&s->list);
	if (s->state == GOM_SPAN_FULL) {
		c->nr_full--;
		return;
	}
	c->nr_partial--;
	c->objs_free -= s->nfree;
	if (s->nfree == s->nobjs)
		c->nr_empty--;
}

/* Give a wholly free span's pages back to the heap; c->lock held. */
static void span_release(struct gom_mcentral *c, struct gom_span *s)
{
	span_unlist(c, s);
	c->objs_total -= s->nobjs;
	if (s->npages != class_of(c)->npages)
		c->nr_min--;
	trace_gom_span_free((void *)s->base, s->npages, s->size, s->nobjs,
			    s->node);
	gom_mheap_free_run((void *)s->base, s->npages, s);
	gom_span_desc_free(s);
}

/*
 * @s is listed: if it is wholly free beyond @c's reserve, it is spare,
 * left for gom_mcentral_reclaim() or trim_work() to give back; c->lock
 * held.
 */
static void span_check_empty(struct gom_mcentral *c, struct gom_span *s)
{
	if (s->state != GOM_SPAN_PARTIAL || s->nfree < s->nobjs ||
	    c->nr_empty <= READ_ONCE(gom_empty_spans))
		return;
	if (!test_bit(c->node, gom_spare_nodes))
		set_bit(c->node, gom_spare_nodes);
	/* a timer any context may arm, unless armed: the work runs in a task */
	queue_delayed_work(system_unbound_wq, &gom_trim_work,
			   msecs_to_jiffies(READ_ONCE(gom_empty_ms)));
}

/* An owned span comes back: list it by what is free now; c->lock held. */
static void uncache_locked(struct gom_mcentral *c, struct gom_span *s)
{
	if (s->cache) {
		s->free_bits[s->next_word - 1] |= s->cache;
		WRITE_ONCE(s->cache, 0);
	}
	s->nfree = bitmap_weight(s->free_bits, s->nobjs);
	c->nr_owned--;
	span_list(c, s);
	span_check_empty(c, s);
}

/* Hand out the first partial span; c->lock held. */
static struct gom_span *take_partial(struct gom_mcentral *c)
{
	struct gom_span *s;

	s = list_first_entry_or_null(&c->partial, struct gom_span, list);
	if (!s)
		return NULL;
	span_unlist(c, s);
	s->state = GOM_SPAN_OWNED;
	s->next_word = 0;
	s->cache_base = 0;		/* no word claimed */
	WRITE_ONCE(s->cache, 0);
	c->nr_owned++;
	return s;
}

/**
 * gom_mcentral_uncache() - take back a span an mcache owned
 * @s: the span; its owner no longer allocates from it
 *
 * Its unallocated claimed objects go back to its bitmap, and it goes on
 * the partial or full list, or back to the heap if it is wholly free and
 * the mcentral has enough free spans.
 *
 * Context: any; takes the span's mcentral lock.
 */
void gom_mcentral_uncache(struct gom_span *s)
{
	struct gom_mcentral *c = span_central(s);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	uncache_locked(c, s);
	spin_unlock_irqrestore(&c->lock, flags);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_uncache);

/**
 * gom_mcentral_cache_span() - swap a used-up span for one with free objects
 * @c: the mcentral of the caller's node and class
 * @old: the span the caller owned, or NULL
 * @gfp: the caller's allocation context, for growing the heap
 *
 * @old is taken back and a partial span handed out in one lock round trip
 * (when @old is @c's); a new span is carved out of the heap when no span
 * is partial.
 *
 * Context: any context where kmalloc(@gfp) is allowed; outside the CPU's
 * section. Sleeps only if @gfp allows.
 * Return: a span the caller now owns, or an ERR_PTR(): -ENOMEM, or
 * -EDQUOT when mem_limit stopped the heap from growing.
 */
struct gom_span *gom_mcentral_cache_span(struct gom_mcentral *c,
					 struct gom_span *old, gfp_t gfp)
{
	struct gom_span *s;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	if (old && span_central(old) == c) {
		uncache_locked(c, old);
		old = NULL;
	}
	s = take_partial(c);
	spin_unlock_irqrestore(&c->lock, flags);
	if (old)
		gom_mcentral_uncache(old);
	return s ? s : span_new(c, gfp);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_cache_span);

/**
 * gom_span_claim() - move the next word of free objects into an owned
 *		      span's cache
 * @s: a span the caller owns, inside its CPU's section
 *
 * Context: the owner only; no lock (xchg() against concurrent frees).
 * Return: true if @s->cache now has objects, false if the span is used up.
 */
bool gom_span_claim(struct gom_span *s)
{
	unsigned int w, nwords = BITS_TO_LONGS(s->nobjs);
	unsigned long bits;

	while (s->next_word < nwords) {
		w = s->next_word;
		bits = xchg(&s->free_bits[w], 0);
		WRITE_ONCE(s->next_word, w + 1);
		WRITE_ONCE(s->cache_base, gom_span_word_base(s, w));
		if (bits) {
			WRITE_ONCE(s->cache, bits);
			return true;
		}
	}
	return false;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_span_claim);

/* Take the first free object of a span no CPU owns; updates its count. */
static void *take_first(struct gom_span *s)
{
	unsigned int idx = find_first_bit(s->free_bits, s->nobjs);

	clear_bit(idx, s->free_bits);
	s->nfree = bitmap_weight(s->free_bits, s->nobjs);
	return (void *)(s->base + idx * s->size);
}

/**
 * gom_mcentral_alloc() - allocate one object straight from the mcentral
 * @c: the mcentral
 * @gfp: the caller's allocation context
 *
 * For callers that cannot use a CPU's caches: an interrupt that found its
 * CPU's section busy, or a request for another node. The object comes
 * from a span no mcache owns.
 *
 * Context: any context where kmalloc(@gfp) is allowed.
 * Return: the object, still marked free (the caller clears the mark), or
 * an ERR_PTR() as gom_mcentral_cache_span().
 */
void *gom_mcentral_alloc(struct gom_mcentral *c, gfp_t gfp)
{
	struct gom_span *s;
	unsigned long flags;
	void *obj;

	spin_lock_irqsave(&c->lock, flags);
	s = list_first_entry_or_null(&c->partial, struct gom_span, list);
	if (s) {
		span_unlist(c, s);
		obj = take_first(s);
		span_list(c, s);
		spin_unlock_irqrestore(&c->lock, flags);
		return obj;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	s = span_new(c, gfp);
	if (IS_ERR(s))
		return s;
	/* nobody else knows the new span yet */
	obj = take_first(s);
	spin_lock_irqsave(&c->lock, flags);
	c->nr_owned--;
	span_list(c, s);
	spin_unlock_irqrestore(&c->lock, flags);
	return obj;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_alloc);

/* Objects of @mask (word @w of the owned span @s) in its owner's cache. */
static unsigned long owner_cached(struct gom_span *s, unsigned int w,
				  unsigned long mask)
{
	/* the claimed word is the one before the next to claim */
	if (READ_ONCE(s->next_word) != w + 1)
		return 0;
	return READ_ONCE(s->cache) & mask;
}

static void refuse_bits(struct gom_span *s, unsigned int w,
			unsigned long bits, const char *why)
{
	unsigned int b;

	for_each_set_bit(b, &bits, BITS_PER_LONG)
		gom_refuse_free((void *)(s->base +
				(w * BITS_PER_LONG + b) * s->size), why, true);
}

/*
 * Set the bits @mask of word @w of @s, whose state is @state; c->lock
 * held. Returns how many objects that freed: bits already set, or in the
 * owner's claimed word, are refused.
 */
static __always_inline unsigned int put_word(struct gom_span *s, u8 state,
					     unsigned int w,
					     unsigned long mask)
{
	unsigned long bad, old;

	bad = state == GOM_SPAN_OWNED ? owner_cached(s, w, mask) : 0;
	if (unlikely(bad)) {
		refuse_bits(s, w, bad, "object was never handed out");
		mask &= ~bad;
	}
	old = atomic_long_fetch_or(mask, (atomic_long_t *)&s->free_bits[w]);
	if (unlikely(old & mask)) {
		refuse_bits(s, w, old & mask, "object already free in its span");
		mask &= ~old;
	}
	return hweight_long(mask);
}

/* put_span() for a span that was full or is now wholly free. */
static noinline void relist(struct gom_mcentral *c, struct gom_span *s)
{
	if (s->state == GOM_SPAN_FULL) {
		s->state = GOM_SPAN_PARTIAL;
		list_move(&s->list, &c->partial);
		c->nr_full--;
		c->nr_partial++;
	}
	if (s->nfree < s->nobjs)
		return;
	c->nr_empty++;
	list_move_tail(&s->list, &c->partial);
	span_check_empty(c, s);
}

/*
 * Count @n objects put_word() freed in @s, whose state is @state, and
 * list it by what is free now; c->lock held. An owned span is counted
 * when it is handed back.
 */
static __always_inline void put_span(struct gom_mcentral *c,
				     struct gom_span *s, u8 state,
				     unsigned int n)
{
	if (state == GOM_SPAN_OWNED || !n)
		return;
	s->nfree += n;
	c->objs_free += n;
	if (unlikely(state == GOM_SPAN_FULL || s->nfree >= s->nobjs))
		relist(c, s);
}

/*
 * The span of @obj, if @obj is the start of a small object of gomalloc's;
 * else NULL. Lockless.
 */
static struct gom_span *obj_span(const void *obj, unsigned int *idxp)
{
	unsigned long e = gom_pm_get((unsigned long)obj);
	struct gom_span *s = (struct gom_span *)e;

	if (!gom_pm_is_span(e))
		return NULL;
	*idxp = gom_obj_index(s, (unsigned long)obj);
	return gom_obj_valid(s, *idxp) ? s : NULL;
}

/*
 * find_span() for a span of another mcentral than *@cp: switch to its
 * lock and look @obj up again under it, as a span cannot be released
 * while its mcentral's lock is held.
 */
static noinline struct gom_span *relock(struct gom_mcentral **cp,
					u32 *home, unsigned long *flags,
					struct gom_span *s, void *obj)
{
	struct gom_mcentral *c = *cp;
	unsigned int idx;

	if (c)
		spin_unlock_irqrestore(&c->lock, *flags);
	c = span_central(s);
	spin_lock_irqsave(&c->lock, *flags);
	*cp = c;
	*home = s->home;
	return obj_span(obj, &idx) == s ? s : NULL;
}

/*
 * The span of @obj, with its mcentral's lock held (*@cp, whose spans'
 * gom_span.home is *@home, 0 before the first). NULL if @obj is no longer
 * an object: its span went back to the heap since it was validated, so
 * it was freed twice. Whether it is the start of one of the span's
 * objects is left to the caller.
 */
static __always_inline struct gom_span *find_span(struct gom_mcentral **cp,
						  u32 *home,
						  unsigned long *flags,
						  void *obj)
{
	unsigned long e = gom_pm_get((unsigned long)obj);
	struct gom_span *s = (struct gom_span *)e;

	if (unlikely(!gom_pm_is_span(e)))
		return NULL;
	/* class 0 has no spans: no span's home is 0 */
	if (unlikely(s->home != *home))
		return relock(cp, home, flags, s, obj);
	return s;
}

/*
 * A span's objects in a flush are gathered in a bitmap on the stack,
 * @words, all zero between spans, and @touched marks the words that have
 * some: in any order, each word then takes one atomic OR, and an object
 * costs a bit set in memory (bts), which also finds an object twice in
 * the batch and refuses it. The span's index arithmetic stays in
 * registers; c->lock is held.
 */
static __always_inline void gather(unsigned long b, void *obj,
				   unsigned long *words,
				   unsigned long *touched)
{
	if (unlikely(__test_and_set_bit(b, words)))
		gom_refuse_free(obj, "object already free in its span", true);
	__set_bit(b / BITS_PER_LONG, touched);
}

/* Put the words gather() filled back in @s, emptied, and count them. */
static __always_inline void put_gathered(struct gom_mcentral *c,
					 struct gom_span *s, u8 state,
					 unsigned long *words,
					 unsigned long touched)
{
	unsigned int w, n = 0;

	for (; touched; touched &= touched - 1) {
		w = __ffs(touched);
		n += put_word(s, state, w, words[w]);
		words[w] = 0;
	}
	put_span(c, s, state, n);
}

/*
 * Free the object at @p, which is of @s, and the objects of @s after it:
 * those that follow it in the array, returning where the first other one
 * is; or with @sweep, every one up to @end, moving the others down from
 * @p in any order and returning where they end.
 */
static __always_inline void **flush_span(struct gom_mcentral *c,
					 struct gom_span *s, void **p,
					 void **end, unsigned long *words,
					 bool sweep)
{
	const unsigned long base = s->base, nobjs = s->nobjs;
	const u64 inv = s->inv;
	const u8 shift = s->shift, state = s->state;
	unsigned long b, touched = 0;
	void **q;

	/* addresses below the span wrap above it */
	b = gom_index64(base, inv, shift, (unsigned long)*p);
	if (unlikely(b >= nobjs)) {
		gom_refuse_free(*p, "object already free", true);
		if (!sweep)
			return p + 1;
		*p = *--end;
		return end;
	}
	if (sweep) {
		for (q = p; q < end; q++) {
			b = gom_index64(base, inv, shift, (unsigned long)*q);
			if (b < nobjs)
				gather(b, *q, words, &touched);
			else
				*p++ = *q;
		}
	} else {
		do {
			gather(b, *p, words, &touched);
			if (++p == end)
				break;
			b = gom_index64(base, inv, shift, (unsigned long)*p);
		} while (b < nobjs);
	}
	put_gathered(c, s, state, words, touched);
	return p;
}

/*
 * Batches up to a magazine's size are swept span by span when their spans
 * hold many objects: a burst of such objects freed in random order lies
 * in a few spans, where one of a few objects each is as likely to be in
 * a span of its own. A pass costs each object left in the batch its index
 * arithmetic, about 7 instructions; a run of one object in random order
 * costs it about 100 (a page map lookup, the span's fields, a word put
 * back): a pass pays while a sixteenth of those left are of its span.
 */
#define GOM_SWEEP_MAX		64
#define GOM_SWEEP_OBJS		128

/**
 * gom_mcentral_flush() - return objects to their spans
 * @objs: small objects of gomalloc's, validated when they were freed
 * @nr: number of objects
 *
 * Objects may be of any class and node; each goes to the mcentral of its
 * span. An object is looked up in the page map only when it is not in
 * the span of the one before; objects that follow it in its span are
 * found by the span's index arithmetic, those of one bitmap word freed
 * with one atomic operation, and the span's counts and lists updated
 * once. A batch of up to GOM_SWEEP_MAX objects, a magazine's worth in
 * random order, is swept: each span of GOM_SWEEP_OBJS objects or more
 * that is looked up takes all of its objects in the batch at once, while
 * at least a sixteenth of those left are of it; a larger batch, other
 * spans, or a batch spread over many spans go in runs. The order of
 * @objs is lost.
 *
 * Context: any; takes mcentral locks one at a time.
 */
void gom_mcentral_flush(void **objs, unsigned int nr)
{
	unsigned long words[BITS_TO_LONGS(GOM_MAX_SPAN_OBJS)] = { };
	void **p = objs, **end = objs + nr;
	bool sweep = nr <= GOM_SWEEP_MAX;
	struct gom_mcentral *c = NULL;
	unsigned long flags = 0;
	struct gom_span *s;
	unsigned int left;
	u32 home = 0;

	rcu_read_lock();
	while (p < end) {
		s = find_span(&c, &home, &flags, *p);
		if (s && sweep && s->nobjs >= GOM_SWEEP_OBJS) {
			left = end - p;
			end = flush_span(c, s, p, end, words, true);
			/* a sixteenth were of the span: others may be too */
			sweep = 16 * (left - (end - p)) >= left;
		} else if (s) {
			p = flush_span(c, s, p, end, words, false);
		} else {
			gom_refuse_free(*p, "object already free", true);
			p++;
		}
	}
	if (c)
		spin_unlock_irqrestore(&c->lock, flags);
	rcu_read_unlock();
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_flush);

/**
 * gom_mcentral_trim() - give wholly free spans back to the heap
 * @c: the mcentral
 * @keep: free spans to keep
 *
 * Context: any; takes @c->lock with interrupts disabled.
 * Return: spans released.
 */
unsigned long gom_mcentral_trim(struct gom_mcentral *c, unsigned long keep)
{
	struct gom_span *s, *tmp;
	unsigned long flags, n = 0;

	spin_lock_irqsave(&c->lock, flags);
	list_for_each_entry_safe_reverse(s, tmp, &c->partial, list) {
		if (c->nr_empty <= keep)
			break;
		if (s->nfree == s->nobjs) {
			span_release(c, s);
			n++;
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_trim);

/**
 * gom_mcentral_trim_all() - give every wholly free span back to the heaps
 *
 * Context: any.
 * Return: spans released.
 */
unsigned long gom_mcentral_trim_all(void)
{
	unsigned long n = 0;
	unsigned int cls;
	int nid;

	for_each_node(nid)
		for (cls = 1; cls < GOM_NR_CLASSES; cls++)
			n += gom_mcentral_trim(gom_central(nid, cls), 0);
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_trim_all);

/**
 * gom_mcentral_reclaim() - give a node's spare wholly free spans back
 * @nid: the node
 *
 * Every class of @nid keeps its reserve of wholly free spans
 * (empty_spans) and gives the others back to the heap. The growth paths
 * call it before they grow the heap, so that spare spans never cost the
 * page allocator memory.
 *
 * Context: any; takes the node's mcentral locks one at a time.
 * Return: spans released.
 */
unsigned long gom_mcentral_reclaim(int nid)
{
	unsigned long n = 0;
	unsigned int cls;

	/* cleared first: a span kept spare from now on sets it again */
	if (!test_bit(nid, gom_spare_nodes) ||
	    !test_and_clear_bit(nid, gom_spare_nodes))
		return 0;
	for (cls = 1; cls < GOM_NR_CLASSES; cls++)
		n += gom_mcentral_trim(gom_central(nid, cls),
				       READ_ONCE(gom_empty_spans));
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_reclaim);

/**
 * gom_mcentral_spare_pages() - pages of the spare wholly free spans
 *
 * What gom_mcentral_reclaim() of every node would give back, counted at
 * each class's preferred span size: the shrinker reports it as
 * reclaimable, as it is until empty_delay_ms has passed.
 *
 * Context: any; counters are read without a lock.
 * Return: the pages.
 */
unsigned long gom_mcentral_spare_pages(void)
{
	unsigned long n = 0, empty, keep = READ_ONCE(gom_empty_spans);
	unsigned int cls;
	int nid;

	for_each_node(nid) {
		if (!gom_centrals[nid] || !test_bit(nid, gom_spare_nodes))
			continue;
		for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
			empty = READ_ONCE(gom_central(nid, cls)->nr_empty);
			if (empty > keep)
				n += (empty - keep) * gom_classes[cls].npages;
		}
	}
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_spare_pages);

/**
 * gom_mcentral_grow() - make room in a node's heap
 * @nid: the node
 * @order: order of the smallest block that serves the caller
 * @gfp: the caller's allocation context
 *
 * Gives the node's spare spans back to the heap (gom_mcentral_reclaim()),
 * and grows the heap only if there were none: what a small span or a
 * page run that found no room does before it tries again.
 *
 * Context: as gom_mheap_grow(); no gomalloc lock may be held.
 * Return: 0 to try again, or gom_mheap_grow()'s error.
 */
int gom_mcentral_grow(int nid, unsigned int order, gfp_t gfp)
{
	if (gom_mcentral_reclaim(nid))
		return 0;
	return gom_mheap_grow(gom_heaps[nid], order, gfp);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_grow);

/* Spare spans that stayed so for empty_delay_ms go back to the heap. */
static void trim_work(struct work_struct *work)
{
	int nid;

	for_each_node(nid)
		gom_mcentral_reclaim(nid);
}

/**
 * gom_mcentral_trim_stop() - wait for the delayed trim and cancel it
 *
 * Context: process context (module exit), once nothing frees any more.
 */
void gom_mcentral_trim_stop(void)
{
	cancel_delayed_work_sync(&gom_trim_work);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_trim_stop);

/**
 * gom_span_free_objects() - objects free in a span, its owner's cache
 *			     included
 * @s: the span
 *
 * Context: any; a lockless count while @s is owned.
 * Return: the number of free objects.
 */
unsigned long gom_span_free_objects(const struct gom_span *s)
{
	return bitmap_weight(s->free_bits, s->nobjs) +
	       hweight_long(READ_ONCE(s->cache));
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_span_free_objects);

/**
 * gom_object_is_free() - whether an address is an object free in its span
 * @addr: the address
 *
 * Context: any; a lockless hint for error reports.
 * Return: true if @addr is the start of an object free in its span.
 */
bool gom_object_is_free(unsigned long addr)
{
	struct gom_span *s;
	unsigned int idx;
	bool ret;

	rcu_read_lock();
	s = obj_span((void *)addr, &idx);
	ret = s && gom_obj_is_free(s, idx);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_object_is_free);

/**
 * gom_mcentral_inuse() - objects of an mcentral that are not free
 * @c: the mcentral
 *
 * Objects in per-CPU magazines and in owned spans count as not free here;
 * once every CPU is drained, this is what callers still hold.
 *
 * Context: any; lockless snapshot.
 * Return: the number of objects.
 */
unsigned long gom_mcentral_inuse(struct gom_mcentral *c)
{
	long n = READ_ONCE(c->objs_total) - READ_ONCE(c->objs_free);

	return n > 0 ? n : 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_inuse);

/**
 * gom_mcentral_read() - add a class's mcentral counters to a snapshot
 * @cls: size class
 * @st: the snapshot; the fields the mcentrals own are added to
 *
 * Spans owned by mcaches count in @st->spans_owned and objects_total
 * only; gom_mcache_read() adds what is free in them.
 *
 * Context: any context but NMI; counters are read without a lock, the
 * occupancy under each node's mcentral lock in turn.
 */
void gom_mcentral_read(unsigned int cls, struct gom_class_stats *st)
{
	struct gom_mcentral *c;
	int nid;

	for_each_node(nid) {
		if (!gom_centrals[nid])
			continue;
		c = gom_central(nid, cls);
		st->spans_partial += READ_ONCE(c->nr_partial);
		st->spans_full += READ_ONCE(c->nr_full);
		st->spans_owned += READ_ONCE(c->nr_owned);
		st->spans_min += READ_ONCE(c->nr_min);
		st->spans_empty += READ_ONCE(c->nr_empty);
		st->objects_total += READ_ONCE(c->objs_total);
		st->objects_free += READ_ONCE(c->objs_free);
		gom_mcentral_occupancy(c, st->occupancy);
	}
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_read);

/**
 * gom_mcentral_occupancy() - count the listed spans by occupancy
 * @c: the mcentral
 * @occ: GOM_OCC_BUCKETS counters, added to
 *
 * A full span is in the last bucket; each partial span is counted by
 * walking the partial list, as SLUB's count_partial() does, so that
 * frees keep no histogram up to date.
 *
 * Context: any context but NMI; takes @c's lock.
 */
void gom_mcentral_occupancy(struct gom_mcentral *c, unsigned long *occ)
{
	struct gom_span *s;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	occ[GOM_OCC_BUCKETS - 1] += c->nr_full;
	list_for_each_entry(s, &c->partial, list)
		occ[gom_occ_bucket(s->nobjs, s->nfree)]++;
	spin_unlock_irqrestore(&c->lock, flags);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_occupancy);

/**
 * gom_mcentral_span_ages() - ages of a class's spans that no CPU owns
 * @cls: size class
 * @ages: filled with ages in milliseconds
 * @max: room in @ages
 *
 * Context: process context; takes each node's mcentral lock in turn.
 * Return: the number of ages written.
 */
unsigned int gom_mcentral_span_ages(unsigned int cls, u32 *ages,
				    unsigned int max)
{
	unsigned long now = jiffies, flags;
	struct gom_mcentral *c;
	struct gom_span *s;
	unsigned int n = 0;
	int nid;

	for_each_node(nid) {
		if (!gom_centrals[nid])
			continue;
		c = gom_central(nid, cls);
		spin_lock_irqsave(&c->lock, flags);
		list_for_each_entry(s, &c->partial, list)
			if (n < max)
				ages[n++] = gom_span_age(s, now);
		list_for_each_entry(s, &c->full, list)
			if (n < max)
				ages[n++] = gom_span_age(s, now);
		spin_unlock_irqrestore(&c->lock, flags);
	}
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_span_ages);

