// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc mcache: level 2 front end, the caches of each CPU.
 *
 * As Go's mcache holds one span per size class for its P, each CPU owns
 * one span per class (struct gom_mag.span) and allocates from it without
 * a lock: the span's next free objects sit in a 64-bit word claimed from
 * its bitmap (Go's allocCache), and the next object is the word's lowest
 * set bit. When the word is used up the CPU claims the next one; when the
 * span is used up, gom_mcache_refill() gives it back to the mcentral and
 * takes a partial span in the same lock round trip.
 *
 * Frees go to a per-CPU magazine of the object's class, which allocation
 * uses first (LIFO, so the object is still in the cache) and which, when
 * full, goes back whole to the objects' spans in one batch. The free of
 * the object the CPU handed out last (its memo, struct gom_memo) only
 * raises the magazine's count again. A
 * free of another node's object goes straight back to its span, so a
 * CPU's caches only hold memory of its node.
 *
 * The fast paths (mcache.h) run in the CPU's section: preemption disabled
 * and a busy flag, no interrupt disabling and no atomic instruction. Every
 * slow path here leaves the section before it takes a lock or grows the
 * heap, so it is correct on PREEMPT_RT, where spinlock_t sleeps. An
 * interrupt that finds the section busy (gom_mc_trylock() fails)
 * allocates and frees through the mcentral directly. On PREEMPT_RT the
 * slow paths need a context where spinlock_t may be taken, as kmalloc()
 * does there: no hard interrupt, no raw spinlock held.
 *
 * Draining a CPU's caches (CPU hotplug, gom_shrink_all(), the shrinker)
 * runs in task context: on the CPU itself from a work item, or on any CPU
 * once the CPU is dead. Nothing is drained from an IPI.
 *
 * Locking: the section is the only protection of a CPU's caches. It nests
 * outside nothing and takes no lock; gom_drain_mutex serialises drains.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "mcache.h"

DEFINE_PER_CPU(struct gom_mcache *, gom_mcache_pcpu);
EXPORT_PER_CPU_SYMBOL_GPL(gom_mcache_pcpu);

DEFINE_STATIC_KEY_FALSE(gom_numa_key);

/* Where each class's magazine is in a CPU's caches; set at load. */
u16 gom_mag_offs[GOM_NR_CLASSES] __read_mostly;
EXPORT_SYMBOL_GOM_INTERNAL(gom_mag_offs);
u16 gom_small_mag_offs[GOM_DIRECT_MAX >> GOM_SMALL_STEP_SHIFT] __read_mostly;
EXPORT_SYMBOL_GOM_INTERNAL(gom_small_mag_offs);
static size_t gom_mcache_bytes __read_mostly;

static struct workqueue_struct *gom_drain_wq;
static DEFINE_PER_CPU(struct work_struct, gom_drain_work);
static DEFINE_MUTEX(gom_drain_mutex);

#ifdef CONFIG_DEBUG_LOCK_ALLOC
static struct lock_class_key gom_mc_key;
#endif

/* Objects moved per step of a drain: one stack array's worth. */
#define GOM_DRAIN_BATCH		32

/* Whether this context may take a spinlock_t (always, but on RT). */
static bool can_lock(void)
{
	return !IS_ENABLED(CONFIG_PREEMPT_RT) || preemptible();
}

/* Allocation by an interrupt that found its CPU's section busy. */
static void *alloc_direct(unsigned int cls, gfp_t gfp, int node)
{
	if (!can_lock()) {
		pr_warn_ratelimited("allocation from hard IRQ or raw spinlock context on PREEMPT_RT\n");
		return ERR_PTR(-EPERM);
	}
	return gom_mcentral_alloc(gom_central(gom_heap_node(node), cls), gfp);
}

/**
 * gom_mcache_alloc_nested() - allocate without this CPU's caches
 * @cls: size class
 * @gfp: the caller's allocation context
 * @node: the node to allocate on, NUMA_NO_NODE for the local one
 *
 * For a caller that interrupted this CPU's section, or that wants another
 * node's memory.
 *
 * Context: any context where kmalloc(@gfp) is allowed.
 * Return: the object, or an ERR_PTR().
 */
void *gom_mcache_alloc_nested(unsigned int cls, gfp_t gfp, int node)
{
	void *obj = alloc_direct(cls, gfp, node);
	struct gom_mcache *mc;

	/* counted on this CPU, unless it interrupted its section */
	if (!IS_ERR(obj) && gom_mc_trylock(&mc)) {
		gom_mc_mag(mc, cls)->allocs++;
		gom_mc_unlock(mc);
	}
	return obj;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_alloc_nested);

/* The next object of an owned span, claiming a word if needed; section. */
static void *span_next(struct gom_span *s)
{
	if (!s || (!s->cache && !gom_span_claim(s)))
		return NULL;
	return gom_span_pop(s, s->cache);
}

/* Install @s as the CPU's span of @cls, if the slot is still free. */
static struct gom_span *install(struct gom_mcache *mc, unsigned int cls,
				struct gom_span *s)
{
	struct gom_mag *m = gom_mc_mag(mc, cls);

	if (m->span || s->node != mc->node)
		return s;
	m->span = s;
	m->refills++;
	return NULL;
}

/**
 * gom_mcache_refill() - allocate when the magazine and the span's claimed
 *			 word are empty
 * @cls: size class
 * @gfp: the caller's allocation context
 *
 * Claims the next word of the CPU's span, or swaps the used-up span for a
 * partial one from the mcentral (outside the section: the mcentral may
 * grow the heap and sleep if @gfp allows).
 *
 * Context: any context where kmalloc(@gfp) is allowed.
 * Return: the object, or an ERR_PTR() as gom_mcentral_cache_span().
 */
void *gom_mcache_refill(unsigned int cls, gfp_t gfp)
{
	struct gom_span *old, *s;
	struct gom_mcache *mc;
	struct gom_mag *m;
	void *obj;
	int node;

	if (!gom_mc_trylock_mags(&mc))
		return alloc_direct(cls, gfp, NUMA_NO_NODE);
	m = gom_mc_mag(mc, cls);
	obj = span_next(m->span);
	if (obj) {
		m->allocs++;
		gom_mc_unlock(mc);
		return obj;
	}
	if (!can_lock()) {
		/* PREEMPT_RT and no spinlock_t here: keep the span, refuse */
		gom_mc_unlock(mc);
		return alloc_direct(cls, gfp, NUMA_NO_NODE);
	}
	old = m->span;
	m->span = NULL;
	node = mc->node;
	gom_mc_unlock(mc);
	s = gom_mcentral_cache_span(gom_central(node, cls), old, gfp);
	if (IS_ERR(s))
		return s;
	/* The CPU may differ now; the span is ours alone until installed. */
	obj = span_next(s);
	if (gom_mc_trylock_mags(&mc)) {
		gom_mc_mag(mc, cls)->allocs++;
		s = install(mc, cls, s);
		gom_mc_unlock(mc);
	}
	if (s)
		gom_mcentral_uncache(s);
	return obj;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_refill);

/*
 * Empty the full magazine @m into @out and return how many objects that
 * was; section. A full magazine goes back whole, as Bonwick's magazine
 * layer exchanges a full magazine and SLUB a full sheaf: one flush per
 * capacity's worth of frees, and no objects to move down. The owned
 * span's claimed word serves the allocations until frees fill it again.
 */
static unsigned int mag_take_all(struct gom_mag *m, void **out)
{
	unsigned int n = m->count;

	gom_move_ptrs(out, m->objs, n);
	m->count = 0;
	m->flushes++;
	return n;
}

/**
 * gom_mcache_free_slow() - free a small object the fast path could not
 * @ptr: the pointer
 *
 * Handles a full magazine (it goes back to the spans after the section),
 * another node's object, init_on_free, an interrupted
 * section, and an object already in a magazine (refused).
 *
 * Context: any context where kfree() is allowed.
 * Return: true if @ptr was a small object of gomalloc's (freed or refused
 * as a double free), false if it is anything else.
 */
bool gom_mcache_free_slow(const void *ptr)
{
	void *out[GOM_MAG_MAX] __uninitialized;
	void *obj = (void *)ptr;
	struct gom_mcache *mc;
	struct gom_span *s;
	unsigned int n = 0;
	struct gom_mag *m;

	/* a page map reader: preemption off makes it an RCU one (pagemap.c) */
	preempt_disable();
	if (!gom_obj_span(ptr, &s)) {
		preempt_enable();
		return false;
	}
	if (gom_obj_marked(obj)) {
		preempt_enable();
		gom_refuse_free(ptr, "object already free", true);
		return true;
	}
	preempt_enable();	/* @obj is live: its span stays */
	if (gom_obj_may_sample(s, (unsigned long)obj))
		gom_profile_free(obj);
	if (want_init_on_free())
		gom_clear_on_free(obj, s->size);
	gom_hook_free(obj, s->size);
	gom_obj_mark(obj);
	if (!gom_mc_trylock_mags(&mc))
		mc = NULL;
	if (mc && gom_numa_remote(mc, s)) {
		gom_mc_mag(mc, s->cls)->frees++;
		gom_mc_unlock(mc);
		mc = NULL;
	}
	if (!mc) {
		gom_mcentral_flush(&obj, 1);
		return true;
	}
	m = gom_mc_mag(mc, s->cls);
	if (m->count == m->cap)
		n = mag_take_all(m, out);
	m->objs[m->count++] = obj;
	m->frees++;
	gom_mc_unlock(mc);
	if (n)
		gom_mcentral_flush(out, n);
	return true;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_free_slow);

/*
 * Hand out @n objects of @objs into @ptrs, clearing their marks. The
 * magazine's top @n objects go in the order they were freed: as warm in
 * the cache as last in, first out would hand them out.
 */
static __always_inline void mag_hand_out(void **objs, void **ptrs, size_t n)
{
	size_t i;
	void *p;

	for (i = 0; i < n; i++) {
		p = objs[i];
		ptrs[i] = p;
		gom_obj_unmark(p);
	}
}

/*
 * Fill @ptrs with up to @nr objects of the claimed word @c of @s, whose
 * objects are free from its lowest set bit up: one after another, without
 * a bit search each. Returns how many; the word's bits left are in
 * s->cache.
 */
static __always_inline size_t take_run(struct gom_span *s, unsigned long c,
				       void **ptrs, size_t nr)
{
	const unsigned int size = s->size, j = __ffs(c);
	size_t k = min_t(size_t, BITS_PER_LONG - j, nr), i;
	unsigned long p = s->cache_base + j * size;

	for (i = 0; i < k; i++, p += size) {
		ptrs[i] = (void *)p;
		gom_obj_unmark((void *)p);
	}
	WRITE_ONCE(s->cache, j + k < BITS_PER_LONG ? c << k : 0);
	return k;
}

/* Fill @ptrs from the claimed words of the owned span @s. */
static size_t take_words(struct gom_span *s, void **ptrs, size_t nr)
{
	const unsigned int size = s->size;
	unsigned long c, base;
	size_t i = 0;
	void *p;

	while (i < nr && (s->cache || gom_span_claim(s))) {
		c = s->cache;
		/* free from its lowest set bit to the top: a run */
		if ((c | (c - 1)) == ~0UL) {
			i += take_run(s, c, ptrs + i, nr - i);
			continue;
		}
		base = s->cache_base;
		for (; c && i < nr; c &= c - 1) {
			p = (void *)(base + __ffs(c) * size);
			ptrs[i++] = p;
			gom_obj_unmark(p);
		}
		WRITE_ONCE(s->cache, c);
	}
	return i;
}

/* Fill @ptrs from the top of magazine @m. */
static __always_inline size_t take_mag(struct gom_mag *m, void **ptrs,
				       size_t nr)
{
	size_t n = min_t(size_t, m->count, nr);

	m->count -= n;
	mag_hand_out(m->objs + m->count, ptrs, n);
	return n;
}

/*
 * Fill @ptrs from the magazine, then the owned span a word at a time.
 * When the last bulk free of the class found its objects spread over
 * spans (struct gom_mcache.spread), they come from the owned span alone, and
 * from a new one when it is used up (alloc_bulk_slow()): objects that
 * share spans make a cheap bulk free, which puts them on top of the
 * magazine, where the next bulk allocation takes them.
 */
static __always_inline size_t take_bulk(struct gom_mcache *mc,
					unsigned int cls, void **ptrs,
					size_t nr)
{
	struct gom_mag *m = gom_mc_mag(mc, cls);
	size_t i;

	if (unlikely(test_bit(cls, mc->spread))) {
		i = m->span ? take_words(m->span, ptrs, nr) : 0;
	} else {
		i = take_mag(m, ptrs, nr);
		if (unlikely(i < nr) && m->span)
			i += take_words(m->span, ptrs + i, nr - i);
	}
	m->allocs += i;
	return i;
}

/*
 * The heap profile's countdown for @bytes allocated in the section, as
 * gom_mc_sample() for one object: 0 when no sample is due. Else 1, and
 * the count is left for gom_profile_tick_bulk(), which finds the object
 * that is the sample; a count above LONG_MAX / 2 (waiting to be rearmed,
 * or profiling off) is left to it by the same unsigned comparison.
 */
static __always_inline int bulk_countdown(struct gom_mcache *mc,
					  size_t bytes)
{
	unsigned long left = mc->sample_left - bytes;

	if (unlikely(left > LONG_MAX / 2))
		return 1;
	mc->sample_left = left;
	return 0;
}

/* Give back what a failed bulk allocation took. */
static void release_bulk(size_t nr, void **ptrs)
{
	size_t i;

	for (i = 0; i < nr; i++)
		gom_obj_mark(ptrs[i]);
	gom_mcentral_flush(ptrs, nr);
}

/*
 * No new span for a bulk allocation: take what the magazine holds after
 * all, which a spread class passed over. True if that filled @ptrs.
 */
static bool take_spared(unsigned int cls, size_t nr, void **ptrs,
			size_t *done)
{
	struct gom_mcache *mc;

	if (!gom_mc_trylock_mags(&mc))
		return false;
	__clear_bit(cls, mc->spread);
	*done += take_bulk(mc, cls, ptrs + *done, nr - *done);
	gom_mc_unlock(mc);
	return *done == nr;
}

/* gom_mcache_alloc_bulk() once the section could not fill @ptrs. */
static noinline int alloc_bulk_slow(unsigned int cls, gfp_t gfp, size_t nr,
				    void **ptrs, size_t done)
{
	struct gom_mcache *mc;
	void *obj;

	might_alloc(gfp);
	while (done < nr) {
		obj = gom_mcache_refill(cls, gfp);
		if (IS_ERR(obj)) {
			if (take_spared(cls, nr, ptrs, &done))
				return 1;
			release_bulk(done, ptrs);
			return PTR_ERR(obj);
		}
		gom_obj_unmark(obj);
		ptrs[done++] = obj;
		if (done < nr && gom_mc_trylock_mags(&mc)) {
			done += take_bulk(mc, cls, ptrs + done, nr - done);
			gom_mc_unlock(mc);
		}
	}
	return 1;
}

/**
 * gom_mcache_alloc_bulk() - allocate many objects of one class
 * @cls: size class
 * @size: bytes asked for each, counted down to the next profile sample
 * @gfp: the caller's allocation context
 * @nr: objects wanted
 * @ptrs: array of @nr pointers to fill
 *
 * Context: any context where kmalloc(@gfp) is allowed.
 * Return: 0 with @nr objects in @ptrs and the heap profile's countdown
 * done; 1 with them and the countdown left to gom_profile_tick_bulk(); or
 * a negative errno with none.
 */
int gom_mcache_alloc_bulk(unsigned int cls, size_t size, gfp_t gfp,
			  size_t nr, void **ptrs)
{
	struct gom_mcache *mc;
	size_t done = 0;
	int ret = 1;

	if (likely(gom_mc_trylock_mags(&mc))) {
		done = take_bulk(mc, cls, ptrs, nr);
		if (likely(done == nr))
			ret = bulk_countdown(mc, nr * size);
		gom_mc_unlock(mc);
		if (likely(done == nr))
			return ret;
	}
	return alloc_bulk_slow(cls, gfp, nr, ptrs, done);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_alloc_bulk);

/*
 * struct bulk_free - push_bulk()'s state
 * @base, @inv, @shift, @nobjs, @size: the span of the last object freed,
 *	read once (the stores to the objects could alias it); @nobjs is 0
 *	before the first, so that it is looked up
 * @m: the magazine of that span's class, NULL before the first object
 * @cls: that class
 * @n0: its count when it became @m, for its frees count
 * @hops: how many times an object was not in the span of the one before,
 *	  @hops0 when @m became the magazine
 * @local: its objects may go to @m (not another node's)
 * @to_mag: @dst is in @m
 * @ptrs: the caller's array, whose front takes the objects for their spans
 * @nf: how many it has, @nf0 when @m became the magazine
 * @dst: where the next object goes: @m's next slot or the front of @ptrs
 * @stop: where the objects for @dst end: at the last pointer, or where
 *	  @m would be full
 * @end: the last pointer + 1
 */
struct bulk_free {
	unsigned long base, nobjs;
	u64 inv;
	unsigned int size;
	u8 shift;
	bool local, to_mag;
	struct gom_mag *m;
	unsigned int cls, n0;
	unsigned int hops, hops0;
	void **ptrs;
	size_t nf, nf0;
	void **dst, **stop, **end;
};

/* Take the count of @b's destination back from @b->dst. */
static __always_inline void bulk_park(struct bulk_free *b)
{
	if (!b->m)
		return;
	if (b->to_mag)
		b->m->count = b->dst - b->m->objs;
	else
		b->nf = b->dst - b->ptrs;
}

/* Point @b->dst at @b->m's free slots if it has some, else at ptrs. */
static __always_inline void bulk_aim(struct bulk_free *b, void **p)
{
	struct gom_mag *m = b->m;

	b->to_mag = b->local && m->count < m->cap;
	if (b->to_mag) {
		b->dst = m->objs + m->count;
		b->stop = p + min_t(size_t, b->end - p, m->cap - m->count);
	} else {
		b->dst = b->ptrs + b->nf;
		b->stop = b->end;
	}
}

/*
 * Count the frees of @b's magazine, and note for take_bulk() whether more
 * than a quarter of them met a new span (the first always does; a few
 * more are allowed for small counts). If so, the objects it took go to
 * their spans instead, as SLUB's bulk free puts objects back in their
 * slabs: on top of the magazine they would spread the next bulk
 * allocation too.
 */
static __always_inline void bulk_count(struct gom_mcache *mc,
				       struct bulk_free *b)
{
	struct gom_mag *m = b->m;
	unsigned int k = m->count - b->n0, n = k + b->nf - b->nf0;
	bool spread = 4 * (b->hops - b->hops0) > n + 4;

	m->frees += n;
	__assign_bit(b->cls, mc->spread, spread);
	if (unlikely(spread) && k) {
		m->count = b->n0;
		gom_move_ptrs(b->ptrs + b->nf, m->objs + b->n0, k);
		b->nf += k;
	}
}

/* Read the index arithmetic of @s, the span of @b's next objects. */
static __always_inline void bulk_span(struct bulk_free *b, struct gom_span *s)
{
	b->base = s->base;
	b->inv = s->inv;
	b->shift = s->shift;
	b->nobjs = s->nobjs;
	b->size = s->size;
}

/*
 * @s holds samples: its object at @a stays here only if it cannot be one
 * (gom_obj_may_sample()), and then @b's arithmetic is narrowed to that
 * object alone, so that the next of @s is looked at too. False to leave
 * @a for gom_free(), which finds it in the profile (read without a lock:
 * a sample was recorded before the caller had its object).
 */
static __always_inline bool bulk_narrow(struct bulk_free *b,
					struct gom_span *s, unsigned long a)
{
	if (gom_index64(b->base, b->inv, b->shift, a) >= b->nobjs)
		return true;	/* not an object: push_run() stops there */
	if (gom_obj_may_sample(s, a))
		return false;
	b->base = a;
	b->nobjs = 1;
	b->hops--;	/* about: the lookups inside @s are no hops */
	return true;
}

/*
 * Make @s the span of @b, at pointer @p, switching to the magazine of its
 * class. False to stop at @p: a span with samples, see bulk_narrow().
 */
static __always_inline bool bulk_enter(struct gom_mcache *mc,
				       struct bulk_free *b, struct gom_span *s,
				       void **p)
{
	struct gom_mag *m = gom_mc_mag(mc, s->cls);
	/* another node's objects go straight to their span */
	bool local = !gom_numa_remote(mc, s);

	if (m != b->m || local != b->local) {
		bulk_park(b);
		if (m != b->m) {
			if (b->m)
				bulk_count(mc, b);
			b->m = m;
			b->cls = s->cls;
			b->n0 = m->count;
			b->nf0 = b->nf;
			b->hops0 = b->hops;
		}
		b->local = local;
		bulk_aim(b, p);
	}
	bulk_span(b, s);
	if (unlikely(READ_ONCE(s->nsampled)))
		return bulk_narrow(b, s, (unsigned long)*p);
	return true;
}

/*
 * Whether @s's objects go where those of @b's span go: its gom_span.mag_off
 * leads to @b->m, so it is of that class and holds no live sample (a
 * sampled span's leads to class 0's), and it is of the same locality.
 */
static __always_inline bool bulk_same(struct gom_mcache *mc,
				      struct bulk_free *b, struct gom_span *s)
{
	if ((void *)mc + READ_ONCE(s->mag_off) != (void *)b->m)
		return false;
	return !static_branch_unlikely(&gom_numa_key) ||
	       gom_numa_remote(mc, s) != b->local;
}

/*
 * push_bulk() with @init, want_init_on_free(), a constant. Each object is
 * checked against the span of the one before (the 64-bit object index,
 * gom_index64(), is below the object count only for the start of one of
 * its objects), and the page map is looked at only when that fails.
 */
static __always_inline size_t push_run(struct gom_mcache *mc, size_t nr,
				       void **ptrs, size_t *nflush, bool init)
{
	const unsigned long key = gom_free_key;
	struct gom_pm_root *root = READ_ONCE(gom_pm);
	struct bulk_free b = { .ptrs = ptrs, .end = ptrs + nr };
	struct gom_span *s;
	unsigned long a, e;
	void **p;

	b.stop = b.end;
	for (p = ptrs; ; p++) {
		if (p == b.stop) {
			if (p == b.end)
				break;
			/* the magazine is full: the rest go to their spans */
			bulk_park(&b);
			bulk_aim(&b, p);
		}
		a = (unsigned long)*p;
		if (gom_index64(b.base, b.inv, b.shift, a) >= b.nobjs) {
			/* NULL is outside the map: the caller frees it alone */
			e = gom_pm_get_in(root, gom_addr_pfn(a));
			if (!gom_pm_is_span(e))
				break;
			s = (struct gom_span *)e;
			/* another span of the same magazine: its arithmetic */
			if (likely(bulk_same(mc, &b, s)))
				bulk_span(&b, s);
			else if (!bulk_enter(mc, &b, s, p))
				break;
			b.hops++;
			if (gom_index64(b.base, b.inv, b.shift, a) >= b.nobjs)
				break;
		}
		/* marked: a double free */
		if (gom_obj_word((void *)a) == (key ^ a))
			break;
		if (init)
			gom_clear_on_free((void *)a, b.size);
		gom_hook_free((void *)a, b.size);
		gom_obj_set_word((void *)a, key ^ a);
		*b.dst++ = (void *)a;
	}
	if (b.m) {
		bulk_park(&b);
		bulk_count(mc, &b);
	}
	*nflush = b.nf;
	return p - ptrs;
}

/*
 * Mark @ptrs free and push what fits to the magazines; the objects that
 * must go straight to their spans are moved to the front of @ptrs, their
 * number in *@nflush. Returns the index of the first pointer that is not
 * a small object of gomalloc's waiting to be freed, or @nr.
 */
static size_t push_bulk(struct gom_mcache *mc, size_t nr, void **ptrs,
			size_t *nflush)
{
	if (want_init_on_free())
		return push_run(mc, nr, ptrs, nflush, true);
	return push_run(mc, nr, ptrs, nflush, false);
}

/**
 * gom_mcache_free_bulk() - free many small objects
 * @nr: number of pointers
 * @ptrs: the pointers; the array is used as scratch space
 *
 * Objects go to the magazine while it has room, the rest straight to
 * their spans, a bitmap word at a time; all of a class's go to their
 * spans when more than a quarter of them meet a new span. Stops at the
 * first pointer that is not a small object waiting to be freed (NULL, a
 * large run, a foreign pointer, a double free), for the caller to free
 * alone.
 *
 * Context: any context where kfree() is allowed.
 * Return: the number of pointers consumed from @ptrs.
 */
size_t gom_mcache_free_bulk(size_t nr, void **ptrs)
{
	struct gom_mcache *mc;
	size_t done, n = 0;

	if (!gom_mc_trylock_mags(&mc))
		return 0;
	done = push_bulk(mc, nr, ptrs, &n);
	gom_mc_unlock(mc);
	if (n)
		gom_mcentral_flush(ptrs, n);
	return done;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_free_bulk);

/* Take up to a batch of objects and the span of @cls out of @mc. */
static unsigned int drain_step(struct gom_mcache *mc, unsigned int cls,
			       void **out, struct gom_span **span)
{
	struct gom_mag *m = gom_mc_mag(mc, cls);
	unsigned int n = min_t(unsigned int, m->count, GOM_DRAIN_BATCH);

	m->count -= n;
	memcpy(out, m->objs + m->count, n * sizeof(void *));
	*span = m->span;
	m->span = NULL;
	return n;
}

/* Empty @mc, which the caller keeps from being used otherwise. */
static void drain_mcache(struct gom_mcache *mc, bool local)
{
	struct gom_span *span;
	void *out[GOM_DRAIN_BATCH];
	unsigned int cls, n;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		do {
			if (local && !gom_mc_trylock_mags(&mc))
				return;	/* cannot happen from task context */
			n = drain_step(mc, cls, out, &span);
			if (local)
				gom_mc_unlock(mc);
			gom_mcentral_flush(out, n);
			if (span)
				gom_mcentral_uncache(span);
		} while (n);
	}
	gom_runcache_drain(mc, local);
}

