// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_mcache: each CPU's caches in front of the mcentrals
 * (mod/mcache.c, mod/mcache.h): the span a CPU owns per class and the
 * magazine of freed objects, the section that guards them, and draining.
 *
 * Cases pin themselves to a CPU with migrate_disable() (they may still
 * sleep to grow the heap) and look at that CPU's caches. Every case starts
 * from drained caches (gom_shrink_all()), so what a class's first
 * allocation does is known whatever ran before, as long as nothing else
 * holds objects of the class; cases that need more say so and skip.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include "gom_test.h"
#include "mcache.h"

#define MK_SIZE		64	/* many objects per span */

static struct gom_mag *mag_of(unsigned int cpu, unsigned int cls)
{
	return gom_mc_mag(gom_mcache_of(cpu), cls);
}

static int mk_init(struct kunit *test)
{
	gom_shrink_all();
	return 0;
}

/* No span of @cls on @node, so its first allocation carves a new one. */
static bool class_idle(unsigned int cls, int node)
{
	struct gom_mcentral *c = gom_central(node, cls);

	return !c->nr_partial && !c->nr_full && !c->nr_owned;
}

/* A free then an alloc on the same CPU hands back the same object. */
static void mcache_hit_returns_same_object(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), cpu;
	unsigned long allocs, frees;
	struct gom_mag *m;
	void *p, *q = NULL;

	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	p = gom_alloc(MK_SIZE, GFP_KERNEL);
	if (!p)
		goto out;
	allocs = m->allocs;
	frees = m->frees;
	gom_free(p);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 1);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[m->count - 1], p);
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(p));
	q = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, q, p);
	KUNIT_EXPECT_FALSE(test, gom_obj_marked(q));
	KUNIT_EXPECT_EQ(test, m->allocs, allocs + 1);
	gom_free(q);
out:
	migrate_enable();
	KUNIT_EXPECT_NOT_NULL(test, p);
}

/*
 * The memo cases run on one CPU with the heap profile off (a sample is
 * never the memo), from an object of MK_SIZE that the magazine gave: the
 * CPU's memo. NULL if the heap could not grow; memo_end() undoes the rest.
 */
struct memo_ctx {
	unsigned long rate;
	unsigned int cpu;
	struct gom_mcache *mc;
	struct gom_mag *m;
};

/* The next allocation of @size bytes on this CPU, from the magazine. */
static void *alloc_from_mag(size_t size)
{
	void *p = gom_alloc(size, GFP_KERNEL);

	if (p)
		gom_free(p);
	return gom_alloc(size, GFP_KERNEL);
}

static void *memo_begin(struct memo_ctx *x)
{
	x->rate = READ_ONCE(gom_profile_rate);
	gom_set_profile_rate(0);
	migrate_disable();
	x->cpu = smp_processor_id();
	x->mc = gom_mcache_of(x->cpu);
	x->m = mag_of(x->cpu, gom_size_class(MK_SIZE));
	return alloc_from_mag(MK_SIZE);
}

static void memo_end(struct memo_ctx *x)
{
	migrate_enable();
	gom_set_profile_rate(x->rate);
}

/*
 * The object the CPU handed out last is its memo (struct gom_memo); its
 * free puts it back by the count alone: the magazine is as before the
 * pair, the object on top and marked, each counter one up. A second free
 * is refused as a double free and leaves the magazine alone.
 */
static void mcache_memo_put_back(struct kunit *test)
{
	unsigned long allocs, frees;
	struct memo_ctx x;
	unsigned int count;
	struct gom_mag *m;
	void *p;
	long dbl;

	p = memo_begin(&x);
	m = x.m;
	if (!p)
		goto out;
	KUNIT_EXPECT_PTR_EQ(test, gom_memo_obj(&x.mc->memo), (const void *)p);
	KUNIT_EXPECT_PTR_EQ(test, x.mc->memo.mag, m);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[m->count], p);
	count = m->count;
	allocs = m->allocs;
	frees = m->frees;
	gom_free(p);
	KUNIT_EXPECT_NULL(test, gom_memo_obj(&x.mc->memo));
	KUNIT_EXPECT_EQ(test, m->count, count + 1);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[count], p);
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(p));
	KUNIT_EXPECT_EQ(test, m->allocs, allocs);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 1);
	dbl = gom_t_dbl();
	gom_free(p);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	KUNIT_EXPECT_EQ(test, m->count, count + 1);
out:
	memo_end(&x);
	KUNIT_EXPECT_NOT_NULL(test, p);
}

/*
 * Anything else that changes the magazines ends the memo: a free of
 * another object, a bulk call, an allocation from the span, a heap
 * profile sample. Every object then takes the page map's way back, and
 * none is lost or put back twice.
 */
