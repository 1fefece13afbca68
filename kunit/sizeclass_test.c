// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_sizeclass: the size-class table against the
 * properties the allocator relies on (mod/sizeclasses.h,
 * scripts/mksizeclasses.py): the rounding bound, preferred and minimum
 * spans, the object index that validates pointers, and real allocations.
 */
#include <kunit/test.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "internal.h"

/* Every size 1..GOM_MAX_SMALL_SIZE maps to the smallest class that fits. */
static void sizeclass_size_maps_to_smallest_class(struct kunit *test)
{
	size_t size;

	for (size = 1; size <= GOM_MAX_SMALL_SIZE; size++) {
		unsigned int cls = gom_size_class(size);

		KUNIT_ASSERT_GE_MSG(test, cls, 1U, "size %zu", size);
		KUNIT_ASSERT_LT_MSG(test, cls, (unsigned int)GOM_NR_CLASSES,
				    "size %zu", size);
		KUNIT_ASSERT_GE_MSG(test, (size_t)gom_classes[cls].size, size,
				    "size %zu in class %u", size, cls);
		if (cls > 1)
			KUNIT_ASSERT_LT_MSG(test,
					    (size_t)gom_classes[cls - 1].size,
					    size, "size %zu in class %u", size,
					    cls);
	}
}

/* Sizes above the classes are large (class 0). */
static void sizeclass_large_sizes_have_no_class(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, gom_size_class(GOM_MAX_SMALL_SIZE + 1), 0U);
	KUNIT_EXPECT_EQ(test, gom_size_class(GOM_MAX_SMALL_SIZE + 4096), 0U);
	KUNIT_EXPECT_EQ(test, gom_size_class(1UL << 30), 0U);
	KUNIT_EXPECT_EQ(test, gom_size_class(SIZE_MAX), 0U);
}

/* Class sizes strictly increase in 8-byte multiples up to the maximum. */
static void sizeclass_sizes_increasing_multiples_of_8(struct kunit *test)
{
	unsigned int cls;

	KUNIT_EXPECT_EQ(test, gom_classes[0].size, 0U);
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		KUNIT_EXPECT_EQ_MSG(test, gom_classes[cls].size % 8, 0U,
				    "class %u", cls);
		KUNIT_EXPECT_GT_MSG(test, gom_classes[cls].size,
				    gom_classes[cls - 1].size, "class %u", cls);
	}
	KUNIT_EXPECT_EQ(test, gom_classes[GOM_NR_CLASSES - 1].size,
			(u32)GOM_MAX_SMALL_SIZE);
}

/*
 * Above 128 bytes no class gives more than 1.125 times the smallest
 * request it serves: one byte above the previous class.
 */
static void sizeclass_growth_bounded(struct kunit *test)
{
	unsigned int cls;

	for (cls = 2; cls < GOM_NR_CLASSES; cls++) {
		u32 size = gom_classes[cls].size;
		u32 smallest = gom_classes[cls - 1].size + 1;

		if (size <= 128)
			continue;
		KUNIT_EXPECT_LE_MSG(test, (u64)size * 8, (u64)smallest * 9,
				    "class %u (%u bytes) serves %u bytes", cls,
				    size, smallest);
	}
}

/* Preferred spans are sized so that their tail wastes at most 12.5%. */
static void sizeclass_tail_waste_bounded(struct kunit *test)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		const struct gom_class *k = &gom_classes[cls];
		unsigned long span = (unsigned long)k->npages * PAGE_SIZE;

		KUNIT_EXPECT_GE_MSG(test, k->npages, 1U, "class %u", cls);
		KUNIT_EXPECT_LE_MSG(test, k->npages, (u16)GOM_MAX_SPAN_PAGES,
				    "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, (unsigned long)k->nobjs,
				    span / k->size, "class %u", cls);
		KUNIT_EXPECT_LE_MSG(test, k->nobjs, (u16)GOM_MAX_SPAN_OBJS,
				    "class %u", cls);
		KUNIT_EXPECT_LE_MSG(test, (span - (unsigned long)k->nobjs *
					   k->size) * 8, span,
				    "class %u tail", cls);
	}
}