/**
 * gom_mcache_drain_cpu() - empty the caches of a dead CPU
 * @cpu: a CPU that is offline
 *
 * Context: task context (CPU hotplug teardown), @cpu dead.
 */
void gom_mcache_drain_cpu(unsigned int cpu)
{
	WRITE_ONCE(gom_mcache_of(cpu)->memo.mark, 0);
	drain_mcache(gom_mcache_of(cpu), false);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_drain_cpu);

static void drain_work(struct work_struct *work)
{
	drain_mcache(this_cpu_read(gom_mcache_pcpu), true);
}

/**
 * gom_mcache_drain_local() - empty this CPU's caches
 *
 * A task is kept on its CPU for the drain; an interrupt cannot move, and
 * must not change the migration state of the task it interrupted.
 *
 * Context: any context where spinlock_t may be taken, outside this CPU's
 * section; does nothing in an interrupt that found the section busy.
 */
void gom_mcache_drain_local(void)
{
	bool task = in_task();

	if (task)
		migrate_disable();
	drain_mcache(this_cpu_read(gom_mcache_pcpu), true);
	if (task)
		migrate_enable();
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_drain_local);

/**
 * gom_mcache_drain_all() - empty every CPU's caches
 *
 * Each online CPU drains its own caches from a work item (a workqueue
 * with a rescuer, so this works under memory pressure); offline CPUs
 * were drained when they died.
 *
 * Context: process context; sleeps.
 */