static void mcache_memo_ends(struct kunit *test)
{
	void *p, *q = NULL, *r, *objs[4];
	struct memo_ctx x;
	unsigned int count;
	struct gom_mag *m;

	p = memo_begin(&x);
	m = x.m;
	if (p)
		q = alloc_from_mag(MK_SIZE);
	if (!p || !q)
		goto out;
	KUNIT_EXPECT_PTR_EQ(test, gom_memo_obj(&x.mc->memo), (const void *)q);
	count = m->count;
	gom_free(p);			/* not the memo: pushed */
	KUNIT_EXPECT_NULL(test, gom_memo_obj(&x.mc->memo));
	gom_free(q);			/* no memo left: pushed */
	KUNIT_EXPECT_EQ(test, m->count, count + 2);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[count], p);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[count + 1], q);
	r = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, r, q);
	q = r;
	r = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, r, p);
	p = r;

	/* a bulk call takes from the magazine: the memo ends */
	KUNIT_EXPECT_PTR_EQ(test, gom_memo_obj(&x.mc->memo), (const void *)p);
	KUNIT_EXPECT_EQ(test, gom_alloc_bulk(MK_SIZE, GFP_KERNEL, 4, objs), 4);
	KUNIT_EXPECT_NULL(test, gom_memo_obj(&x.mc->memo));
	gom_free_bulk(4, objs);

	/* so does an allocation from the span, with the magazine empty */
	gom_free(p);
	gom_free(q);
	gom_mcache_drain_local();
	p = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_NULL(test, gom_memo_obj(&x.mc->memo));
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	gom_free(p);
	KUNIT_EXPECT_EQ(test, m->count, 1U);

	/* and a sample: its free must take it out of the profile */
	gom_set_profile_rate(1);
	p = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_NULL(test, gom_memo_obj(&x.mc->memo));
	gom_free(p);
	p = NULL;
	q = NULL;
out:
	memo_end(&x);
	gom_free(p);
	gom_free(q);
}

static void free_fn(void *obj)
{
	gom_free(obj);
}

/*
 * The memo freed on another CPU, then freed again on its own: the mark
 * the first free left refuses the second, which the memo did not spare
 * the check.
 */
static void mcache_memo_freed_elsewhere(struct kunit *test)
{
	unsigned int other, count;
	struct memo_ctx x;
	void *p;
	long dbl;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	p = memo_begin(&x);
	if (!p)
		goto out;
	other = cpumask_any_but(cpu_online_mask, x.cpu);
	KUNIT_EXPECT_PTR_EQ(test, gom_memo_obj(&x.mc->memo), (const void *)p);
	count = x.m->count;
	KUNIT_EXPECT_EQ(test, smp_call_function_single(other, free_fn, p, 1), 0);
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(p));
	dbl = gom_t_dbl();
	gom_free(p);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	KUNIT_EXPECT_EQ(test, x.m->count, count);
out:
	memo_end(&x);
	KUNIT_EXPECT_NOT_NULL(test, p);
}

/*
 * With an empty magazine, objects come from the CPU's span, in address
 * order within the word of its bitmap the CPU claimed, the next word
 * claimed when one is used up; the magazine stays empty.
 */
static void mcache_alloc_in_address_order(struct kunit *test)
{
	enum { NR = 70 };
	unsigned int cls = gom_size_class(208), cpu, i, n = 0;
	unsigned long refills, allocs;
	struct gom_span *s = NULL;
	struct gom_mag *m;
	bool idle;
	void **objs;

	objs = kunit_kcalloc(test, NR, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	/* a span of more than one word */
	KUNIT_ASSERT_GT(test, gom_classes[cls].nobjs, (u16)NR);
	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	idle = class_idle(cls, numa_mem_id());
	refills = m->refills;
	allocs = m->allocs;
	for (n = 0; n < NR; n++) {
		objs[n] = gom_alloc(208, GFP_KERNEL);
		if (!objs[n])
			break;
		if (!n)
			s = m->span;
	}
	migrate_enable();
	KUNIT_ASSERT_EQ(test, n, (unsigned int)NR);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_PTR_EQ(test, m->span, s);
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	KUNIT_EXPECT_EQ(test, m->refills, refills + 1);
	KUNIT_EXPECT_EQ(test, m->allocs, allocs + NR);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state, (unsigned int)GOM_SPAN_OWNED);
	for (i = 0; i < NR; i++) {
		KUNIT_EXPECT_PTR_EQ(test, gom_t_span_of(objs[i]), s);
		if (i && gom_obj_index(s, (unsigned long)objs[i]) / BITS_PER_LONG ==
		    gom_obj_index(s, (unsigned long)objs[i - 1]) / BITS_PER_LONG)
			KUNIT_EXPECT_GT_MSG(test, (unsigned long)objs[i],
					    (unsigned long)objs[i - 1],
					    "object %u", i);
		/* a new span: every object in turn */
		if (idle)
			KUNIT_EXPECT_PTR_EQ_MSG(test, objs[i],
						(void *)(s->base + i * s->size),
						"object %u", i);
	}
	if (idle) {
		/* word 1 is claimed, its first NR - 64 objects handed out */
		KUNIT_EXPECT_EQ(test, s->cache_base,
				s->base + BITS_PER_LONG * s->size);
		KUNIT_EXPECT_EQ(test, hweight_long(s->cache),
				(int)(s->nobjs - NR));
	}
	for (i = 0; i < NR; i++)
		gom_free(objs[i]);
}

