// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_stack: level 1 stacks, frames and their statistics.
 *
 * The cases read the level 1 statistics, and the heap's, as deltas from a
 * baseline taken at their start, from drained caches; nothing else in a
 * test kernel uses gomalloc stacks, so the deltas are exact.
 */
#include <kunit/test.h>
#include <linux/irqflags.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <gomalloc.h>

#include "internal.h"

#define SEG_MIN		2048

static struct gom_stack_stats read_stats(void)
{
	struct gom_stack_stats s;

	gom_stack_read_stats(&s);
	return s;
}

/* Marks are opaque (__bitwise); compare their values. */
static unsigned long mark_val(gom_frame_t mark)
{
	return (__force unsigned long)mark;
}

/* The mark a frame pushed now would get: where the top is. */
static unsigned long top_mark(struct gom_stack *s)
{
	return mark_val(gom_frame_push(s));
}

static struct gom_stack *new_stack(struct kunit *test, size_t max_bytes)
{
	struct gom_stack *s = gom_stack_create(max_bytes, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	return s;
}

static u8 pattern(unsigned int i, unsigned int j)
{
	return (u8)(i * 31 + j * 7 + 1);
}

static void fill(void *p, size_t size, unsigned int i)
{
	u8 *b = p;
	size_t j;

	for (j = 0; j < size; j++)
		b[j] = pattern(i, j);
}

static bool check(const void *p, size_t size, unsigned int i)
{
	const u8 *b = p;
	size_t j;

	for (j = 0; j < size; j++)
		if (b[j] != pattern(i, j))
			return false;
	return true;
}

static void expect_baseline(struct kunit *test, struct gom_stack_stats *base)
{
	struct gom_stack_stats now = read_stats();

	KUNIT_EXPECT_EQ(test, now.stacks, base->stacks);
	KUNIT_EXPECT_EQ(test, now.segments, base->segments);
	KUNIT_EXPECT_EQ(test, now.bytes_reserved, base->bytes_reserved);
	KUNIT_EXPECT_EQ(test, now.bytes_inuse, base->bytes_inuse);
}

/* What the heap has handed out: small objects and large page runs. */
struct heap_usage {
	unsigned long objects;
	unsigned long large;
};

static struct heap_usage read_heap(void)
{
	struct heap_usage u = { };
	struct gom_class_stats cs;
	struct gom_heap_stats hs;
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		gom_class_stats(cls, &cs);
		u.objects += cs.objects_inuse;
	}
	gom_heap_stats(&hs);
	u.large = hs.large_spans;
	return u;
}

static void expect_heap(struct kunit *test, struct heap_usage *base)
{
	struct heap_usage now = read_heap();

	KUNIT_EXPECT_EQ(test, now.objects, base->objects);
	KUNIT_EXPECT_EQ(test, now.large, base->large);
}

static void stack_create_destroy(struct kunit *test)
{
	struct gom_stack_stats base = read_stats(), now;
	struct gom_stack *s;

	s = new_stack(test, 0);
	now = read_stats();
	KUNIT_EXPECT_EQ(test, now.stacks, base.stacks + 1);
	KUNIT_EXPECT_EQ(test, now.segments, base.segments + 1);
	KUNIT_EXPECT_EQ(test, now.bytes_reserved, base.bytes_reserved + SEG_MIN);
	KUNIT_EXPECT_EQ(test, now.bytes_inuse, base.bytes_inuse);
	gom_stack_destroy(s);
	expect_baseline(test, &base);

	gom_stack_destroy(NULL);
	KUNIT_EXPECT_NULL(test, gom_stack_create(SEG_MIN - 1, GFP_KERNEL));
	s = new_stack(test, SEG_MIN);
	KUNIT_EXPECT_NULL(test, gom_frame_alloc(s, SEG_MIN, GFP_KERNEL |
						__GFP_NOWARN));
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, gom_frame_alloc(s, 64, GFP_KERNEL));
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static void stack_bump_align(struct kunit *test)
{
	struct gom_stack *s = new_stack(test, 0);
	unsigned long prev = 0, align;
	size_t size, prev_size = 0;
	char *p;

	for (size = 1; size <= 24; size++) {
		p = gom_frame_alloc(s, size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p, 8));
		if (prev)
			KUNIT_EXPECT_EQ(test, (unsigned long)p,
					prev + ALIGN(prev_size, 8));
		prev = (unsigned long)p;
		prev_size = size;
	}
	for (align = 1; align <= PAGE_SIZE; align <<= 1) {
		p = gom_frame_alloc(s, 1, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
		p = gom_frame_alloc_aligned(s, 40, align, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p,
						   max(align, 8UL)));
		memset(p, 0x5a, 40);
	}
	/* Large aligned requests go to dedicated blocks. */
	p = gom_frame_alloc_aligned(s, 3 * PAGE_SIZE, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p, PAGE_SIZE));
	memset(p, 0x5a, 3 * PAGE_SIZE);
	gom_stack_destroy(s);
}