void gom_mcache_drain_all(void)
{
	unsigned int cpu;

	mutex_lock(&gom_drain_mutex);
	cpus_read_lock();
	for_each_online_cpu(cpu)
		queue_work_on(cpu, gom_drain_wq, per_cpu_ptr(&gom_drain_work, cpu));
	for_each_online_cpu(cpu)
		flush_work(per_cpu_ptr(&gom_drain_work, cpu));
	cpus_read_unlock();
	mutex_unlock(&gom_drain_mutex);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_drain_all);

/**
 * gom_mcache_stat() - one magazine counter of one CPU
 * @cpu: a possible CPU
 * @cls: size class
 * @item: the counter
 *
 * Context: any; a lockless read.
 * Return: the counter's value.
 */
unsigned long gom_mcache_stat(unsigned int cpu, unsigned int cls,
			      enum gom_mag_stat item)
{
	const struct gom_mag *m = gom_mc_mag(gom_mcache_of(cpu), cls);

	switch (item) {
	case MAG_CACHED:
		return READ_ONCE(m->count);
	case MAG_ALLOCS:
		return READ_ONCE(m->allocs);
	case MAG_FREES:
		return READ_ONCE(m->frees);
	case MAG_REFILLS:
		return READ_ONCE(m->refills);
	case MAG_FLUSHES:
		return READ_ONCE(m->flushes);
	}
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_stat);