/* A used-up span is swapped for another: one more refill. */
static void mcache_used_up_span_swapped(struct kunit *test)
{
	unsigned int cls = gom_size_class(4096), cpu, i, nobjs;
	struct gom_span *s, *s2 = NULL;
	unsigned long refills, full;
	struct gom_mcentral *c;
	struct gom_mag *m;
	void *objs[32] = { };

	nobjs = gom_classes[cls].nobjs;
	KUNIT_ASSERT_LT(test, nobjs, (unsigned int)ARRAY_SIZE(objs));
	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	c = gom_central(numa_mem_id(), cls);
	if (!class_idle(cls, numa_mem_id())) {
		migrate_enable();
		kunit_skip(test, "objects of 4096 bytes are in use after a drain");
	}
	refills = m->refills;
	full = c->nr_full;
	for (i = 0; i < nobjs; i++) {
		objs[i] = gom_alloc(4096, GFP_KERNEL);
		if (!objs[i])
			break;
	}
	s = m->span;
	if (i == nobjs) {
		objs[nobjs] = gom_alloc(4096, GFP_KERNEL);
		s2 = m->span;
	}
	migrate_enable();
	KUNIT_ASSERT_EQ(test, i, nobjs);
	KUNIT_ASSERT_NOT_NULL(test, objs[nobjs]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, s2);
	for (i = 0; i < nobjs; i++)
		KUNIT_EXPECT_PTR_EQ(test, gom_t_span_of(objs[i]), s);
	KUNIT_EXPECT_PTR_NE(test, s2, s);
	KUNIT_EXPECT_PTR_EQ(test, gom_t_span_of(objs[nobjs]), s2);
	KUNIT_EXPECT_EQ(test, m->refills, refills + 2);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state, (unsigned int)GOM_SPAN_FULL);
	KUNIT_EXPECT_EQ(test, c->nr_full, full + 1);
	for (i = 0; i <= nobjs; i++)
		gom_free(objs[i]);
}

/* Freeing into a full magazine sends all of it back to the spans. */
static void mcache_flush_on_overflow(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), cpu, i, cap;
	const struct gom_class *k = &gom_classes[cls];
	unsigned long flushes;
	struct gom_mag *m;
	void **objs;

	objs = kunit_kcalloc(test, GOM_MAG_MAX + 1, sizeof(*objs),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	cap = m->cap;
	for (i = 0; i <= cap; i++)
		objs[i] = gom_alloc(MK_SIZE, GFP_KERNEL);
	gom_mcache_drain_all();
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	KUNIT_EXPECT_NULL(test, m->span);
	flushes = m->flushes;
	for (i = 0; i < cap; i++)
		gom_free(objs[i]);
	KUNIT_EXPECT_EQ(test, m->count, cap);
	KUNIT_EXPECT_EQ(test, m->flushes, flushes);
	gom_free(objs[cap]);
	KUNIT_EXPECT_EQ(test, m->flushes, flushes + 1);
	/* the full magazine went back to the spans, the new free stays */
	KUNIT_EXPECT_EQ(test, m->count, 1U);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[0], objs[cap]);
	for (i = 0; i < cap; i++)
		KUNIT_EXPECT_TRUE_MSG(test, gom_object_is_free((unsigned long)objs[i]),
				      "object %u", i);
	KUNIT_EXPECT_FALSE(test, gom_object_is_free((unsigned long)objs[cap]));
	migrate_enable();
	KUNIT_EXPECT_EQ(test, cap, (unsigned int)k->mag_cap);
	for (i = 0; i <= cap; i++)
		KUNIT_EXPECT_NOT_NULL(test, objs[i]);
}

/* What a CPU's caches of one class look like, to compare. */
struct mag_snap {
	struct gom_span *span;
	unsigned long cache;
	unsigned int count;
	unsigned long allocs;
	unsigned long frees;
	unsigned int refills;
	unsigned int flushes;
	unsigned int rc_count;
	void *objs[GOM_MAG_MAX];
};

static void snap(struct gom_mcache *mc, unsigned int cls, struct mag_snap *s)
{
	struct gom_mag *m = gom_mc_mag(mc, cls);

	s->span = m->span;
	s->cache = s->span ? s->span->cache : 0;
	s->count = m->count;
	s->allocs = m->allocs;
	s->frees = m->frees;
	s->refills = m->refills;
	s->flushes = m->flushes;
	s->rc_count = mc->rc[0].count;
	memcpy(s->objs, m->objs, sizeof(s->objs));
}

/*
 * A caller that finds its CPU's section busy (as an interrupt would) takes
 * the slow path through the mcentral: allocations and frees still work,
 * and the CPU's span, magazine and run cache are left alone.
 */
