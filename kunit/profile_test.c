// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_profile: the sampled heap profile (mod/profile.c).
 *
 * With profile_rate 1 every allocation is a sample of weight 1, so the
 * profile must show exactly what two known functions allocated and what
 * was freed. At the default rate the estimate is unbiased: the mean of
 * several 64 MiB workloads must land within 10% of the truth (one alone
 * has a standard error near 9% at 512 KiB per sample, so a single run
 * could not promise 10%).
 */
#include <kunit/test.h>
#include <linux/irq_work.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/stackdepot.h>
#include <linux/stacktrace.h>
#include <linux/vmalloc.h>
#include "gom_test.h"

#define PROF_A_OBJS		10
#define PROF_A_SIZE		64
#define PROF_B_OBJS		5
#define PROF_B_SIZE		3000
#define PROF_BIG		(64UL << 20)
#define PROF_BIG_SIZE		1024
#define PROF_TRIALS		8
#define PROF_BULK		40
#define PROF_RUNS		12	/* page runs of 1, 2 and 4 pages */
#define PROF_MATES		8	/* objects allocated after a sample */

static unsigned long prof_saved_rate;

static int prof_init(struct kunit *test)
{
	prof_saved_rate = READ_ONCE(gom_profile_rate);
	gom_shrink_all();
	return 0;
}

static void prof_exit(struct kunit *test)
{
	gom_set_profile_rate(prof_saved_rate);
}

static noinline void prof_alloc_a(void **p)
{
	unsigned int i;

	for (i = 0; i < PROF_A_OBJS; i++)
		p[i] = gom_alloc(PROF_A_SIZE, GFP_KERNEL);
}

static noinline void prof_alloc_b(void **p)
{
	unsigned int i;

	for (i = 0; i < PROF_B_OBJS; i++)
		p[i] = gom_alloc(PROF_B_SIZE, GFP_KERNEL);
	p[i] = gom_alloc(GOM_MAX_SMALL_SIZE + 1000, GFP_KERNEL);
}

/*
 * Whether a frame of @stack is in the function named @fn, or in a copy
 * the compiler made of it ("fn.constprop.0").
 */
static bool stack_has(u32 stack, const char *fn)
{
	char buf[KSYM_SYMBOL_LEN], end;
	unsigned long *entries;
	unsigned int n, i;

	n = stack_depot_fetch(stack, &entries);
	for (i = 0; i < n; i++) {
		sprint_symbol_no_offset(buf, entries[i]);
		end = buf[strlen(fn)];
		if (!strncmp(buf, fn, strlen(fn)) &&
		    (end == ' ' || end == '.' || !end))
			return true;
	}
	return false;
}

/* The sums over the stacks that pass through @fn. */
static void prof_sum(const char *fn, long *live_objs, long *live_bytes,
		     unsigned long *alloc_objs, char *module)
{
	struct gom_prof_record *r;
	unsigned int n, i;

	*live_objs = 0;
	*live_bytes = 0;
	*alloc_objs = 0;
	r = gom_profile_snapshot(&n);
	if (!r)
		return;
	for (i = 0; i < n; i++) {
		if (!stack_has(r[i].stack, fn))
			continue;
		*live_objs += r[i].live_objs;
		*live_bytes += r[i].live_bytes;
		*alloc_objs += r[i].alloc_objs;
		if (module)
			strscpy(module, r[i].module, MODULE_NAME_LEN);
	}
	kvfree(r);
}

static noinline void prof_alloc_c(void **p)
{
	unsigned int i;

	for (i = 0; i < PROF_A_OBJS; i++)
		p[i] = gom_alloc(PROF_A_SIZE, GFP_KERNEL);
	p[i] = gom_alloc(GOM_MAX_SMALL_SIZE + 1000, GFP_KERNEL);
}

/*
 * Rate 0 takes no new sample but forgets none: the samples taken before
 * leave the live figures when their objects are freed, small or large
 * (a large run's through the filter gom_prof_runs[]).
 */