static void stack_zero_size_and_gfp_zero(struct kunit *test)
{
	struct gom_stack *s = new_stack(test, 0);
	gom_frame_t m = gom_frame_push(s);
	char *p, *q;

	KUNIT_EXPECT_PTR_EQ(test, gom_frame_alloc(s, 0, GFP_KERNEL),
			    (void *)ZERO_SIZE_PTR);
	KUNIT_EXPECT_PTR_EQ(test,
			    gom_frame_alloc_aligned(s, 0, 64, GFP_KERNEL),
			    (void *)ZERO_SIZE_PTR);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));

	p = gom_frame_alloc(s, 200, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	memset(p, 0xa5, 200);
	gom_frame_pop(s, m);
	q = gom_frame_alloc(s, 200, GFP_KERNEL | __GFP_ZERO);
	KUNIT_EXPECT_PTR_EQ(test, q, p);
	KUNIT_EXPECT_NULL(test, memchr_inv(q, 0, 200));
	memset(q, 0xa5, 200);
	gom_frame_pop(s, m);
	q = gom_frame_alloc_aligned(s, 200, 64, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, q);
	KUNIT_EXPECT_NULL(test, memchr_inv(q, 0, 200));

	/* A new segment and a dedicated block are cleared too. */
	p = gom_frame_alloc(s, 900, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	memset(p, 0xa5, 900);
	p = gom_frame_alloc(s, 900, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0, 900));
	p = gom_frame_alloc(s, 30000, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0, 30000));
	gom_stack_destroy(s);
}

#define DEPTH 1000