static void mcache_busy_section_slow_path(struct kunit *test)
{
	unsigned int cls = gom_size_class(96);
	struct mag_snap *before, *after;
	long dbl = gom_t_dbl(), inv = gom_t_inv();
	bool locked, q_ok = false, q_free = false, run_ok = false;
	void *p0, *p1, *q = NULL, *run = NULL;
	struct gom_mcache *mc;

	before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	after = kunit_kzalloc(test, sizeof(*after), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	migrate_disable();
	/* a span owned and an object in the magazine */
	p0 = gom_alloc(96, GFP_KERNEL);
	p1 = gom_alloc(96, GFP_KERNEL);
	gom_free(p1);
	locked = gom_mc_trylock(&mc);
	if (locked) {
		snap(mc, cls, before);
		/* nested in our own section: neither may use the caches */
		q = gom_alloc(96, GFP_ATOMIC);
		if (q) {
			gom_t_fill(q, 96, 0x3c);
			q_ok = gom_t_intact(q, 96, 0x3c) && q != p0 && q != p1;
			gom_free(q);
		}
		q_free = q && gom_obj_marked(q);
		gom_free(p0);
		run = gom_alloc_pages(1, GFP_ATOMIC);
		if (run) {
			gom_t_fill(run, PAGE_SIZE, 0x5d);
			run_ok = gom_t_intact(run, PAGE_SIZE, 0x5d);
			gom_free_pages(run);
		}
		snap(mc, cls, after);
		gom_mc_unlock(mc);
	}
	migrate_enable();
	KUNIT_ASSERT_TRUE(test, locked);
	KUNIT_EXPECT_NOT_NULL(test, p0);
	KUNIT_EXPECT_NOT_NULL(test, p1);
	KUNIT_EXPECT_NOT_NULL(test, q);
	KUNIT_EXPECT_TRUE(test, q_ok);
	KUNIT_EXPECT_TRUE(test, q_free);
	KUNIT_EXPECT_NOT_NULL(test, run);
	KUNIT_EXPECT_TRUE(test, run_ok);
	/* the slow paths left the caches exactly as they were */
	KUNIT_EXPECT_NOT_NULL(test, before->span);
	KUNIT_EXPECT_EQ(test, before->count, 1U);
	KUNIT_EXPECT_EQ(test, memcmp(before, after, sizeof(*before)), 0);
	/* and the objects went straight back to their spans */
	KUNIT_EXPECT_TRUE(test, gom_object_is_free((unsigned long)q));
	KUNIT_EXPECT_TRUE(test, gom_object_is_free((unsigned long)p0));
	/* not in this CPU's run cache: back in the heap */
	KUNIT_EXPECT_NE(test, gom_pm_tag(gom_pm_lookup(run)), GOM_PM_CACHED);
	KUNIT_EXPECT_NE(test, gom_pm_tag(gom_pm_lookup(run)), GOM_PM_LARGE);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl);
	KUNIT_EXPECT_EQ(test, gom_t_inv(), inv);
	/* and the caches still work */
	p1 = gom_alloc(96, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, p1);
	gom_free(p1);
}

/*
 * free(p) twice while the first copy waits in the span's word that the
 * CPU claimed: refused, and the object is handed out once.
 */
static void mcache_double_free_in_claimed_word(struct kunit *test)
{
	unsigned int cls = gom_size_class(352);
	void *p0, *p1, *a, *b, *c;
	long dbl = gom_t_dbl();
	struct gom_span *s;

	migrate_disable();
	if (!class_idle(cls, numa_mem_id())) {
		migrate_enable();
		kunit_skip(test, "objects of 352 bytes are in use after a drain");
	}
	p0 = gom_alloc(352, GFP_KERNEL);
	p1 = gom_alloc(352, GFP_KERNEL);
	gom_free(p0);
	gom_free(p1);
	/* both back in their span, wholly free, the one span kept */
	gom_mcache_drain_all();
	/* the span comes back to this CPU, word 0 claimed: p1 waits in it */
	a = gom_alloc(352, GFP_KERNEL);
	gom_free(p1);
	b = gom_alloc(352, GFP_KERNEL);
	c = gom_alloc(352, GFP_KERNEL);
	s = mag_of(smp_processor_id(), cls)->span;
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p0);
	KUNIT_ASSERT_NOT_NULL(test, p1);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	KUNIT_EXPECT_PTR_EQ(test, a, p0);
	KUNIT_EXPECT_PTR_EQ(test, b, p1);
	KUNIT_EXPECT_PTR_EQ(test, c, (void *)(s->base + 2 * s->size));
	gom_free(a);
	gom_free(b);
	gom_free(c);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
}

/*
 * A run freed on this CPU waits in its run cache, marked cached, and is
 * the next run of its order handed out, marked live again. A free that
 * read the live entry but lost the race to another free (its entry is
 * stale when it tries to claim the run) is refused and caches nothing.
 */
static void mcache_runcache_reuse_and_racing_free(struct kunit *test)
{
	unsigned long e = 0, cached = 0, again = 0;
	unsigned int count = 0, lost_count = 0;
	void *run, *next = NULL;
	int lost = 0;

	migrate_disable();
	run = gom_alloc_pages(2, GFP_KERNEL);
	if (run) {
		e = gom_pm_lookup(run);
		gom_free_pages(run);
		cached = gom_pm_lookup(run);
		count = gom_mcache_of(smp_processor_id())->rc[1].count;
		/* the loser of two frees that both read the live entry */
		lost = gom_runcache_free(run, 1, e);
		lost_count = gom_mcache_of(smp_processor_id())->rc[1].count;
		next = gom_alloc_pages(2, GFP_KERNEL);
		again = gom_pm_lookup(next);
	}
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, run);
	KUNIT_EXPECT_EQ(test, gom_pm_tag(e), GOM_PM_LARGE);
	KUNIT_EXPECT_EQ(test, gom_pm_val(e), 2UL);
	KUNIT_EXPECT_EQ(test, cached, (e & ~GOM_PM_TAG_MASK) | GOM_PM_CACHED);
	KUNIT_EXPECT_GE(test, count, 1U);
	KUNIT_EXPECT_EQ(test, lost, -EINVAL);
	KUNIT_EXPECT_EQ(test, lost_count, count);
	KUNIT_EXPECT_PTR_EQ(test, next, run);
	KUNIT_EXPECT_EQ(test, again, e);
	gom_free_pages(next);
}