static void prof_rate_off(struct kunit *test)
{
	void *a[PROF_A_OBJS + 1], *b[PROF_A_OBJS + 1];
	unsigned long allocs, live0 = READ_ONCE(gom_profile_live);
	unsigned int i, runs0, *run;
	long objs, bytes;

	gom_set_profile_rate(1);
	prof_alloc_c(a);
	gom_set_profile_rate(0);
	prof_alloc_c(b);
	for (i = 0; i <= PROF_A_OBJS; i++) {
		KUNIT_ASSERT_NOT_NULL(test, a[i]);
		KUNIT_ASSERT_NOT_NULL(test, b[i]);
	}
	prof_sum("prof_alloc_c", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, allocs, PROF_A_OBJS + 1);
	KUNIT_EXPECT_EQ(test, objs, PROF_A_OBJS + 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gom_profile_live),
			live0 + PROF_A_OBJS + 1);
	/* the sampled run is in its bucket of the filter, the other not */
	run = &gom_prof_runs[gom_prof_run_bucket(a[PROF_A_OBJS])];
	runs0 = READ_ONCE(*run);
	KUNIT_EXPECT_GE(test, runs0, 1);

	for (i = 0; i <= PROF_A_OBJS; i++) {
		gom_free(a[i]);
		gom_free(b[i]);
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(*run), runs0 - 1);
	prof_sum("prof_alloc_c", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, 0);
	KUNIT_EXPECT_EQ(test, bytes, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gom_profile_live), live0);
}

/* Not a tail call: the function's frame must be in the samples' stacks. */
static noinline void prof_alloc_bulk(void **p, int *n)
{
	*n = gom_alloc_bulk(PROF_A_SIZE, GFP_KERNEL, PROF_BULK, p);
}

/* Rate 1: a bulk allocation is as many samples as objects. */
static void prof_bulk(struct kunit *test)
{
	void *p[PROF_BULK];
	unsigned long allocs;
	long objs, bytes;
	int n;

	gom_set_profile_rate(1);
	prof_alloc_bulk(p, &n);
	KUNIT_ASSERT_EQ(test, n, PROF_BULK);
	prof_sum("prof_alloc_bulk", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, PROF_BULK);
	KUNIT_EXPECT_EQ(test, bytes, PROF_BULK * PROF_A_SIZE);
	KUNIT_EXPECT_EQ(test, allocs, PROF_BULK);
	gom_free_bulk(PROF_BULK, p);
	prof_sum("prof_alloc_bulk", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, 0);
	KUNIT_EXPECT_EQ(test, bytes, 0);
}

/* Rate 1: the profile is exact, live and cumulative, per stack. */
static void prof_exact(struct kunit *test)
{
	void *a[PROF_A_OBJS], *b[PROF_B_OBJS + 1];
	char module[MODULE_NAME_LEN] = "";
	unsigned long allocs;
	long objs, bytes;
	unsigned int i;

	gom_set_profile_rate(1);
	prof_alloc_a(a);
	prof_alloc_b(b);
	for (i = 0; i < PROF_A_OBJS; i++)
		KUNIT_ASSERT_NOT_NULL(test, a[i]);
	for (i = 0; i <= PROF_B_OBJS; i++)
		KUNIT_ASSERT_NOT_NULL(test, b[i]);

	prof_sum("prof_alloc_a", &objs, &bytes, &allocs, module);
	KUNIT_EXPECT_EQ(test, objs, PROF_A_OBJS);
	KUNIT_EXPECT_EQ(test, bytes, PROF_A_OBJS * PROF_A_SIZE);
	KUNIT_EXPECT_EQ(test, allocs, PROF_A_OBJS);
	KUNIT_EXPECT_STREQ(test, module, KBUILD_MODNAME);
	prof_sum("prof_alloc_b", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, PROF_B_OBJS + 1);
	KUNIT_EXPECT_EQ(test, bytes,
			PROF_B_OBJS * PROF_B_SIZE + GOM_MAX_SMALL_SIZE + 1000);

	/* what is freed leaves the live figures, not the cumulative ones */
	for (i = 0; i < 4; i++)
		gom_free(a[i]);
	gom_free(b[PROF_B_OBJS]);
	prof_sum("prof_alloc_a", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, PROF_A_OBJS - 4);
	KUNIT_EXPECT_EQ(test, bytes, (PROF_A_OBJS - 4) * PROF_A_SIZE);
	KUNIT_EXPECT_EQ(test, allocs, PROF_A_OBJS);
	prof_sum("prof_alloc_b", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, bytes, PROF_B_OBJS * PROF_B_SIZE);

	for (i = 4; i < PROF_A_OBJS; i++)
		gom_free(a[i]);
	for (i = 0; i < PROF_B_OBJS; i++)
		gom_free(b[i]);
	prof_sum("prof_alloc_a", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, 0);
	KUNIT_EXPECT_EQ(test, bytes, 0);
	prof_sum("prof_alloc_b", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, bytes, 0);
}