static void stack_nesting(struct kunit *test)
{
	struct gom_stack_stats base = read_stats();
	struct gom_stack *s = new_stack(test, 0);
	gom_frame_t *marks;
	u32 **ptrs;
	int i;

	marks = kunit_kcalloc(test, DEPTH, sizeof(*marks), GFP_KERNEL);
	ptrs = kunit_kcalloc(test, DEPTH, sizeof(*ptrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, marks);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ptrs);
	for (i = 0; i < DEPTH; i++) {
		marks[i] = gom_frame_push(s);
		ptrs[i] = gom_frame_alloc(s, 4 * sizeof(u32) + i % 5 * 8,
					  GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ptrs[i]);
		ptrs[i][0] = i;
		ptrs[i][3] = ~i;
	}
	KUNIT_EXPECT_GT(test, read_stats().segments, base.segments + 3);
	for (i = DEPTH - 1; i >= 0; i--) {
		KUNIT_ASSERT_EQ(test, ptrs[i][0], (u32)i);
		KUNIT_ASSERT_EQ(test, ptrs[i][3], (u32)~i);
		gom_frame_pop(s, marks[i]);
		/* The top is back exactly where the frame opened. */
		KUNIT_ASSERT_EQ(test, top_mark(s), mark_val(marks[i]));
		if (i > 0)
			KUNIT_ASSERT_EQ(test, ptrs[i - 1][0], (u32)(i - 1));
	}
	KUNIT_EXPECT_EQ(test, read_stats().bytes_inuse, base.bytes_inuse);
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static void stack_pop_exact(struct kunit *test)
{
	struct gom_stack_stats base = read_stats();
	struct gom_stack *s = new_stack(test, 0);
	gom_frame_t m0, m1;
	char *a, *b, *c;

	m0 = gom_frame_push(s);
	a = gom_frame_alloc(s, 40, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	fill(a, 40, 1);
	m1 = gom_frame_push(s);
	b = gom_frame_alloc(s, 100, GFP_KERNEL);
	c = gom_frame_alloc(s, 200, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, c);
	KUNIT_EXPECT_PTR_EQ(test, c, b + 104);
	memset(b, 0xff, 100);
	memset(c, 0xff, 200);

	gom_frame_pop(s, m1);
	KUNIT_EXPECT_EQ(test, read_stats().bytes_inuse, base.bytes_inuse + 40);
	KUNIT_EXPECT_TRUE(test, check(a, 40, 1));
	KUNIT_EXPECT_PTR_EQ(test, gom_frame_alloc(s, 300, GFP_KERNEL), b);
	gom_frame_pop(s, m1);

	gom_frame_pop(s, m0);
	KUNIT_EXPECT_EQ(test, read_stats().bytes_inuse, base.bytes_inuse);
	KUNIT_EXPECT_PTR_EQ(test, gom_frame_alloc(s, 8, GFP_KERNEL), a);
	gom_frame_pop(s, m0);
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

#define NR_CHUNKS 4000

static void stack_growth(struct kunit *test)
{
	struct gom_stack_stats base = read_stats(), now;
	struct heap_usage heap = read_heap();
	struct gom_stack *s = new_stack(test, 0);
	size_t total = 0, size;
	void **ptrs;
	int i;

	ptrs = kunit_kcalloc(test, NR_CHUNKS, sizeof(*ptrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ptrs);
	for (i = 0; i < NR_CHUNKS; i++) {
		size = 8 + (i * 37) % 249;
		ptrs[i] = gom_frame_alloc(s, size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ptrs[i]);
		fill(ptrs[i], size, i);
		total += ALIGN(size, 8);
		/* The first chunk stays put while the stack grows. */
		KUNIT_ASSERT_TRUE(test, check(ptrs[0], 8, 0));
	}
	now = read_stats();
	/* 2K, 4K, ... 512K: at least 9 segments for over 500K. */
	KUNIT_EXPECT_GE(test, now.segments, base.segments + 9);
	KUNIT_EXPECT_GE(test, now.bytes_reserved, base.bytes_reserved + (long)total);
	for (i = 0; i < NR_CHUNKS; i++)
		KUNIT_EXPECT_TRUE(test, check(ptrs[i], 8 + (i * 37) % 249, i));
	/* high_water saw at least what was in use before the last segment. */
	KUNIT_EXPECT_GE(test, now.high_water, base.bytes_inuse + (long)total / 2);
	/* The 256K and 512K segments are large page runs of the heap. */
	KUNIT_EXPECT_GE(test, read_heap().large, heap.large + 2);
	gom_stack_destroy(s);
	expect_baseline(test, &base);
	expect_heap(test, &heap);
	KUNIT_EXPECT_GE(test, read_stats().high_water, now.high_water);
}

static void grow_one(struct kunit *test, struct gom_stack *s, long *segments)
{
	long start = read_stats().segments;
	int i;

	for (i = 0; i < 10000 && read_stats().segments == start; i++)
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gom_frame_alloc(s, 256,
								   GFP_KERNEL));
	*segments = read_stats().segments - start;
}

/* Fill an empty bottom segment with 256-byte chunks and go one past it. */
static void cross_bottom(struct kunit *test, struct gom_stack *s)
{
	int i;

	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gom_frame_alloc(s, 256,
								   GFP_KERNEL));
}

static void stack_spare(struct kunit *test)
{
	struct gom_stack_stats base = read_stats(), now;
	struct gom_stack *s = new_stack(test, 0);
	gom_frame_t m = gom_frame_push(s);
	long more;
	int i;

	grow_one(test, s, &more);
	KUNIT_ASSERT_EQ(test, more, 1L);
	gom_frame_pop(s, m);
	now = read_stats();
	KUNIT_EXPECT_EQ(test, now.segments, base.segments + 2);
	KUNIT_EXPECT_EQ(test, now.bytes_reserved,
			base.bytes_reserved + SEG_MIN + 2 * SEG_MIN);
	/* Crossing the boundary again and again reuses the spare. */
	for (i = 0; i < 20; i++) {
		cross_bottom(test, s);
		gom_frame_pop(s, m);
	}
	KUNIT_EXPECT_EQ(test, read_stats().segments, now.segments);
	KUNIT_EXPECT_EQ(test, read_stats().bytes_reserved, now.bytes_reserved);

	/* Popping across four segments keeps one spare, the lowest. */
	for (i = 0; i < 3; i++) {
		grow_one(test, s, &more);
		KUNIT_ASSERT_EQ(test, more, 1L);
	}
	gom_frame_pop(s, m);
	now = read_stats();
	KUNIT_EXPECT_EQ(test, now.segments, base.segments + 2);
	KUNIT_EXPECT_EQ(test, now.bytes_reserved,
			base.bytes_reserved + SEG_MIN + 2 * SEG_MIN);
	KUNIT_EXPECT_EQ(test, now.bytes_inuse, base.bytes_inuse);
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static void stack_dedicated(struct kunit *test)
{
	struct gom_stack_stats base = read_stats(), now;
	struct gom_stack *s = new_stack(test, 0);
	gom_frame_t m, m2;
	char *a, *big, *b, *big2;

	m = gom_frame_push(s);
	a = gom_frame_alloc(s, 64, GFP_KERNEL);
	big = gom_frame_alloc(s, 1500, GFP_KERNEL);
	b = gom_frame_alloc(s, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, big);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	fill(big, 1500, 3);
	now = read_stats();
	KUNIT_EXPECT_EQ(test, now.segments, base.segments + 2);
	KUNIT_EXPECT_GE(test, now.bytes_reserved,
			base.bytes_reserved + SEG_MIN + 1500);
	/* Small allocations go on in the same segment, past one slot. */
	KUNIT_EXPECT_PTR_EQ(test, b, a + 64 + 8);

	m2 = gom_frame_push(s);
	big2 = gom_frame_alloc(s, 5000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, big2);
	fill(big2, 5000, 4);
	KUNIT_EXPECT_EQ(test, read_stats().segments, base.segments + 3);
	gom_frame_pop(s, m2);
	now = read_stats();
	KUNIT_EXPECT_EQ(test, now.segments, base.segments + 2);
	KUNIT_EXPECT_EQ(test, now.bytes_inuse, base.bytes_inuse + 64 + 8 + 1504 + 64);
	KUNIT_EXPECT_TRUE(test, check(big, 1500, 3));
	gom_frame_pop(s, m);
	expect_baseline(test, &(struct gom_stack_stats){
		.stacks = base.stacks + 1,
		.segments = base.segments + 1,
		.bytes_reserved = base.bytes_reserved + SEG_MIN,
		.bytes_inuse = base.bytes_inuse,
	});
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static void stack_limit(struct kunit *test)
{
	const size_t max = 16 * 1024;
	struct gom_stack_stats base = read_stats();
	struct gom_stack *s = new_stack(test, max);
	gom_frame_t m = gom_frame_push(s);
	int n = 0, again = 0, i;
	char *ptrs[64];

	while (n < ARRAY_SIZE(ptrs)) {
		ptrs[n] = gom_frame_alloc(s, 512, GFP_KERNEL | __GFP_NOWARN);
		if (!ptrs[n])
			break;
		fill(ptrs[n], 512, n);
		n++;
	}
	KUNIT_ASSERT_LT(test, n, (int)ARRAY_SIZE(ptrs));
	KUNIT_EXPECT_GT(test, n, 16);
	KUNIT_EXPECT_LE(test, read_stats().bytes_reserved,
			base.bytes_reserved + (long)max);
	/* Refused again, once with the warning, and for a dedicated block. */
	KUNIT_EXPECT_NULL(test, gom_frame_alloc(s, 512, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, gom_frame_alloc(s, max, GFP_KERNEL |
						__GFP_NOWARN));
	KUNIT_EXPECT_NULL(test, gom_frame_alloc(s, 12000, GFP_KERNEL |
						__GFP_NOWARN));
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE(test, check(ptrs[i], 512, i));

	/* Still usable: pop, and the same amount fits again. */
	gom_frame_pop(s, m);
	while (again < ARRAY_SIZE(ptrs) &&
	       gom_frame_alloc(s, 512, GFP_KERNEL | __GFP_NOWARN))
		again++;
	KUNIT_EXPECT_EQ(test, again, n);
	gom_frame_pop(s, m);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, gom_frame_alloc(s, 4000,
							   GFP_KERNEL));
	KUNIT_EXPECT_LE(test, read_stats().bytes_reserved,
			base.bytes_reserved + (long)max);
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static int scope_early_return(struct gom_stack *s, bool fail, char **out)
{
	GOM_FRAME(s);
	char *p = gom_frame_alloc(s, 128, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	*out = p;
	if (fail)
		return -EINVAL;
	memset(p, 1, 128);
	return 0;
}

static int scope_goto(struct gom_stack *s, int fail_at)
{
	int i, ret = 0;

	for (i = 0; i < 8; i++) {
		GOM_FRAME(s);
		char *p = gom_frame_alloc(s, 700, GFP_KERNEL);

		if (!p) {
			ret = -ENOMEM;
			goto out;
		}
		memset(p, i, 700);
		if (i == fail_at) {
			ret = -EIO;
			goto out;
		}
		if (i & 1)
			continue;
	}
out:
	return ret;
}

static void stack_scope(struct kunit *test)
{
	struct gom_stack_stats base = read_stats();
	struct gom_stack *s = new_stack(test, 0);
	gom_frame_t m;
	char *p1 = NULL, *p2 = NULL;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gom_frame_alloc(s, 24, GFP_KERNEL));
	m = gom_frame_push(s);
	KUNIT_EXPECT_EQ(test, scope_early_return(s, false, &p1), 0);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));
	KUNIT_EXPECT_EQ(test, scope_early_return(s, true, &p2), -EINVAL);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));
	KUNIT_EXPECT_PTR_EQ(test, p1, p2);

	KUNIT_EXPECT_EQ(test, scope_goto(s, 5), -EIO);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));
	KUNIT_EXPECT_EQ(test, scope_goto(s, -1), 0);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));
	/* 700-byte frames, one at a time, never needed a second segment. */
	KUNIT_EXPECT_EQ(test, read_stats().segments, base.segments + 1);
	KUNIT_EXPECT_EQ(test, read_stats().bytes_inuse, base.bytes_inuse + 24);
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static void stack_atomic(struct kunit *test)
{
	struct gom_stack_stats base = read_stats();
	int allocated = 0, intact = 0, i;
	struct gom_stack *s, *s2;
	void *big = NULL;
	unsigned long *p;
	gom_frame_t m;

	s = new_stack(test, 0);
	local_irq_disable();
	s2 = gom_stack_create(0, GFP_ATOMIC);
	m = gom_frame_push(s);
	for (i = 0; i < 128; i++) {
		p = gom_frame_alloc(s, 512, GFP_ATOMIC);
		if (!p)
			break;
		*p = i;
		allocated++;
	}
	big = gom_frame_alloc(s, 20000, GFP_ATOMIC | __GFP_ZERO);
	if (big && !memchr_inv(big, 0, 20000))
		intact = 1;
	gom_frame_pop(s, m);
	gom_stack_destroy(s2);
	local_irq_enable();

	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, s2);
	KUNIT_EXPECT_EQ(test, allocated, 128);
	KUNIT_EXPECT_EQ(test, intact, 1);
	KUNIT_EXPECT_EQ(test, read_stats().bytes_inuse, base.bytes_inuse);
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static void stack_invalid_align(struct kunit *test)
{
	static const size_t bad[] = { 0, 3, 12, 24, 100, 2 * PAGE_SIZE };
	struct gom_stack_stats base = read_stats();
	struct gom_stack *s = new_stack(test, 0);
	gom_frame_t m = gom_frame_push(s);
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_NULL(test, gom_frame_alloc_aligned(s, 64, bad[i],
								GFP_KERNEL));
		KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));
	}
	KUNIT_EXPECT_EQ(test, read_stats().segments, base.segments + 1);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test,
				     gom_frame_alloc_aligned(s, 64, 64,
							     GFP_KERNEL));
	gom_stack_destroy(s);
	expect_baseline(test, &base);
}