/* Add the owned span of @m to @st: its free objects and occupancy. */
static void add_owned(struct gom_class_stats *st, const struct gom_mag *m)
{
	struct gom_span *s;
	unsigned long nfree;

	rcu_read_lock();
	s = READ_ONCE(m->span);
	if (s) {
		nfree = min_t(unsigned long, gom_span_free_objects(s), s->nobjs);
		st->objects_free += nfree;
		st->occupancy[gom_occ_bucket(s->nobjs, nfree)]++;
	}
	rcu_read_unlock();
}

/**
 * gom_mcache_read() - add a class's per-CPU counters to a snapshot
 * @cls: size class
 * @st: the snapshot; magazine counters and owned spans are added
 *
 * Context: any; takes no lock, disables nothing.
 */
void gom_mcache_read(unsigned int cls, struct gom_class_stats *st)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		st->objects_cached += gom_mcache_stat(cpu, cls, MAG_CACHED);
		st->allocs += gom_mcache_stat(cpu, cls, MAG_ALLOCS);
		st->frees += gom_mcache_stat(cpu, cls, MAG_FREES);
		st->refills += gom_mcache_stat(cpu, cls, MAG_REFILLS);
		st->flushes += gom_mcache_stat(cpu, cls, MAG_FLUSHES);
		add_owned(st, gom_mc_mag(gom_mcache_of(cpu), cls));
	}
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_read);