/* A run of 1, 2 or 4 pages for @i: each order comes 4 times. */
static unsigned int prof_run_pages(unsigned int i)
{
	return 1U << (i % 3);
}

/* Not a tail call: the function's frame must be in the samples' stacks. */
static noinline void prof_alloc_runs(void **p)
{
	unsigned int i;

	for (i = 0; i < PROF_RUNS; i++)
		p[i] = gom_alloc_pages(prof_run_pages(i), GFP_KERNEL);
}

/*
 * Rate 1: page runs are samples whether the run cache hands them out
 * (its countdown runs in the CPU's section, and GOM_RUN_SAMPLE carries
 * the answer back) or a refill does (the first of each order, the caches
 * being empty after prof_init()); either way page-aligned.
 */
static void prof_runs(struct kunit *test)
{
	unsigned long allocs, want = 0;
	void *p[PROF_RUNS];
	long objs, bytes;
	unsigned int i;

	gom_set_profile_rate(1);
	prof_alloc_runs(p);
	for (i = 0; i < PROF_RUNS; i++) {
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(p[i]));
		want += prof_run_pages(i) * PAGE_SIZE;
	}
	prof_sum("prof_alloc_runs", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, PROF_RUNS);
	KUNIT_EXPECT_EQ(test, bytes, want);
	KUNIT_EXPECT_EQ(test, allocs, PROF_RUNS);
	for (i = 0; i < PROF_RUNS; i++)
		gom_free_pages(p[i]);
	prof_sum("prof_alloc_runs", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, 0);
	KUNIT_EXPECT_EQ(test, bytes, 0);
	KUNIT_EXPECT_EQ(test, allocs, PROF_RUNS);
}

/* Not a tail call: the function's frame must be in the sample's stack. */
static noinline void *prof_alloc_one(void)
{
	void *p = gom_alloc(PROF_A_SIZE, GFP_KERNEL);

	OPTIMIZER_HIDE_VAR(p);
	return p;
}

/*
 * A span with one sample names it (gom_span.sampled), so that the frees
 * of its other objects, one by one or in bulk, need not look in the
 * profile; the sample's own free, in the middle of a bulk free, still
 * finds it. The objects allocated after the sample come from its span,
 * which the CPU owns (prof_init() emptied the caches).
 */