static void stack_bad_mark(struct kunit *test)
{
	struct gom_stack *s = new_stack(test, 0);
	struct gom_stack *other = new_stack(test, 0);
	gom_frame_t m, newer, high, top;
	long more;

	m = gom_frame_push(s);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gom_frame_alloc(s, 64, GFP_KERNEL));
	newer = gom_frame_push(s);
	gom_frame_pop(s, m);
	/* A mark above the top is ignored. */
	gom_frame_pop(s, newer);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));

	/* A mark in a segment popped off is ignored. */
	grow_one(test, s, &more);
	KUNIT_ASSERT_EQ(test, more, 1L);
	high = gom_frame_push(s);
	gom_frame_pop(s, m);
	gom_frame_pop(s, high);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));
	/* Even once the spare is back in use: it has a new generation. */
	more = read_stats().segments;
	cross_bottom(test, s);
	KUNIT_EXPECT_EQ(test, read_stats().segments, more);
	top = gom_frame_push(s);
	gom_frame_pop(s, high);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(top));

	/* Another stack's mark, and a misaligned one. */
	gom_frame_pop(s, gom_frame_push(other));
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(top));
	gom_frame_pop(s, (__force gom_frame_t)(mark_val(m) + 4));
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(top));
	gom_frame_pop(s, m);
	KUNIT_EXPECT_EQ(test, top_mark(s), mark_val(m));
	gom_stack_destroy(other);
	gom_stack_destroy(s);
}

