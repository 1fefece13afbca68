// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_debug: KASAN sees gomalloc's objects as it sees
 * kmalloc()'s. A use after free, a write one byte past the bytes asked
 * for, and a use of stack memory after its frame was popped are each
 * reported; correct use of every API call is not. Needs a kernel with
 * generic KASAN that tells KUnit about its reports (CONFIG_KASAN_KUNIT_TEST,
 * as the project's debug kernel has); elsewhere every case skips.
 *
 * A report is caught as mm/kasan/kasan_test.c does: KASAN marks the
 * "kasan_status" resource of the running KUnit test, and multi-shot mode
 * lets it report every bug, not only the first. Reports are also counted
 * as mm/kfence/kfence_test.c counts its own, through the console
 * tracepoint (which printk calls as it stores a message), so that a case
 * knows a bug was reported exactly once.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/kasan.h>
#include <linux/module.h>
#include <linux/numa.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include "debug.h"

#define DEBUG_KASAN	(IS_ENABLED(CONFIG_KASAN_GENERIC) && \
			 IS_ENABLED(CONFIG_KASAN_KUNIT_TEST))

/* The layout of mm/kasan/kasan.h's struct kunit_kasan_status. */
struct debug_kasan_status {
	bool report_found;
	bool sync_fault;
};

static struct kunit_resource debug_resource;
static struct debug_kasan_status debug_status;
static bool debug_multishot;
static atomic_t debug_reports;		/* "BUG: KASAN:" lines printed */
static struct tracepoint *debug_console;

static void probe_console(void *ignore, const char *buf, size_t len)
{
	if (strnstr(buf, "BUG: KASAN: ", len))
		atomic_inc(&debug_reports);
}

static void find_console(struct tracepoint *tp, void *ignore)
{
	if (!strcmp(tp->name, "console"))
		debug_console = tp;
}

static int debug_suite_init(struct kunit_suite *suite)
{
	if (!DEBUG_KASAN)
		return 0;
	for_each_kernel_tracepoint(find_console, NULL);
	if (!debug_console)
		return -ENOENT;
	return tracepoint_probe_register(debug_console, probe_console, NULL);
}

static void debug_suite_exit(struct kunit_suite *suite)
{
	if (!debug_console)
		return;
	tracepoint_probe_unregister(debug_console, probe_console, NULL);
	tracepoint_synchronize_unregister();
}

/* Reads @p where the compiler cannot drop it: KASAN must see it. */
static noinline u8 debug_read(const u8 *p)
{
	return READ_ONCE(*p);
}

static int debug_init(struct kunit *test)
{
	if (!DEBUG_KASAN)
		return 0;
	debug_multishot = kasan_save_enable_multi_shot();
	debug_status.report_found = false;
	kunit_add_named_resource(test, NULL, NULL, &debug_resource,
				 "kasan_status", &debug_status);
	return 0;
}

static void debug_exit(struct kunit *test)
{
	if (!DEBUG_KASAN)
		return;
	kasan_restore_multi_shot(debug_multishot);
	/* a case ends with every expected report consumed */
	KUNIT_EXPECT_FALSE(test, READ_ONCE(debug_status.report_found));
}

static void skip_without_kasan(struct kunit *test)
{
	if (!DEBUG_KASAN)
		kunit_skip(test, "needs generic KASAN with CONFIG_KASAN_KUNIT_TEST");
}

static void reset_reports(void)
{
	WRITE_ONCE(debug_status.report_found, false);
	atomic_set(&debug_reports, 0);
}

static void expect_one_report(struct kunit *test, const char *what)
{
	KUNIT_EXPECT_TRUE_MSG(test, READ_ONCE(debug_status.report_found),
			      "no KASAN report for %s", what);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&debug_reports), 1,
			    "KASAN reports printed for %s", what);
	WRITE_ONCE(debug_status.report_found, false);
}

/* Run @expr; it must make exactly one KASAN report. */
#define EXPECT_KASAN_REPORT(test, expr) do {				\
	reset_reports();						\
	barrier();							\
	expr;								\
	barrier();							\
	expect_one_report(test, #expr);					\
} while (0)