static void prof_span_one(struct kunit *test)
{
	void *x, *p[PROF_MATES], *mates[PROF_MATES], *bulk[3];
	unsigned long allocs;
	struct gom_span *s;
	unsigned int i, n = 0;
	long objs, bytes;

	gom_set_profile_rate(1);
	x = prof_alloc_one();
	gom_set_profile_rate(0);
	KUNIT_ASSERT_NOT_NULL(test, x);
	s = gom_t_span_of(x);
	KUNIT_ASSERT_NOT_NULL(test, s);
	for (i = 0; i < PROF_MATES; i++) {
		p[i] = gom_alloc(PROF_A_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		if (gom_t_span_of(p[i]) == s)
			mates[n++] = p[i];
	}
	KUNIT_ASSERT_GE_MSG(test, n, 3, "too few objects of the sample's span");
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->nsampled), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->sampled),
			gom_obj_index(s, (unsigned long)x));
	KUNIT_EXPECT_TRUE(test, gom_obj_may_sample(s, (unsigned long)x));
	KUNIT_EXPECT_FALSE(test, gom_obj_may_sample(s, (unsigned long)mates[0]));

	gom_free(mates[0]);
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(mates[0]));
	prof_sum("prof_alloc_one", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->nsampled), 1);

	bulk[0] = mates[1];
	bulk[1] = x;
	bulk[2] = mates[2];
	gom_free_bulk(ARRAY_SIZE(bulk), bulk);
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(mates[1]));
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(x));
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(mates[2]));
	prof_sum("prof_alloc_one", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, objs, 0);
	KUNIT_EXPECT_EQ(test, bytes, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->nsampled), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->mag_off), gom_mag_off(s->cls));

	for (i = 0; i < PROF_MATES; i++)
		if (p[i] != mates[0] && p[i] != mates[1] && p[i] != mates[2])
			gom_free(p[i]);
}

/* Not a tail call: the function's frame must be in the sample's stack. */
static noinline void *prof_weigh(void *obj, size_t size)
{
	obj = gom_profile_alloc(obj, size, gom_size_class(size), _RET_IP_);
	OPTIMIZER_HIDE_VAR(obj);
	return obj;
}

/*
 * Sample @obj of @size at @rate, as if the countdown had chosen it, and
 * check the live bytes it stands for, @want to within 1%; then free it,
 * which leaves its record as the CPU's spare for the next sample.
 */
static void prof_weigh_one(struct kunit *test, void *obj, size_t size,
			   unsigned long rate, long want)
{
	unsigned long allocs;
	long objs, bytes, off;

	gom_set_profile_rate(rate);
	obj = prof_weigh(obj, size);
	prof_sum("prof_weigh", &objs, &bytes, &allocs, NULL);
	off = abs(bytes - want);
	KUNIT_EXPECT_LT_MSG(test, off * 100, want,
			    "%zu bytes at rate %lu: %ld bytes live, not %ld",
			    size, rate, bytes, want);
	gom_set_profile_rate(0);
	gom_free(obj);
	prof_sum("prof_weigh", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, bytes, 0);
}

/*
 * A spare record keeps the weight of its last sample; one of another
 * size, or at another rate, must get its own: size / (1 - exp(-size /
 * rate)) bytes.
 */
static void prof_weight_kept(struct kunit *test)
{
	void *a, *b, *c, *d;

	gom_set_profile_rate(0);
	/*
	 * A CPU's memo is freed without a look for a sample, and only a
	 * sample taken by gom_alloc() ends it, not gom_profile_alloc()
	 * called as below: a, b and c come from one CPU, whose memo the
	 * last pair ends.
	 */
	migrate_disable();
	a = gom_alloc(64, GFP_KERNEL);
	b = gom_alloc(1000, GFP_KERNEL);
	c = gom_alloc(1000, GFP_KERNEL);
	d = gom_alloc(16, GFP_KERNEL);
	gom_free(d);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);

	prof_weigh_one(test, a, 64, 4096, 4128);
	prof_weigh_one(test, b, 1000, 4096, 4616);
	prof_weigh_one(test, c, 1000, 8192, 8702);
}

static noinline bool prof_alloc_big(void **p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		p[i] = gom_alloc(PROF_BIG_SIZE, GFP_KERNEL);
		if (!p[i])
			return false;
	}
	return true;
}

