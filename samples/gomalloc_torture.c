// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc_torture - allocation churn from every context gomalloc serves,
 * for as long as the module is loaded. Loaded only by
 * scripts/guest/test-torture.sh, which takes CPUs offline and online and
 * shrinks gomalloc meanwhile.
 *
 * One kthread per online CPU (not bound, so the scheduler moves them)
 * keeps a window of live objects of random sizes, small and large, and
 * replaces a random one at every step, now and then with the bulk calls.
 * A timer allocates and frees with GFP_ATOMIC every jiffy (softirq
 * context, or the timer thread on PREEMPT_RT), and without PREEMPT_RT a
 * hard-interrupt hrtimer does too, so that interrupts land inside the
 * CPUs' sections. Every object is filled with a pattern derived from its
 * address and size and checked before it is freed; a mismatch is counted
 * in the corrupt parameter and reported once.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <gomalloc.h>

#define TORTURE_WINDOW		64
#define TORTURE_BULK		16
#define TORTURE_IRQ_OBJS	4

static unsigned long allocs;
module_param(allocs, ulong, 0444);
MODULE_PARM_DESC(allocs, "Objects allocated so far");

static unsigned long failures;
module_param(failures, ulong, 0444);
MODULE_PARM_DESC(failures, "Allocations that returned NULL");

static unsigned long corrupt;
module_param(corrupt, ulong, 0444);
MODULE_PARM_DESC(corrupt, "Objects whose contents changed while they were held");

static struct task_struct **torture_tasks;
static unsigned int torture_nr_tasks;
static struct timer_list torture_timer;
static struct hrtimer torture_hrtimer;
static bool torture_stop;

static u8 pattern(const void *p, size_t size, size_t i)
{
	return (u8)(((unsigned long)p >> 4) ^ size ^ (i * 31));
}

static void fill(void *p, size_t size)
{
	size_t i, n = min_t(size_t, size, 256);

	for (i = 0; i < n; i++)
		((u8 *)p)[i] = pattern(p, size, i);
	((u8 *)p)[size - 1] = pattern(p, size, size - 1);
}

static void check_free(void *p, size_t size)
{
	size_t i, n = min_t(size_t, size, 256);
	bool bad = ((u8 *)p)[size - 1] != pattern(p, size, size - 1);

	for (i = 0; i < n && !bad; i++)
		bad = ((u8 *)p)[i] != pattern(p, size, i);
	if (bad && !xchg(&corrupt, corrupt + 1))
		pr_err("object %p of %zu bytes changed while held\n", p, size);
	gom_free(p);
}

static size_t random_size(struct rnd_state *rnd)
{
	u32 r = prandom_u32_state(rnd);

	if (r % 64 == 0)	/* a large run now and then */
		return GOM_MAX_SMALL_SIZE + (r % (4 * PAGE_SIZE));
	return 8 + (r >> 8) % (r % 4 ? 512 : GOM_MAX_SMALL_SIZE);
}

struct slot {
	void *p;
	size_t size;
};

static void *get(size_t size, gfp_t gfp)
{
	void *p = gom_alloc(size, gfp | __GFP_NOWARN);

	if (p) {
		fill(p, size);
		WRITE_ONCE(allocs, allocs + 1);
	} else {
		WRITE_ONCE(failures, failures + 1);
	}
	return p;
}

static void bulk_round(struct rnd_state *rnd)
{
	void *objs[TORTURE_BULK];
	size_t size = 8 + prandom_u32_state(rnd) % 2048;
	unsigned int i;

	if (!gom_alloc_bulk(size, GFP_KERNEL, TORTURE_BULK, objs))
		return;
	for (i = 0; i < TORTURE_BULK; i++)
		fill(objs[i], size);
	for (i = 0; i < TORTURE_BULK; i++)
		check_free(objs[i], size);
}

static int churn(void *arg)
{
	struct slot win[TORTURE_WINDOW] = { };
	struct rnd_state rnd;
	unsigned int i;

	prandom_seed_state(&rnd, (unsigned long)arg);
	while (!kthread_should_stop()) {
		i = prandom_u32_state(&rnd) % TORTURE_WINDOW;
		if (win[i].p)
			check_free(win[i].p, win[i].size);
		win[i].size = random_size(&rnd);
		win[i].p = get(win[i].size, GFP_KERNEL);
		if (i == 0)
			bulk_round(&rnd);
		cond_resched();
	}
	for (i = 0; i < TORTURE_WINDOW; i++)
		if (win[i].p)
			check_free(win[i].p, win[i].size);
	return 0;
}

/* A few objects allocated and freed in one interrupt. */
static void irq_round(unsigned int seed)
{
	void *objs[TORTURE_IRQ_OBJS];
	size_t size = 8 + (seed * 97) % 1024;
	unsigned int i;

	for (i = 0; i < TORTURE_IRQ_OBJS; i++)
		objs[i] = get(size, GFP_ATOMIC);
	for (i = 0; i < TORTURE_IRQ_OBJS; i++)
		if (objs[i])
			check_free(objs[i], size);
}

static void timer_fn(struct timer_list *t)
{
	irq_round(jiffies);
	if (!READ_ONCE(torture_stop))
		mod_timer(&torture_timer, jiffies + 1);
}

static enum hrtimer_restart hrtimer_fn(struct hrtimer *t)
{
	irq_round((unsigned int)ktime_get());
	if (READ_ONCE(torture_stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(250 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void hard_irq_start(void)
{
	/* PREEMPT_RT: no allocation from hard interrupts, as for kmalloc() */
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return;
	hrtimer_init(&torture_hrtimer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	torture_hrtimer.function = hrtimer_fn;
	hrtimer_start(&torture_hrtimer, ns_to_ktime(NSEC_PER_MSEC),
		      HRTIMER_MODE_REL_HARD);
}

static void stop_tasks(void)
{
	unsigned int i;

	for (i = 0; i < torture_nr_tasks; i++)
		kthread_stop(torture_tasks[i]);
	kfree(torture_tasks);
}

static int __init torture_init(void)
{
	unsigned int i, n = num_online_cpus();

	torture_tasks = kcalloc(n, sizeof(*torture_tasks), GFP_KERNEL);
	if (!torture_tasks)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		torture_tasks[i] = kthread_run(churn, (void *)(unsigned long)(i + 1),
					       "gom_torture/%u", i);
		if (IS_ERR(torture_tasks[i]))
			break;
		torture_nr_tasks++;
	}
	if (torture_nr_tasks < n) {
		stop_tasks();
		return -ENOMEM;
	}
	timer_setup(&torture_timer, timer_fn, 0);
	mod_timer(&torture_timer, jiffies + 1);
	hard_irq_start();
	pr_info("%u threads, a timer%s\n", n,
		IS_ENABLED(CONFIG_PREEMPT_RT) ? "" : " and a hard-irq hrtimer");
	return 0;
}

static void __exit torture_exit(void)
{
	WRITE_ONCE(torture_stop, true);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		hrtimer_cancel(&torture_hrtimer);
	del_timer_sync(&torture_timer);
	stop_tasks();
	pr_info("%lu allocations, %lu failed, %lu corrupt\n", allocs, failures,
		corrupt);
}

module_init(torture_init);
module_exit(torture_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Allocation churn for gomalloc from every context (test only)");