struct mk_fill {
	unsigned int cls;
	int nr;
};

/* Runs on each CPU in an IPI: leave objects in the magazines. */
static void mk_fill_fn(void *arg)
{
	struct mk_fill *f = arg;
	void *objs[8];
	int i;

	for (i = 0; i < f->nr && i < ARRAY_SIZE(objs); i++)
		objs[i] = gom_alloc(gom_classes[f->cls].size, GFP_ATOMIC);
	for (i = 0; i < f->nr && i < ARRAY_SIZE(objs); i++)
		gom_free(objs[i]);
	/* and a run of 2^(cls % 4) pages in the run cache */
	gom_free_pages(gom_alloc_pages(1U << (f->cls % 4), GFP_ATOMIC));
}

/* gom_mcache_drain_all() leaves no span, object or run on any CPU. */
static void mcache_drain_all_empties(struct kunit *test)
{
	unsigned int cpu, cls, order, filled = 0, owned = 0, runs = 0;
	struct mk_fill f = { .nr = 8 };
	struct gom_mcache *mc;

	for (cls = 1; cls < GOM_NR_CLASSES; cls += 7) {
		f.cls = cls;
		on_each_cpu(mk_fill_fn, &f, 1);
	}
	for_each_online_cpu(cpu) {
		mc = gom_mcache_of(cpu);
		for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
			filled += gom_mc_mag(mc, cls)->count;
			owned += !!gom_mc_mag(mc, cls)->span;
		}
		for (order = 0; order < GOM_RC_ORDERS; order++)
			runs += mc->rc[order].count;
	}
	KUNIT_EXPECT_GT(test, filled, 0U);
	KUNIT_EXPECT_GT(test, owned, 0U);
	KUNIT_EXPECT_GT(test, runs, 0U);
	gom_mcache_drain_all();
	for_each_online_cpu(cpu) {
		mc = gom_mcache_of(cpu);
		for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
			KUNIT_EXPECT_EQ_MSG(test, gom_mc_mag(mc, cls)->count, 0U,
					    "cpu %u class %u", cpu, cls);
			KUNIT_EXPECT_NULL_MSG(test, gom_mc_mag(mc, cls)->span,
					      "cpu %u class %u", cpu, cls);
		}
		for (order = 0; order < GOM_RC_ORDERS; order++)
			KUNIT_EXPECT_EQ_MSG(test, mc->rc[order].count, 0U,
					    "cpu %u run order %u", cpu, order);
	}
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		struct gom_class_stats st;

		gom_class_stats(cls, &st);
		KUNIT_EXPECT_EQ_MSG(test, st.spans_owned, 0UL, "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, st.objects_cached, 0UL, "class %u",
				    cls);
	}
}

/*
 * allocs and frees count every object on the CPU that allocated or freed
 * it, bulk ones included, also those a bulk free sends straight back to
 * their spans because the magazine is full.
 */
static void mcache_counters(struct kunit *test)
{
	unsigned int cls = gom_size_class(256), cpu, i, nr;
	unsigned long allocs, frees, bulk_allocs, rate;
	struct gom_mag *m;
	void **objs;
	int got;

	nr = gom_classes[cls].mag_cap + 10;
	objs = kunit_kcalloc(test, nr, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	/* a sampled object's free takes the slow path, which flushes */
	rate = READ_ONCE(gom_profile_rate);
	gom_set_profile_rate(0);
	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	allocs = m->allocs;
	frees = m->frees;
	for (i = 0; i < 20; i++) {
		objs[i] = gom_alloc(256, GFP_KERNEL);
		KUNIT_EXPECT_NOT_NULL(test, objs[i]);
	}
	for (i = 0; i < 20; i++)
		gom_free(objs[i]);
	KUNIT_EXPECT_EQ(test, m->allocs, allocs + 20);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 20);

	bulk_allocs = m->allocs;
	KUNIT_EXPECT_EQ(test, gom_alloc_bulk(256, GFP_KERNEL, 20, objs), 20);
	KUNIT_EXPECT_EQ(test, m->allocs, bulk_allocs + 20);
	gom_free_bulk(20, objs);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 40);

	/* more than the magazine holds */
	bulk_allocs = m->allocs;
	got = gom_alloc_bulk(256, GFP_KERNEL, nr, objs);
	KUNIT_EXPECT_EQ(test, got, (int)nr);
	KUNIT_EXPECT_EQ(test, m->allocs, bulk_allocs + got);
	gom_free_bulk(got, objs);
	KUNIT_EXPECT_EQ(test, m->count, m->cap);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 40 + got);
	migrate_enable();
	gom_set_profile_rate(rate);
}

/*
 * A bulk free of three classes interleaved with NULLs, one class in
 * reverse order and more of it than its magazine holds: the span and the
 * magazine change at every pointer. Each object goes to its class's
 * magazine until that is full and then straight to its span, is counted
 * once, and is free afterwards (a second free is a double free).
 */