/* The default rate: the estimate of 64 MiB live is unbiased. */
static void prof_estimate(struct kunit *test)
{
	unsigned int n = PROF_BIG / PROF_BIG_SIZE, t, i;
	long objs, bytes, est[PROF_TRIALS], sum = 0;
	unsigned long allocs;
	void **p;

	p = vmalloc(array_size(n, sizeof(*p)));
	KUNIT_ASSERT_NOT_NULL(test, p);
	gom_set_profile_rate(524288);
	for (t = 0; t < PROF_TRIALS; t++) {
		KUNIT_ASSERT_TRUE(test, prof_alloc_big(p, n));
		prof_sum("prof_alloc_big", &objs, &bytes, &allocs, NULL);
		est[t] = bytes;
		sum += bytes;
		for (i = 0; i < n; i++)
			gom_free(p[i]);
		kunit_info(test, "trial %u: estimated %ld of %lu bytes live\n",
			   t, est[t], PROF_BIG);
		/* no single run is far off */
		KUNIT_EXPECT_LT(test, abs(est[t] - (long)PROF_BIG),
				(long)PROF_BIG * 35 / 100);
	}
	vfree(p);
	KUNIT_EXPECT_LT(test, abs(sum / PROF_TRIALS - (long)PROF_BIG),
			(long)PROF_BIG / 10);
	prof_sum("prof_alloc_big", &objs, &bytes, &allocs, NULL);
	KUNIT_EXPECT_EQ(test, bytes, 0);
}

/*
 * The unwinder's memo (mod/unwind.c). unw_here() saves its stack through
 * gom_unwind_save() and, right after, through the kernel's own unwinder:
 * whatever the memo did, the two must name the same frames.
 */
static struct {
	unsigned long ref[GOM_UNWIND_MAX];
	unsigned int nref;
	unsigned long *ret;		/* where the walk started */
	int tag;
} unw;

static noinline depot_stack_handle_t unw_here(int tag)
{
	depot_stack_handle_t h;
	unsigned long caller;

	unw.ret = (unsigned long *)__builtin_frame_address(0) + 1;
	h = gom_unwind_save(unw.ret, GFP_ATOMIC, &caller);
	unw.nref = stack_trace_save(unw.ref, ARRAY_SIZE(unw.ref), 0);
	unw.tag = tag;
	OPTIMIZER_HIDE_VAR(h);
	return h;
}

/* Two callers at the same depth: the memo must tell them apart. */
static noinline depot_stack_handle_t unw_mid(int tag)
{
	depot_stack_handle_t h = unw_here(tag);

	OPTIMIZER_HIDE_VAR(h);
	return h;
}

static noinline depot_stack_handle_t unw_path_a(void)
{
	depot_stack_handle_t h = unw_mid(1);

	OPTIMIZER_HIDE_VAR(h);
	return h;
}

static noinline depot_stack_handle_t unw_path_b(void)
{
	depot_stack_handle_t h = unw_mid(2);

	OPTIMIZER_HIDE_VAR(h);
	return h;
}

/* Path a or b ('f': b after gom_unwind_forget()), from one call site. */
static noinline depot_stack_handle_t unw_call(char step)
{
	depot_stack_handle_t h;

	if (step == 'f')
		gom_unwind_forget();
	h = step == 'a' ? unw_path_a() : unw_path_b();
	OPTIMIZER_HIDE_VAR(h);
	return h;
}

/*
 * @h holds the frames the kernel's unwinder saw from unw_here()'s caller,
 * up to an interrupt's entry (the stack depot keeps no more).
 */
static void unw_expect_ref(struct kunit *test, depot_stack_handle_t h)
{
	unsigned int n, i, want = min_t(unsigned int, unw.nref - 1,
					GOM_PROF_DEPTH);
	unsigned long *e;

	want = filter_irq_stacks(unw.ref + 1, want);
	KUNIT_ASSERT_NE(test, h, 0);
	n = stack_depot_fetch(h, &e);
	KUNIT_EXPECT_EQ(test, n, want);
	for (i = 0; i < min(n, want); i++)
		KUNIT_EXPECT_EQ_MSG(test, e[i], unw.ref[i + 1], "frame %u", i);
}

