// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_sizeclass: the size-class table against the
 * properties the allocator relies on (mod/sizeclasses.h,
 * scripts/mksizeclasses.py) and against real allocations.
 */
#include <kunit/test.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "internal.h"

/* Every size 1..GOM_MAX_SMALL_SIZE maps to the smallest class that fits. */
static void sc_size_maps_to_smallest_class(struct kunit *test)
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
static void sc_large_sizes_have_no_class(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, gom_size_class(GOM_MAX_SMALL_SIZE + 1), 0U);
	KUNIT_EXPECT_EQ(test, gom_size_class(GOM_MAX_SMALL_SIZE + 4096), 0U);
	KUNIT_EXPECT_EQ(test, gom_size_class(1UL << 30), 0U);
	KUNIT_EXPECT_EQ(test, gom_size_class(SIZE_MAX), 0U);
}

/* Class sizes strictly increase in 8-byte multiples up to the maximum. */
static void sc_sizes_increasing_multiples_of_8(struct kunit *test)
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

/* A request one byte above the previous class wastes at most 12.5%. */
static void sc_rounding_waste_bounded(struct kunit *test)
{
	unsigned int cls;

	for (cls = 2; cls < GOM_NR_CLASSES; cls++) {
		u32 size = gom_classes[cls].size;
		u32 smallest = gom_classes[cls - 1].size + 1;

		if (size <= 128)
			continue;
		KUNIT_EXPECT_LE_MSG(test, (size - smallest) * 8, size,
				    "class %u (%u bytes) wastes %u of %u",
				    cls, size, size - smallest, size);
	}
}

/* Spans are sized so that their tail wastes at most 12.5%. */
static void sc_tail_waste_bounded(struct kunit *test)
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

static unsigned int class_of_exact(u32 size)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++)
		if (gom_classes[cls].size == size)
			return cls;
	return 0;
}

/* 8, 16, ..., 32768: every power of two is a class of its own. */
static void sc_powers_of_two_are_classes(struct kunit *test)
{
	u32 size;

	for (size = 8; size <= GOM_MAX_SMALL_SIZE; size <<= 1) {
		KUNIT_EXPECT_NE_MSG(test, class_of_exact(size), 0U,
				    "no class of %u bytes", size);
		KUNIT_EXPECT_EQ(test, gom_size_class(size),
				class_of_exact(size));
	}
}

/* (offset * divmul) >> 32 == offset / size for every byte of every span. */
static void sc_divmul_exact(struct kunit *test)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		const struct gom_class *k = &gom_classes[cls];
		unsigned long span = (unsigned long)k->npages * PAGE_SIZE;
		unsigned long off;
		unsigned int i;

		for (i = 0; i < k->nobjs; i++)
			KUNIT_ASSERT_EQ_MSG(test,
					    (unsigned int)(((unsigned long)i *
							    k->size *
							    k->divmul) >> 32),
					    i, "class %u object %u", cls, i);
		for (off = 0; off < span; off++)
			KUNIT_ASSERT_EQ_MSG(test, (off * k->divmul) >> 32,
					    off / k->size,
					    "class %u offset %lu", cls, off);
	}
}

/* Real objects: 8-byte aligned, and naturally aligned for 2^n <= PAGE_SIZE. */
static void sc_allocations_aligned(struct kunit *test)
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
static void sc_enough_classes(struct kunit *test)
{
	KUNIT_EXPECT_GE(test, GOM_NR_CLASSES - 1, 60);
}

/* Magazines: capacity within the array, batch within the capacity. */
static void sc_magazine_parameters(struct kunit *test)
{
	unsigned int cls, cpu;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		const struct gom_class *k = &gom_classes[cls];

		KUNIT_EXPECT_LE_MSG(test, k->mag_cap, (u16)GOM_MAG_MAX,
				    "class %u", cls);
		KUNIT_EXPECT_GE_MSG(test, k->batch, 1U, "class %u", cls);
		KUNIT_EXPECT_LE_MSG(test, k->batch, k->mag_cap, "class %u",
				    cls);
	}
	for_each_possible_cpu(cpu) {
		struct gom_mcache *mc = *per_cpu_ptr(gom_mcaches, cpu);

		KUNIT_ASSERT_NOT_NULL(test, mc);
		for (cls = 1; cls < GOM_NR_CLASSES; cls++)
			KUNIT_EXPECT_EQ_MSG(test, mc->mag[cls].cap,
					    (unsigned int)gom_classes[cls].mag_cap,
					    "cpu %u class %u", cpu, cls);
	}
}

static struct kunit_case gomalloc_sizeclass_cases[] = {
	KUNIT_CASE(sc_size_maps_to_smallest_class),
	KUNIT_CASE(sc_large_sizes_have_no_class),
	KUNIT_CASE(sc_sizes_increasing_multiples_of_8),
	KUNIT_CASE(sc_rounding_waste_bounded),
	KUNIT_CASE(sc_tail_waste_bounded),
	KUNIT_CASE(sc_powers_of_two_are_classes),
	KUNIT_CASE(sc_divmul_exact),
	KUNIT_CASE(sc_allocations_aligned),
	KUNIT_CASE(sc_enough_classes),
	KUNIT_CASE(sc_magazine_parameters),
	{}
};

static struct kunit_suite gomalloc_sizeclass_suite = {
	.name = "gomalloc_sizeclass",
	.test_cases = gomalloc_sizeclass_cases,
};

kunit_test_suite(gomalloc_sizeclass_suite);

GOM_MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's size classes");