static void mcache_bulk_free_mixed(struct kunit *test)
{
	static const size_t sizes[] = { 64, 256, 1024 };
	unsigned int cls[3], k, i, nr, cpu;
	unsigned long frees[3], rate;
	long dbl = atomic_long_read(&gom_counters.double_frees);
	struct gom_mag *m[3];
	void **ptrs, **objs;

	nr = gom_classes[gom_size_class(256)].mag_cap + 10;
	ptrs = kunit_kcalloc(test, 4 * nr, sizeof(*ptrs), GFP_KERNEL);
	objs = kunit_kcalloc(test, 3 * nr, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ptrs);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	/* a sampled object's span sends its frees one by one */
	rate = READ_ONCE(gom_profile_rate);
	gom_set_profile_rate(0);
	migrate_disable();
	cpu = smp_processor_id();
	for (k = 0; k < 3; k++) {
		cls[k] = gom_size_class(sizes[k]);
		m[k] = mag_of(cpu, cls[k]);
		for (i = 0; i < nr; i++) {
			objs[k * nr + i] = gom_alloc(sizes[k], GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, objs[k * nr + i]);
		}
		/* drained by mk_init(), and allocation does not fill it */
		KUNIT_EXPECT_EQ(test, m[k]->count, 0U);
		frees[k] = m[k]->frees;
	}
	for (i = 0; i < nr; i++) {
		ptrs[4 * i] = objs[i];
		ptrs[4 * i + 1] = objs[2 * nr - 1 - i];
		ptrs[4 * i + 2] = objs[2 * nr + i];
		ptrs[4 * i + 3] = NULL;
	}
	gom_free_bulk(4 * nr, ptrs);
	for (k = 0; k < 3; k++) {
		KUNIT_EXPECT_EQ_MSG(test, m[k]->frees, frees[k] + nr,
				    "%zu bytes", sizes[k]);
		KUNIT_EXPECT_EQ_MSG(test, m[k]->count, min(nr, m[k]->cap),
				    "%zu bytes", sizes[k]);
	}
	for (i = 0; i < 3 * nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, gom_usable_size(objs[i]), (size_t)0,
				    "object %u", i);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.double_frees),
			dbl);
	/* one that went to the magazine, one that went to its span */
	gom_free(objs[2 * nr - 1]);
	gom_free(objs[nr]);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.double_frees),
			dbl + 2);
	migrate_enable();
	gom_set_profile_rate(rate);
}

/* Fill @objs with @n objects of @size bytes each. */
static void alloc_each(struct kunit *test, void **objs, unsigned int n,
		       size_t size)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		objs[i] = gom_alloc(size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
}

/*
 * A bulk free whose objects hop from span to span refuses an interior
 * pointer of the span it just entered and of another span, and an object
 * freed twice, and frees everything else.
 */
static void mcache_bulk_free_scattered(struct kunit *test)
{
	enum { SPANS = 4, SIZE = 1024, BAD = 3 };
	unsigned int per = gom_classes[gom_size_class(SIZE)].nobjs;
	unsigned int nr = SPANS * per, i, j, hops = 0;
	long dbl = atomic_long_read(&gom_counters.double_frees);
	long inv = atomic_long_read(&gom_counters.invalid_frees);
	struct gom_span *prev = NULL;
	unsigned long rate;
	void **objs, **ptrs;

	objs = kunit_kcalloc(test, nr, sizeof(*objs), GFP_KERNEL);
	ptrs = kunit_kcalloc(test, nr + BAD, sizeof(*ptrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	KUNIT_ASSERT_NOT_NULL(test, ptrs);
	rate = READ_ONCE(gom_profile_rate);
	gom_set_profile_rate(0);
	alloc_each(test, objs, nr, SIZE);
	/* round robin over blocks of a span's worth: mostly a new span */
	for (i = 0, j = 0; i < nr; i++, j++) {
		if (i == 5)
			ptrs[j++] = ptrs[4] + 8;	/* the span just entered */
		if (i == 9)	/* after one of span 0: inside one of span 2 */
			ptrs[j++] = ptrs[2] + SIZE / 2;
		ptrs[j] = objs[(i % SPANS) * per + i / SPANS];
		if (i && gom_t_span_of(ptrs[j]) != prev)
			hops++;
		prev = gom_t_span_of(ptrs[j]);
	}
	ptrs[j] = ptrs[1];
	KUNIT_ASSERT_GE_MSG(test, hops, nr / 2,
			    "objects of few spans: nothing to hop over");
	gom_free_bulk(nr + BAD, ptrs);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.invalid_frees),
			inv + 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.double_frees),
			dbl + 1);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, gom_usable_size(objs[i]), (size_t)0,
				    "object %u", i);
	gom_set_profile_rate(rate);
}

/*
 * A bulk free whose objects mostly meet a new span sends them to their
 * spans, not to the magazine, where they would spread the next bulk
 * allocation too. That one takes the objects of the owned span (and of a
 * new span once it is used up), whose bulk free goes to the magazine.
 */