/**
 * gom_mcache_span_ages() - ages of the spans the CPUs own of a class
 * @cls: size class
 * @ages: filled with ages in milliseconds
 * @max: room in @ages
 *
 * Context: any; a lockless snapshot.
 * Return: the number of ages written.
 */
unsigned int gom_mcache_span_ages(unsigned int cls, u32 *ages,
				  unsigned int max)
{
	unsigned long now = jiffies;
	unsigned int cpu, n = 0;
	struct gom_span *s;

	rcu_read_lock();
	for_each_possible_cpu(cpu) {
		s = READ_ONCE(gom_mc_mag(gom_mcache_of(cpu), cls)->span);
		if (s && n < max)
			ages[n++] = gom_span_age(s, now);
	}
	rcu_read_unlock();
	return n;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_span_ages);

/* Every magazine's offset, even at GOM_MAG_MAX objects each, is a u16. */
static_assert(sizeof(struct gom_mcache) + SMP_CACHE_BYTES +
	      GOM_NR_CLASSES * (sizeof(struct gom_mag) +
				GOM_MAG_MAX * sizeof(void *)) <= U16_MAX);

/*
 * Place the magazines after struct gom_mcache, each 8-byte aligned and
 * as big as its capacity; the size-to-magazine table follows.
 */
static void layout(void)
{
	size_t off = ALIGN(sizeof(struct gom_mcache), SMP_CACHE_BYTES);
	unsigned int cls, i;

	for (cls = 0; cls < GOM_NR_CLASSES; cls++) {
		gom_mag_offs[cls] = off;
		off += struct_size_t(struct gom_mag, objs,
				     gom_classes[cls].mag_cap);
	}
	for (i = 0; i < ARRAY_SIZE(gom_small_mag_offs); i++)
		gom_small_mag_offs[i] =
			gom_mag_off(gom_size_class((i << GOM_SMALL_STEP_SHIFT) + 1));
	gom_mcache_bytes = PAGE_ALIGN(off);
}