/*
 * The minimum span, used when the heap has no block of the preferred
 * size: one page up to PAGE_SIZE, the object rounded up to pages above.
 */
static void sizeclass_min_spans(struct kunit *test)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		const struct gom_class *k = &gom_classes[cls];
		unsigned int want = k->size <= PAGE_SIZE ? 1 :
				    DIV_ROUND_UP(k->size, PAGE_SIZE);

		KUNIT_EXPECT_EQ_MSG(test, (unsigned int)k->min_pages, want,
				    "class %u (%u bytes)", cls, k->size);
		KUNIT_EXPECT_EQ_MSG(test, (unsigned long)k->min_nobjs,
				    (unsigned long)k->min_pages * PAGE_SIZE /
				    k->size, "class %u", cls);
		KUNIT_EXPECT_GE_MSG(test, k->min_nobjs, (u16)1, "class %u", cls);
		KUNIT_EXPECT_LE_MSG(test, k->min_pages, k->npages, "class %u",
				    cls);
		KUNIT_EXPECT_LE_MSG(test, k->min_nobjs, k->nobjs, "class %u",
				    cls);
	}
}

static unsigned int class_of_exact(u32 size)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++)
		if (gom_classes[cls].size == size)
			return cls;
	return 0;
}

/* 8, 16, ..., 32768: every power of two is a class of its own. */
static void sizeclass_powers_of_two_are_classes(struct kunit *test)
{
	u32 size;

	for (size = 8; size <= GOM_MAX_SMALL_SIZE; size <<= 1) {
		KUNIT_EXPECT_NE_MSG(test, class_of_exact(size), 0U,
				    "no class of %u bytes", size);
		KUNIT_EXPECT_EQ(test, gom_size_class(size),
				class_of_exact(size));
	}
}

/*
 * Check gom_obj_index() and gom_index64() on every byte offset of a span
 * of @npages pages and @nobjs objects of class @cls: the index of the
 * object for an object start, at least @nobjs for any other offset; and
 * gom_index64() at least @nobjs for the two pages on either side of the
 * span too. Returns the mismatches.
 */
static unsigned long check_index(struct kunit *test, unsigned int cls,
				 unsigned int npages, unsigned int nobjs)
{
	const struct gom_class *k = &gom_classes[cls];
	unsigned long off, end = (unsigned long)npages * PAGE_SIZE, bad = 0;
	unsigned long next = 0, obj = 0, idx64;
	struct gom_span s = {
		.base = 0x12345000UL,
		.size = k->size,
		.inv = gom_inv64(k->size >> k->shift, k->inv),
		.shift = k->shift,
		.nobjs = nobjs,
	};
	unsigned int idx;
	bool start;

	for (off = 0; off < end; off++) {
		start = off == next && obj < nobjs;
		idx = gom_obj_index(&s, s.base + off);
		idx64 = gom_index64(s.base, s.inv, s.shift, s.base + off);
		if (start ? idx != obj || idx64 != obj :
			    gom_obj_valid(&s, idx) || idx64 < nobjs) {
			if (!bad)
				KUNIT_FAIL(test,
					   "class %u, %u-page span: offset %lu gives index %u (64-bit %lu)",
					   cls, npages, off, idx, idx64);
			bad++;
		}
		if (off == next) {
			next += k->size;
			obj++;
		}
	}
	/* gom_index64() needs no range check: nothing outside is an object */
	for (off = 1; off <= 2 * PAGE_SIZE; off++) {
		if (gom_index64(s.base, s.inv, s.shift, s.base - off) < nobjs ||
		    gom_index64(s.base, s.inv, s.shift,
				s.base + end - 1 + off) < nobjs) {
			if (!bad)
				KUNIT_FAIL(test,
					   "class %u, %u-page span: %lu bytes outside is an object",
					   cls, npages, off);
			bad++;
		}
	}
	return bad;
}

/*
 * gom_obj_index() and gom_index64() through a span filled from the class:
 * exact for every offset of the preferred and of the minimum span, so
 * that a pointer inside an object or in a span's tail is never taken for
 * an object, and gom_index64() (a bulk free's check) for pointers just
 * outside the span too.
 */
