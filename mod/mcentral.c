// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc mcentral: level 2, the spans of one size class on one node.
 *
 * Each mcentral keeps the spans of its class in two lists, as Go's does:
 * partial (at least one free object) and full (none). Per-CPU magazines
 * (mcache.c) come here only in batches: a refill pops up to a batch of
 * objects from the partial spans, a flush pushes a batch back. A span whose
 * objects are all free stays at the tail of the partial list while the
 * mcentral keeps fewer than gom_empty_spans such spans, and otherwise goes
 * back to the mheap, which merges its pages with their free neighbours.
 *
 * A span records its free objects in a bitmap in its descriptor, not in the
 * objects themselves: freeing an object that is already free in its span is
 * caught here (and by the free fast path), counted, and refused, and a
 * caller's stray write into a freed object cannot corrupt span state.
 *
 * Locking: gom_mcentral.lock is taken with interrupts already disabled by
 * the caller (refill and flush run inside the magazine's irq-off section)
 * and nests outside gom_mheap.lock. Statistics are read without the lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "internal.h"

/* Wholly free spans an mcentral keeps before giving them to the mheap. */
static unsigned int gom_empty_spans = 1;
module_param_named(empty_spans, gom_empty_spans, uint, 0644);
MODULE_PARM_DESC(empty_spans, "Free spans each size class keeps per node before returning pages to the heap");

struct gom_mcentral *gom_centrals[MAX_NUMNODES];
EXPORT_SYMBOL_GOM_INTERNAL(gom_centrals);

static size_t desc_size(unsigned int cls)
{
	return struct_size((struct gom_span *)NULL, free_bits,
			   BITS_TO_LONGS(gom_classes[cls].nobjs));
}

/* What a descriptor really takes: its kmalloc bucket. */
static size_t desc_bytes(unsigned int cls)
{
	return kmalloc_size_roundup(desc_size(cls));
}

/**
 * gom_span_desc_alloc() - allocate a span descriptor for a class
 * @cls: size class
 * @node: NUMA node to place it on
 * @gfp: the caller's allocation context
 *
 * Descriptors are allocated outside gomalloc's locks and handed to
 * gom_mcentral_refill() as a spare.
 *
 * Context: as kmalloc() with @gfp.
 * Return: the descriptor or NULL.
 */
struct gom_span *gom_span_desc_alloc(unsigned int cls, int node, gfp_t gfp)
{
	struct gom_span *s = kmalloc_node(desc_size(cls), gom_meta_gfp(gfp),
					  node);

	if (s) {
		s->cls = cls;
		atomic_long_add(desc_bytes(cls), &gom_errors.metadata_bytes);
	}
	return s;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_span_desc_alloc);

/**
 * gom_span_desc_free() - free a span descriptor
 * @span: descriptor from gom_span_desc_alloc(), or NULL
 *
 * The descriptor is freed after an RCU grace period: a racing gom_free()
 * of a stale pointer may still be reading it.
 *
 * Context: any.
 */
void gom_span_desc_free(struct gom_span *span)
{
	if (!span)
		return;
	atomic_long_sub(desc_bytes(span->cls), &gom_errors.metadata_bytes);
	kfree_rcu(span, rcu);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_span_desc_free);

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

static unsigned int occ_bucket(struct gom_span *s)
{
	unsigned int nobjs = gom_classes[s->cls].nobjs;
	unsigned int b = (nobjs - s->nfree) * GOM_OCC_BUCKETS / nobjs;

	return min_t(unsigned int, b, GOM_OCC_BUCKETS - 1);
}

static void occ_update(struct gom_mcentral *c, struct gom_span *s)
{
	unsigned int b = occ_bucket(s);

	c->occ[s->occ]--;
	c->occ[b]++;
	s->occ = b;
}

/* Carve a new span out of the heap; consumes *spare. */
static int span_new(struct gom_mcentral *c, struct gom_span **spare)
{
	const struct gom_class *k = &gom_classes[c->cls];
	struct gom_span *s = *spare;
	void *base;

	if (!s)
		return -ENOSPC;
	base = gom_mheap_alloc_run(gom_heaps[c->node], k->npages, s);
	if (!base)
		return -ENOMEM;
	*spare = NULL;
	s->base = (unsigned long)base;
	s->cls = c->cls;
	s->node = c->node;
	s->nfree = k->nobjs;
	s->full = 0;
	s->occ = 0;
	/* bitmap_fill() would also set the bits past the last object. */
	bitmap_zero(s->free_bits, k->nobjs);
	bitmap_set(s->free_bits, 0, k->nobjs);
	list_add_tail(&s->list, &c->partial);
	c->nr_partial++;
	c->nr_empty++;
	c->objs_free += k->nobjs;
	c->occ[0]++;
	return 0;
}

/* Pop up to @want objects of a partial span into @objs. */
static int span_take(struct gom_mcentral *c, struct gom_span *s, void **objs,
		     int want)
{
	const struct gom_class *k = &gom_classes[c->cls];
	unsigned int w, nwords = BITS_TO_LONGS(k->nobjs);
	int got = 0;

	if (s->nfree == k->nobjs)
		c->nr_empty--;
	for (w = 0; w < nwords && got < want; w++) {
		unsigned long bits = s->free_bits[w];

		while (bits && got < want) {
			unsigned long i = w * BITS_PER_LONG + __ffs(bits);

			objs[got++] = (void *)(s->base + i * k->size);
			bits &= bits - 1;
		}
		s->free_bits[w] = bits;
	}
	s->nfree -= got;
	c->objs_free -= got;
	occ_update(c, s);
	if (!s->nfree) {
		list_move(&s->list, &c->full);
		s->full = 1;
		c->nr_partial--;
		c->nr_full++;
	}
	return got;
}

/**
 * gom_mcentral_refill() - pop a batch of free objects
 * @c: the mcentral
 * @objs: array to fill
 * @nr: objects wanted, at least 1
 * @spare: a span descriptor the mcentral may use for a new span; set to
 *	   NULL when consumed
 *
 * Context: interrupts disabled; takes @c->lock and possibly the heap lock.
 * Return: number of objects popped (> 0); -ENOSPC if a new span is needed
 * and *@spare is NULL; -ENOMEM if the heap has no pages for a new span.
 */
int gom_mcentral_refill(struct gom_mcentral *c, void **objs, int nr,
			struct gom_span **spare)
{
	struct gom_span *s;
	int n = 0, ret = 0;

	lockdep_assert_irqs_disabled();
	spin_lock(&c->lock);
	while (n < nr) {
		s = list_first_entry_or_null(&c->partial, struct gom_span, list);
		if (!s) {
			ret = span_new(c, spare);
			if (ret)
				break;
			continue;
		}
		n += span_take(c, s, objs + n, nr - n);
	}
	spin_unlock(&c->lock);
	return n ? n : ret;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_refill);

/* Give a wholly free span back to the heap; called with c->lock held. */
static void span_release(struct gom_mcentral *c, struct gom_span *s)
{
	const struct gom_class *k = &gom_classes[c->cls];

	list_del(&s->list);
	c->nr_partial--;
	c->nr_empty--;
	c->objs_free -= k->nobjs;
	c->occ[s->occ]--;
	gom_mheap_free_run(gom_heaps[c->node], (void *)s->base, k->npages, s);
	gom_span_desc_free(s);
}

/* Return one object to its span; called with c->lock held. */
static void span_put(struct gom_mcentral *c, struct gom_span *s, void *obj)
{
	const struct gom_class *k = &gom_classes[c->cls];
	unsigned long off = (unsigned long)obj - s->base;
	unsigned int idx = (off * k->divmul) >> 32;

	if (idx >= k->nobjs || idx * k->size != off) {
		gom_refuse_free(obj, "not the start of an object", false);
		return;
	}
	if (__test_and_set_bit(idx, s->free_bits)) {
		gom_refuse_free(obj, "object already free in its span", true);
		return;
	}
	s->nfree++;
	c->objs_free++;
	occ_update(c, s);
	if (s->full) {
		s->full = 0;
		list_move(&s->list, &c->partial);
		c->nr_full--;
		c->nr_partial++;
	}
	if (s->nfree < k->nobjs)
		return;
	c->nr_empty++;
	if (c->nr_empty > READ_ONCE(gom_empty_spans))
		span_release(c, s);
	else
		list_move_tail(&s->list, &c->partial);
}

/* The span of a small object of class @cls, or NULL; lockless. */
static struct gom_span *obj_span(void *obj, unsigned int cls)
{
	unsigned long addr = (unsigned long)obj, entry;
	struct gom_arena *a = __gom_arena_lookup(addr);

	entry = a ? __gom_map_entry(a, addr) : 0;
	if (!entry || (entry & GOM_MAP_TAGS) ||
	    ((struct gom_span *)entry)->cls != cls)
		return NULL;
	return (struct gom_span *)entry;
}

/**
 * gom_mcentral_flush() - return a batch of objects to their spans
 * @cls: size class of every object in @objs
 * @objs: objects, validated as gomalloc objects of @cls when freed
 * @nr: number of objects
 *
 * Objects may come from spans of different nodes; each goes to the
 * mcentral of its span's node. The span is looked up again under that
 * mcentral's lock: the second copy of an object freed twice while in a
 * magazine may find its span gone, or its pages serving another span, and
 * is then refused as a double free.
 *
 * Context: interrupts disabled; takes mcentral locks one at a time.
 */
void gom_mcentral_flush(unsigned int cls, void **objs, int nr)
{
	struct gom_mcentral *c = NULL;
	struct gom_span *s;
	int i;

	lockdep_assert_irqs_disabled();
	for (i = 0; i < nr; i++) {
		s = obj_span(objs[i], cls);
		/* A span of c's node cannot change while c->lock is held. */
		if (s && (!c || c->node != s->node)) {
			if (c)
				spin_unlock(&c->lock);
			c = gom_central(s->node, cls);
			spin_lock(&c->lock);
			if (s != obj_span(objs[i], cls))
				s = NULL;
		}
		if (!s) {
			gom_refuse_free(objs[i], "object already free", true);
			continue;
		}
		span_put(c, s, objs[i]);
	}
	if (c)
		spin_unlock(&c->lock);
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
	unsigned int nobjs = gom_classes[c->cls].nobjs;
	struct gom_span *s, *tmp;
	unsigned long flags, n = 0;

	spin_lock_irqsave(&c->lock, flags);
	list_for_each_entry_safe_reverse(s, tmp, &c->partial, list) {
		if (c->nr_empty <= keep)
			break;
		if (s->nfree == nobjs) {
			span_release(c, s);
			n++;
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_trim);

/**
 * gom_object_free() - whether an object start is free in its span
 * @span: the span holding @addr
 * @addr: an address in the span
 *
 * Context: any; a lockless hint for error reports.
 * Return: true if @addr is the start of an object free in @span.
 */
bool gom_object_free(struct gom_span *span, unsigned long addr)
{
	const struct gom_class *k = &gom_classes[span->cls];
	unsigned long off = addr - span->base;
	unsigned int idx = (off * k->divmul) >> 32;

	return idx < k->nobjs && idx * k->size == off &&
	       test_bit(idx, span->free_bits);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_object_free);

/**
 * gom_mcentral_inuse() - objects of the mcentral not free in its spans
 * @c: the mcentral
 *
 * Objects in per-CPU magazines count as not free here.
 *
 * Context: any; lockless snapshot.
 * Return: the number of objects.
 */
unsigned long gom_mcentral_inuse(struct gom_mcentral *c)
{
	unsigned long spans = READ_ONCE(c->nr_partial) + READ_ONCE(c->nr_full);

	return spans * gom_classes[c->cls].nobjs - READ_ONCE(c->objs_free);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcentral_inuse);