/* A read after gom_free(): the object is poisoned, in its magazine. */
static void debug_use_after_free(struct kunit *test)
{
	u8 *p;

	skip_without_kasan(test);
	p = gom_alloc(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p[16] = 1;
	gom_free(p);
	EXPECT_KASAN_REPORT(test, debug_read(&p[16]));
}

/* A write one byte past the request, inside the class's slot. */
static void debug_past_request(struct kunit *test)
{
	u8 *p;

	skip_without_kasan(test);
	p = gom_alloc(60, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_classes[gom_size_class(60)].size, 64);
	p[59] = 1;
	KUNIT_EXPECT_FALSE(test, READ_ONCE(debug_status.report_found));
	EXPECT_KASAN_REPORT(test, WRITE_ONCE(p[60], 1));
	gom_free(p);
}

/* Large runs: past the request inside the last page, and after free. */
static void debug_large(struct kunit *test)
{
	size_t size = GOM_MAX_SMALL_SIZE + 100;
	u8 *p;

	skip_without_kasan(test);
	p = gom_alloc(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p[size - 1] = 1;
	EXPECT_KASAN_REPORT(test, WRITE_ONCE(p[size], 1));
	gom_free(p);
	EXPECT_KASAN_REPORT(test, debug_read(&p[0]));
}

/* Stack memory after its frame was popped. */
static void debug_frame_pop(struct kunit *test)
{
	struct gom_stack *stack;
	gom_frame_t mark;
	u8 *p;

	skip_without_kasan(test);
	stack = gom_stack_create(0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, stack);
	mark = gom_frame_push(stack);
	p = gom_frame_alloc(stack, 40, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p[39] = 1;
	EXPECT_KASAN_REPORT(test, WRITE_ONCE(p[40], 1));
	gom_frame_pop(stack, mark);
	EXPECT_KASAN_REPORT(test, debug_read(&p[0]));
	gom_stack_destroy(stack);
}

/* Every byte asked for, of every call, may be used: no report at all. */
static void debug_correct_use(struct kunit *test)
{
	void *objs[16], *p, *run;
	struct gom_stack *stack;
	unsigned int cls;
	gom_frame_t mark;
	size_t size;

	skip_without_kasan(test);
	reset_reports();
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		size = gom_classes[cls].size - 3;
		p = gom_alloc(size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p);
		memset(p, 0x5a, size);
		KUNIT_EXPECT_EQ(test, gom_usable_size(p), gom_classes[cls].size);
		gom_free(p);
	}
	p = gom_zalloc(100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_FALSE(test, memchr_inv(p, 0, 100));
	gom_free(p);
	p = gom_alloc_node(200, GFP_KERNEL, first_online_node);
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 1, 200);
	gom_free(p);
	KUNIT_ASSERT_EQ(test, gom_alloc_bulk(72, GFP_KERNEL, 16, objs), 16);
	for (cls = 0; cls < 16; cls++)
		memset(objs[cls], 2, 72);
	gom_free_bulk(16, objs);
	run = gom_alloc_pages(3, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run);
	memset(run, 3, 3 * PAGE_SIZE);
	gom_free_pages(run);
	stack = gom_stack_create(0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, stack);
	mark = gom_frame_push(stack);
	memset(gom_frame_alloc(stack, 24, GFP_KERNEL), 4, 24);
	memset(gom_frame_alloc_aligned(stack, 100, 64, GFP_KERNEL), 5, 100);
	memset(gom_frame_alloc(stack, 5000, GFP_KERNEL), 6, 5000);
	gom_frame_pop(stack, mark);
	gom_stack_destroy(stack);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(debug_status.report_found));
	KUNIT_EXPECT_EQ(test, atomic_read(&debug_reports), 0);
}

static struct kunit_case debug_cases[] = {
	KUNIT_CASE(debug_use_after_free),
	KUNIT_CASE(debug_past_request),
	KUNIT_CASE(debug_large),
	KUNIT_CASE(debug_frame_pop),
	KUNIT_CASE(debug_correct_use),
	{}
};

static struct kunit_suite debug_suite = {
	.name = "gomalloc_debug",
	.suite_init = debug_suite_init,
	.suite_exit = debug_suite_exit,
	.init = debug_init,
	.exit = debug_exit,
	.test_cases = debug_cases,
};

kunit_test_suite(debug_suite);

MODULE_IMPORT_NS(GOMALLOC_INTERNAL);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit: KASAN reports for gomalloc objects");