static void sizeclass_obj_index_exact(struct kunit *test)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		const struct gom_class *k = &gom_classes[cls];

		/* size = odd << shift, inv = odd^-1 mod 2^32 */
		KUNIT_EXPECT_EQ_MSG(test, k->size & ((1U << k->shift) - 1), 0U,
				    "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, (k->size >> k->shift) & 1, 1U,
				    "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, (u32)((k->size >> k->shift) * k->inv),
				    1U, "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, check_index(test, cls, k->npages,
						      k->nobjs), 0UL,
				    "class %u preferred span", cls);
		KUNIT_EXPECT_EQ_MSG(test, check_index(test, cls, k->min_pages,
						      k->min_nobjs), 0UL,
				    "class %u minimum span", cls);
		cond_resched();
	}
}

/* Real objects: 8-byte aligned, and naturally aligned for 2^n <= PAGE_SIZE. */
static void sizeclass_allocations_aligned(struct kunit *test)
{
	enum { NR = 40 };
	void **objs;
	unsigned int cls, i;

	objs = kunit_kcalloc(test, NR, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		u32 size = gom_classes[cls].size;
		unsigned long align = 8;

		if (is_power_of_2(size) && size <= PAGE_SIZE)
			align = size;
		for (i = 0; i < NR; i++) {
			objs[i] = gom_alloc(size, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, objs[i]);
			KUNIT_EXPECT_TRUE_MSG(test,
					      IS_ALIGNED((unsigned long)objs[i],
							 align),
					      "%u-byte object at %p", size,
					      objs[i]);
			KUNIT_EXPECT_EQ(test, gom_usable_size(objs[i]),
					(size_t)size);
		}
		for (i = 0; i < NR; i++)
			gom_free(objs[i]);
	}
}

/* Enough classes to keep the waste bounds (Go has 67). */
static void sizeclass_enough_classes(struct kunit *test)
{
	KUNIT_EXPECT_GE(test, GOM_NR_CLASSES - 1, 60);
}

/* Magazines: capacity within the array. */
static void sizeclass_magazine_parameters(struct kunit *test)
{
	unsigned int cls, cpu;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		const struct gom_class *k = &gom_classes[cls];

		KUNIT_EXPECT_LE_MSG(test, k->mag_cap, (u16)GOM_MAG_MAX,
				    "class %u", cls);
		KUNIT_EXPECT_GE_MSG(test, k->mag_cap, 1U, "class %u", cls);
	}
	for_each_possible_cpu(cpu) {
		struct gom_mcache *mc = gom_mcache_of(cpu);

		KUNIT_ASSERT_NOT_NULL(test, mc);
		for (cls = 1; cls < GOM_NR_CLASSES; cls++)
			KUNIT_EXPECT_EQ_MSG(test, gom_mc_mag(mc, cls)->cap,
					    (unsigned int)gom_classes[cls].mag_cap,
					    "cpu %u class %u", cpu, cls);
	}
}

/* Start every case from drained caches, whatever ran before. */
static int sizeclass_init(struct kunit *test)
{
	gom_shrink_all();
	return 0;
}

static struct kunit_case gomalloc_sizeclass_cases[] = {
	KUNIT_CASE(sizeclass_size_maps_to_smallest_class),
	KUNIT_CASE(sizeclass_large_sizes_have_no_class),
	KUNIT_CASE(sizeclass_sizes_increasing_multiples_of_8),
	KUNIT_CASE(sizeclass_growth_bounded),
	KUNIT_CASE(sizeclass_tail_waste_bounded),
	KUNIT_CASE(sizeclass_min_spans),
	KUNIT_CASE(sizeclass_powers_of_two_are_classes),
	KUNIT_CASE(sizeclass_obj_index_exact),
	KUNIT_CASE(sizeclass_allocations_aligned),
	KUNIT_CASE(sizeclass_enough_classes),
	KUNIT_CASE(sizeclass_magazine_parameters),
	{}
};

static struct kunit_suite gomalloc_sizeclass_suite = {
	.name = "gomalloc_sizeclass",
	.init = sizeclass_init,
	.test_cases = gomalloc_sizeclass_cases,
};

kunit_test_suite(gomalloc_sizeclass_suite);

MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's size classes");