/*
 * Whole pages of @nid, zeroed, which kmalloc() would round up to the
 * next power of two: alloc_pages_exact_nid(), which modules cannot call.
 */
static void *pages_exact_node(int nid, size_t bytes)
{
	unsigned int order = get_order(bytes), i;
	struct page *page;

	page = alloc_pages_node(nid, GFP_KERNEL | __GFP_ZERO, order);
	if (!page)
		return NULL;
	split_page(page, order);
	for (i = PAGE_ALIGN(bytes) >> PAGE_SHIFT; i < 1U << order; i++)
		__free_page(page + i);
	return page_address(page);
}

static struct gom_mcache *mcache_new(unsigned int cpu)
{
	struct gom_mcache *mc;
	unsigned int cls;

	mc = pages_exact_node(cpu_to_node(cpu), gom_mcache_bytes);
	if (!mc)
		return NULL;
	mc->node = cpu_to_mem(cpu);
	for (cls = 1; cls < GOM_NR_CLASSES; cls++)
		gom_mc_mag(mc, cls)->cap = gom_classes[cls].mag_cap;
	gom_runcache_init(mc);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map_type(&mc->dep_map, "gom_mcache", &gom_mc_key, 0,
			      LD_WAIT_SPIN, LD_WAIT_INV, LD_LOCK_PERCPU);
#endif
	gom_meta_add(gom_mcache_bytes);
	return mc;
}