static void stack_no_leak(struct kunit *test)
{
	struct gom_stack_stats base = read_stats();
	struct heap_usage heap = read_heap();
	struct gom_stack *s[8];
	int i, j;

	for (i = 0; i < ARRAY_SIZE(s); i++) {
		s[i] = new_stack(test, i & 1 ? 64 * 1024 : 0);
		gom_frame_push(s[i]);
		for (j = 0; j < 100 * (i + 1); j++)
			gom_frame_alloc(s[i], 8 + j % 300, GFP_KERNEL |
					__GFP_NOWARN);
		gom_frame_alloc(s[i], 3000 * (i + 1), GFP_KERNEL |
				__GFP_NOWARN);
		gom_frame_push(s[i]);
		gom_frame_alloc_aligned(s[i], 100, 256, GFP_KERNEL |
					__GFP_NOWARN);
	}
	KUNIT_EXPECT_EQ(test, read_stats().stacks, base.stacks + 8);
	KUNIT_EXPECT_GT(test, read_stats().segments, base.segments + 16);
	KUNIT_EXPECT_GT(test, read_heap().objects, heap.objects + 16);
	for (i = 0; i < ARRAY_SIZE(s); i++)
		gom_stack_destroy(s[i]);
	expect_baseline(test, &base);
	expect_heap(test, &heap);
}

static int stack_init(struct kunit *test)
{
	gom_shrink_all();
	return 0;
}

static struct kunit_case gomalloc_stack_cases[] = {
	KUNIT_CASE(stack_create_destroy),
	KUNIT_CASE(stack_bump_align),
	KUNIT_CASE(stack_zero_size_and_gfp_zero),
	KUNIT_CASE(stack_nesting),
	KUNIT_CASE(stack_pop_exact),
	KUNIT_CASE(stack_growth),
	KUNIT_CASE(stack_spare),
	KUNIT_CASE(stack_dedicated),
	KUNIT_CASE(stack_limit),
	KUNIT_CASE(stack_scope),
	KUNIT_CASE(stack_atomic),
	KUNIT_CASE(stack_invalid_align),
	KUNIT_CASE(stack_bad_mark),
	KUNIT_CASE(stack_no_leak),
	{}
};

static struct kunit_suite gomalloc_stack_suite = {
	.name = "gomalloc_stack",
	.init = stack_init,
	.test_cases = gomalloc_stack_cases,
};

kunit_test_suite(gomalloc_stack_suite);

MODULE_DESCRIPTION("KUnit tests for gomalloc level 1 stacks");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