static void mcache_bulk_spread(struct kunit *test)
{
	enum { SPANS = 4, SIZE = 640, NR = 16 };
	unsigned int cls = gom_size_class(SIZE), per = gom_classes[cls].nobjs;
	unsigned int n = SPANS * per, i, k, count, hops = 0, spans = 1;
	struct gom_span *prev = NULL;
	void **objs, *ptrs[NR];
	struct gom_mcache *mc;
	unsigned long rate;
	struct gom_mag *m;

	objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	rate = READ_ONCE(gom_profile_rate);
	gom_set_profile_rate(0);
	alloc_each(test, objs, n, SIZE);
	/* round robin over blocks of a span's worth: mostly a new span */
	for (i = 0; i < NR; i++) {
		k = (i % SPANS) * per + i / SPANS;
		ptrs[i] = objs[k];
		objs[k] = NULL;
		if (i && gom_t_span_of(ptrs[i]) != prev)
			hops++;
		prev = gom_t_span_of(ptrs[i]);
	}
	KUNIT_ASSERT_GE_MSG(test, hops, NR / 2,
			    "objects of few spans: nothing to spread");
	migrate_disable();
	/* objects in the magazine, which a spread allocation passes over */
	gom_mcache_drain_local();
	mc = gom_mcache_of(smp_processor_id());
	m = gom_mc_mag(mc, cls);
	for (i = n - SPANS; i < n; i++) {
		gom_free(objs[i]);
		objs[i] = NULL;
	}
	count = m->count;
	KUNIT_EXPECT_EQ(test, count, (unsigned int)SPANS);
	gom_free_bulk(NR, ptrs);
	KUNIT_EXPECT_TRUE(test, test_bit(cls, mc->spread));
	KUNIT_EXPECT_EQ(test, m->count, count);
	for (i = 0; i < NR; i++)
		KUNIT_EXPECT_EQ_MSG(test, gom_usable_size(ptrs[i]), (size_t)0,
				    "object %u", i);

	KUNIT_EXPECT_EQ(test, gom_alloc_bulk(SIZE, GFP_KERNEL, NR, ptrs), NR);
	KUNIT_EXPECT_EQ(test, m->count, count);
	for (i = 1; i < NR; i++)
		if (gom_t_span_of(ptrs[i]) != gom_t_span_of(ptrs[i - 1]))
			spans++;
	/* partial spans, each used up before the next */
	KUNIT_EXPECT_LE(test, spans, SPANS + 1U);
	gom_free_bulk(NR, ptrs);
	KUNIT_EXPECT_FALSE(test, test_bit(cls, mc->spread));
	KUNIT_EXPECT_EQ(test, m->count, count + NR);
	migrate_enable();
	for (i = 0; i < n; i++)
		gom_free(objs[i]);
	gom_set_profile_rate(rate);
}

/*
 * A spread class whose bulk allocation finds no new span -- mem_limit
 * keeps the heap from growing, and what it holds is in use -- takes the
 * objects its magazine holds after all, as gom_alloc() would. The failed
 * allocation that found the heap full has every CPU drain its caches in
 * the background; the test waits for that before it fills the magazine,
 * which the drain would otherwise empty.
 */
static void mcache_bulk_spread_spared(struct kunit *test)
{
	enum { SIZE = 32768, NR = 4, MAX = 4096 };
	unsigned int cls = gom_size_class(SIZE), i, k, n = 0;
	unsigned long limit = READ_ONCE(gom_mem_limit), rate;
	const gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;
	struct gom_mcache *mc;
	void **objs, *ptrs[NR], *freed[NR];
	int ret;

	objs = kunit_kcalloc(test, MAX, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	rate = READ_ONCE(gom_profile_rate);
	gom_set_profile_rate(0);
	/* 0 would be no limit */
	KUNIT_ASSERT_EQ(test, gom_set_mem_limit(max_t(long, gom_heap_bytes(),
						      SZ_1M)), 0);
	migrate_disable();
	mc = gom_mcache_of(smp_processor_id());
	while (n < MAX && (objs[n] = gom_alloc(SIZE, gfp)))
		n++;
	KUNIT_EXPECT_LT_MSG(test, n, (unsigned int)MAX, "the heap never ran out");
	KUNIT_EXPECT_GE(test, n, (unsigned int)NR);
	if (n < NR || n == MAX)
		goto out;
	/* the drain the failed allocation queued: not of the objects below */
	gom_shrink_wait();
	for (i = 0; i < NR; i++) {
		freed[i] = objs[--n];
		gom_free(freed[i]);
	}
	__set_bit(cls, mc->spread);
	ret = gom_mcache_alloc_bulk(cls, SIZE, gfp, NR, ptrs);
	KUNIT_EXPECT_GE(test, ret, 0);
	if (ret < 0)
		goto out;
	/* the objects freed to the magazine, each once */
	for (i = 0; i < NR; i++) {
		for (k = 0; k < NR && freed[k] != ptrs[i]; k++)
			;
		KUNIT_EXPECT_LT_MSG(test, k, (unsigned int)NR, "object %u", i);
		if (k < NR)
			freed[k] = NULL;
	}
	gom_free_bulk(NR, ptrs);
out:
	migrate_enable();
	for (i = 0; i < n; i++)
		gom_free(objs[i]);
	gom_set_mem_limit(limit);
	gom_set_profile_rate(rate);
}

/*
 * A request for another node leaves this CPU's caches alone, and counts
 * on it all the same: the allocation, and the free of the other node's
 * object, which goes straight back to its span.
 */
static void mcache_remote_alloc_bypasses_magazine(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), cpu, count;
	unsigned long allocs, frees;
	struct gom_span *span;
	struct gom_mag *m;
	int other;
	void *p;

	migrate_disable();
	cpu = smp_processor_id();
	other = gom_t_other_node(numa_mem_id());
	if (other == NUMA_NO_NODE) {
		migrate_enable();
		kunit_skip(test, "needs a second NUMA node with memory");
	}
	m = mag_of(cpu, cls);
	count = m->count;
	span = m->span;
	allocs = m->allocs;
	frees = m->frees;
	p = gom_alloc_node(MK_SIZE, GFP_KERNEL, other);
	KUNIT_EXPECT_NOT_NULL(test, p);
	if (p)
		KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(p)), other);
	KUNIT_EXPECT_EQ(test, m->count, count);
	KUNIT_EXPECT_PTR_EQ(test, m->span, span);
	KUNIT_EXPECT_EQ(test, m->allocs, allocs + 1);
	gom_free(p);
	KUNIT_EXPECT_EQ(test, m->count, count);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 1);
	KUNIT_EXPECT_TRUE(test, gom_object_is_free((unsigned long)p));
	migrate_enable();
}