/*
 * Whether gom_free() must check a free's node and init_on_free, out of
 * line: both are set at boot.
 */
static bool free_hooks(void)
{
	return num_possible_nodes() > 1 || want_init_on_free();
}

/**
 * gom_mcache_init() - allocate every possible CPU's caches
 *
 * Context: process context (module init).
 * Return: 0 or -ENOMEM.
 */
int gom_mcache_init(void)
{
	unsigned int cpu;

	if (num_possible_nodes() > 1)
		static_branch_enable(&gom_numa_key);
	if (free_hooks())
		static_branch_inc(&gom_free_hook_key);
	layout();
	gom_drain_wq = alloc_workqueue("gomalloc_drain", WQ_MEM_RECLAIM, 0);
	if (!gom_drain_wq)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		INIT_WORK(per_cpu_ptr(&gom_drain_work, cpu), drain_work);
		*per_cpu_ptr(&gom_mcache_pcpu, cpu) = mcache_new(cpu);
		if (!gom_mcache_of(cpu))
			goto free_mcaches;
	}
	return 0;
free_mcaches:
	gom_mcache_exit();
	return -ENOMEM;
}

/**
 * gom_mcache_exit() - free the caches; they must be drained
 *
 * Context: process context (module exit).
 */
void gom_mcache_exit(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		if (gom_mcache_of(cpu)) {
			gom_meta_add(-(long)gom_mcache_bytes);
			free_pages_exact(gom_mcache_of(cpu), gom_mcache_bytes);
		}
		*per_cpu_ptr(&gom_mcache_pcpu, cpu) = NULL;
	}
	destroy_workqueue(gom_drain_wq);
	if (free_hooks())
		static_branch_dec(&gom_free_hook_key);
}
