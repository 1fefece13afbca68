// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc_buggy - a client module with the bugs gomalloc's debugging
 * finds, one per write to its bug parameter. Loaded only by the tests
 * (scripts/guest/test-debug.sh, test-kmemleak.sh) and the worked example
 * of Documentation/gomalloc-debug.rst; never load it on a machine you
 * care about.
 *
 *	echo <bug> > /sys/module/gomalloc_buggy/parameters/bug
 *
 *   overflow	writes one byte past the 60 bytes it asked for
 *   uaf	writes into an object after freeing it, then allocates
 *		again (with debug=P the allocation finds the damage)
 *   uaf-read	reads an object after freeing it (KASAN reports it)
 *   double	frees an object twice
 *   double-remote frees an object on another CPU, then again on the CPU
 *		that allocated it, where it is the CPU's memo
 *   leak	allocates 100 bytes and forgets the pointer (kmemleak); the
 *		module keeps it hidden, and frees it at unload (up to
 *		LEAK_MAX leaks; more are refused)
 *   pop	writes into stack memory after its frame was popped
 *   none	no bug: allocates 60 bytes, uses them and frees them
 *		(test-trace.sh, on kernels where a bug would be reported)
 *   null	no bug: frees an object, then NULL and ZERO_SIZE_PTR, which
 *		gom_free() ignores as kfree() does
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <gomalloc.h>

static noinline void buggy_none(void)
{
	char *p = gom_alloc(60, GFP_KERNEL);

	if (!p)
		return;
	memset(p, 'a', 60);
	OPTIMIZER_HIDE_VAR(p);
	gom_free(p);
}

static noinline void buggy_null(void)
{
	gom_free(gom_alloc(60, GFP_KERNEL));
	gom_free(NULL);
	gom_free(ZERO_SIZE_PTR);
}

static noinline void buggy_overflow(void)
{
	char *p = gom_alloc(60, GFP_KERNEL);

	if (!p)
		return;
	memset(p, 'a', 60);
	OPTIMIZER_HIDE_VAR(p);
	p[60] = '!';		/* the bug: one byte past the request */
	gom_free(p);
}

static noinline void buggy_use_after_free(void)
{
	char *p = gom_alloc(64, GFP_KERNEL), *q;

	if (!p)
		return;
	/* one CPU, so that the next allocation is the same object */
	preempt_disable();
	gom_free(p);
	OPTIMIZER_HIDE_VAR(p);
	p[16] = '!';		/* the bug: a write after the free */
	q = gom_alloc(64, GFP_ATOMIC);
	preempt_enable();
	gom_free(q);
}

static noinline void buggy_read_after_free(void)
{
	char *p = gom_alloc(64, GFP_KERNEL);

	if (!p)
		return;
	gom_free(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("read after free: %d\n", READ_ONCE(p[16]));	/* the bug */
}

static noinline void buggy_double_free(void)
{
	void *p = gom_alloc(64, GFP_KERNEL);

	gom_free(p);
	OPTIMIZER_HIDE_VAR(p);
	gom_free(p);		/* the bug */
}

static void free_there(struct work_struct *work);
static DECLARE_WORK(free_work, free_there);
static void *free_obj;

static void free_there(struct work_struct *work)
{
	gom_free(free_obj);
}

static noinline void buggy_double_free_remote(void)
{
	unsigned int other;
	void *p;

	migrate_disable();
	/* from the magazine, so that it is this CPU's memo */
	p = gom_alloc(64, GFP_KERNEL);
	gom_free(p);
	p = gom_alloc(64, GFP_KERNEL);
	other = cpumask_any_but(cpu_online_mask, smp_processor_id());
	free_obj = p;
	if (other < nr_cpu_ids && queue_work_on(other, system_wq, &free_work))
		flush_work(&free_work);
	else
		gom_free(p);
	gom_free(p);		/* the bug */
	migrate_enable();
}

/*
 * The leaks' pointers, hidden from kmemleak (which scans this module's
 * data) so that the test can still free them at unload. A test leaks
 * more than once because kmemleak may miss one whose pointer a stack
 * still holds.
 */
#define LEAK_MAX	8
#define LEAK_KEY	0x5a5a5a5a5a5a5a5aUL
static unsigned long leak_hidden[LEAK_MAX];
static unsigned int leak_nr;

static noinline void buggy_leak(void)
{
	void *p;

	if (leak_nr == LEAK_MAX) {
		pr_info("not leaking: %u leaks already\n", leak_nr);
		return;
	}
	p = gom_alloc(100, GFP_KERNEL);
	if (!p)
		return;
	/* the bug: the only pointer kmemleak can see dies here */
	leak_hidden[leak_nr++] = (unsigned long)p ^ LEAK_KEY;
	pr_info("leaking %zu bytes\n", gom_usable_size(p));
}

static void __exit buggy_exit(void)
{
	while (leak_nr)
		gom_free((void *)(leak_hidden[--leak_nr] ^ LEAK_KEY));
}
module_exit(buggy_exit);

static noinline void buggy_frame_pop(void)
{
	struct gom_stack *stack = gom_stack_create(0, GFP_KERNEL);
	gom_frame_t mark;
	char *p;

	if (!stack)
		return;
	mark = gom_frame_push(stack);
	p = gom_frame_alloc(stack, 32, GFP_KERNEL);
	gom_frame_pop(stack, mark);
	OPTIMIZER_HIDE_VAR(p);
	if (p)
		p[0] = '!';	/* the bug: the frame is gone */
	gom_stack_destroy(stack);
}

static const struct {
	const char *name;
	void (*fn)(void);
} bugs[] = {
	{ "overflow", buggy_overflow },
	{ "uaf", buggy_use_after_free },
	{ "uaf-read", buggy_read_after_free },
	{ "double", buggy_double_free },
	{ "double-remote", buggy_double_free_remote },
	{ "leak", buggy_leak },
	{ "pop", buggy_frame_pop },
	{ "none", buggy_none },
	{ "null", buggy_null },
};

static int bug_set(const char *val, const struct kernel_param *kp)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bugs); i++) {
		if (sysfs_streq(val, bugs[i].name)) {
			pr_info("running bug %s\n", bugs[i].name);
			bugs[i].fn();
			return 0;
		}
	}
	return -EINVAL;
}

static const struct kernel_param_ops bug_ops = {
	.set = bug_set,
};
module_param_cb(bug, &bug_ops, NULL, 0200);
MODULE_PARM_DESC(bug,
		 "Run a bug: overflow, uaf, uaf-read, double, double-remote, leak, pop; or none, null (no bug)");

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A gomalloc client with deliberate bugs (test only)");