static void mk_free_fn(void *p)
{
	gom_free(p);
}

/*
 * An object freed on a CPU of another node goes back to its own span, not
 * into that CPU's magazine, where it would be handed out as local memory
 * of the wrong node; the free counts on the CPU that freed it.
 */
static void mcache_remote_node_free_returns_to_span(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), target;
	unsigned long frees, inuse;
	struct gom_mcentral *c;
	struct gom_mag *m;
	void *p;
	int nid;

	migrate_disable();
	nid = numa_mem_id();
	for_each_online_cpu(target)
		if (cpu_to_mem(target) != nid)
			break;
	if (target >= nr_cpu_ids) {
		migrate_enable();
		kunit_skip(test, "needs online CPUs on two NUMA nodes");
	}
	c = gom_central(nid, cls);
	p = gom_alloc(MK_SIZE, GFP_KERNEL);
	gom_mcache_drain_all();
	m = mag_of(target, cls);
	frees = m->frees;
	inuse = gom_mcentral_inuse(c);
	KUNIT_EXPECT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, smp_call_function_single(target, mk_free_fn, p,
						       1), 0);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 1);
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c), inuse - 1);
	KUNIT_EXPECT_TRUE(test, gom_object_is_free((unsigned long)p));
	migrate_enable();
}

/*
 * The magazines follow struct gom_mcache one after another, each as long
 * as its class's capacity, without overlap, within 24 KiB (the six pages
 * the documentation promises); the size-to-magazine table agrees with the
 * class table for every small size.
 */
static void mcache_layout(struct kunit *test)
{
	struct gom_mcache *mc = gom_mcache_of(raw_smp_processor_id());
	size_t end = sizeof(struct gom_mcache), size;
	unsigned int cls;

	for (cls = 0; cls < GOM_NR_CLASSES; cls++) {
		KUNIT_EXPECT_GE_MSG(test, (size_t)gom_mag_off(cls), end,
				    "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, gom_mag_off(cls) % sizeof(long), 0U,
				    "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, gom_mc_mag(mc, cls)->cap,
				    (unsigned int)gom_classes[cls].mag_cap,
				    "class %u", cls);
		end = gom_mag_off(cls) +
		      struct_size_t(struct gom_mag, objs, gom_classes[cls].mag_cap);
	}
	KUNIT_EXPECT_LE(test, end, (size_t)SZ_16K + SZ_8K);
	for (size = 1; size <= GOM_DIRECT_MAX; size++)
		KUNIT_EXPECT_EQ_MSG(test, gom_mag_off_small(size),
				    gom_mag_off(gom_size_class(size)),
				    "size %zu", size);
}

static struct kunit_case gomalloc_mcache_cases[] = {
	KUNIT_CASE(mcache_layout),
	KUNIT_CASE(mcache_hit_returns_same_object),
	KUNIT_CASE(mcache_memo_put_back),
	KUNIT_CASE(mcache_memo_ends),
	KUNIT_CASE(mcache_memo_freed_elsewhere),
	KUNIT_CASE(mcache_alloc_in_address_order),
	KUNIT_CASE(mcache_used_up_span_swapped),
	KUNIT_CASE(mcache_flush_on_overflow),
	KUNIT_CASE(mcache_busy_section_slow_path),
	KUNIT_CASE(mcache_double_free_in_claimed_word),
	KUNIT_CASE(mcache_runcache_reuse_and_racing_free),
	KUNIT_CASE(mcache_drain_all_empties),
	KUNIT_CASE(mcache_counters),
	KUNIT_CASE(mcache_bulk_free_mixed),
	KUNIT_CASE(mcache_bulk_free_scattered),
	KUNIT_CASE(mcache_bulk_spread),
	KUNIT_CASE(mcache_bulk_spread_spared),
	KUNIT_CASE(mcache_remote_alloc_bypasses_magazine),
	KUNIT_CASE(mcache_remote_node_free_returns_to_span),
	{}
};

static struct kunit_suite gomalloc_mcache_suite = {
	.name = "gomalloc_mcache",
	.init = mk_init,
	.test_cases = gomalloc_mcache_cases,
};

kunit_test_suite(gomalloc_mcache_suite);

MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's per-CPU caches");