/*
 * The same frames are walked once; a caller that differs two frames out
 * is noticed (same start, same first return address), and so is
 * gom_unwind_forget(). Every answer is the unwinder's own.
 */
static void unwind_memo(struct kunit *test)
{
	static const char steps[] = "aabbfb";
	static const int walks[] = { 1, 0, 1, 0, 1, 0 };
	depot_stack_handle_t h[ARRAY_SIZE(steps) - 1];
	long w0, w, hits0, hits;
	unsigned long *ret[2];
	unsigned int i;

	if (!IS_ENABLED(CONFIG_UNWINDER_ORC))
		kunit_skip(test, "no ORC unwinder: every sample walks");
	migrate_disable();		/* the memo is per CPU */
	for (i = 0; i < ARRAY_SIZE(h); i++) {
		w0 = atomic_long_read(&gom_unwind_walks);
		hits0 = atomic_long_read(&gom_unwind_hits);
		h[i] = unw_call(steps[i]);
		w = atomic_long_read(&gom_unwind_walks) - w0;
		hits = atomic_long_read(&gom_unwind_hits) - hits0;
		KUNIT_EXPECT_EQ_MSG(test, w, walks[i], "step %u", i);
		KUNIT_EXPECT_EQ_MSG(test, hits, 1 - walks[i], "step %u", i);
		unw_expect_ref(test, h[i]);
		ret[steps[i] != 'a'] = unw.ret;
	}
	migrate_enable();
	KUNIT_EXPECT_EQ(test, h[1], h[0]);
	KUNIT_EXPECT_NE(test, h[2], h[0]);
	KUNIT_EXPECT_EQ(test, h[3], h[2]);
	KUNIT_EXPECT_EQ(test, h[4], h[2]);
	KUNIT_EXPECT_EQ(test, h[5], h[2]);
	if (ret[0] != ret[1])
		kunit_skip(test,
			   "paths a and b got different frames: the check of a deeper frame went unused");
}

static depot_stack_handle_t unw_irq_h[2];

static void unw_irq(struct irq_work *w)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(unw_irq_h); i++)
		unw_irq_h[i] = unw_here(3);
}

/* In hard interrupt context the memo is not used: both calls walk. */
static void unwind_memo_irq(struct kunit *test)
{
	struct irq_work w = IRQ_WORK_INIT_HARD(unw_irq);
	long w0 = atomic_long_read(&gom_unwind_walks);
	long hits0 = atomic_long_read(&gom_unwind_hits);

	preempt_disable();
	irq_work_queue(&w);
	preempt_enable();
	irq_work_sync(&w);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_unwind_walks) - w0, 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_unwind_hits), hits0);
	KUNIT_EXPECT_NE(test, unw_irq_h[0], 0);
	unw_expect_ref(test, unw_irq_h[1]);
}

static struct kunit_case prof_cases[] = {
	KUNIT_CASE(prof_exact),
	KUNIT_CASE(prof_rate_off),
	KUNIT_CASE(prof_bulk),
	KUNIT_CASE(prof_runs),
	KUNIT_CASE(prof_span_one),
	KUNIT_CASE(prof_weight_kept),
	KUNIT_CASE(prof_estimate),
	KUNIT_CASE(unwind_memo),
	KUNIT_CASE(unwind_memo_irq),
	{}
};

static struct kunit_suite prof_suite = {
	.name = "gomalloc_profile",
	.init = prof_init,
	.exit = prof_exit,
	.test_cases = prof_cases,
};

kunit_test_suite(prof_suite);

MODULE_IMPORT_NS(GOMALLOC_INTERNAL);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit: gomalloc's sampled heap profile");
