// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc_torture - allocation churn from every context gomalloc serves,
 * for as long as the module is loaded. Loaded only by
 * scripts/guest/test-torture.sh, which takes CPUs offline and online and
 * shrinks gomalloc meanwhile.
 *
 * One kthread per online CPU (not bound, so the scheduler moves them)
 * keeps a window of live objects of random sizes, small and large, and
 * replaces a random one at every step: most with gom_alloc(), some with
 * gom_alloc_node() for the CPU's node or another, some as page runs of 1
 * to 8 pages (gom_alloc_pages(), the CPU's run cache), and now and then a
 * round of the bulk calls. A timer allocates and frees with GFP_ATOMIC
 * every jiffy (softirq context, or the timer thread on PREEMPT_RT), and
 * without PREEMPT_RT a hard-interrupt hrtimer does too, so that
 * interrupts land inside the CPUs' sections; they take page runs too, and
 * free the objects the kthreads leave in a hand-off table, allocated in a
 * task on whatever CPU. Every object is filled up to its
 * gom_usable_size() with a pattern derived from its address and size and
 * checked before it is freed; a mismatch is counted in the corrupt
 * parameter and reported once.
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
#define TORTURE_HANDOFF		16	/* slots; slot i holds 16 + 40 * i bytes */
#define TORTURE_RUN_ORDERS	4	/* page runs of 1, 2, 4 and 8 pages */

static unsigned long allocs;
module_param(allocs, ulong, 0444);
MODULE_PARM_DESC(allocs, "Objects allocated so far");

static unsigned long failures;
module_param(failures, ulong, 0444);
MODULE_PARM_DESC(failures, "Allocations that returned NULL");

static unsigned long corrupt;
module_param(corrupt, ulong, 0444);
MODULE_PARM_DESC(corrupt, "Objects whose contents changed while they were held");

static void *handoff[TORTURE_HANDOFF];
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

static void check(void *p, size_t size)
{
	size_t i, n = min_t(size_t, size, 256);
	bool bad = ((u8 *)p)[size - 1] != pattern(p, size, size - 1);

	for (i = 0; i < n && !bad; i++)
		bad = ((u8 *)p)[i] != pattern(p, size, i);
	if (bad && !xchg(&corrupt, corrupt + 1))
		pr_err("object %p of %zu bytes changed while held\n", p, size);
}

static void check_free(void *p, size_t size)
{
	check(p, size);
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
	size_t size;		/* what it was filled to */
	bool run;		/* from gom_alloc_pages() */
};

/* Count @p and fill its @size bytes. */
static void *got(void *p, size_t size)
{
	if (!p) {
		WRITE_ONCE(failures, failures + 1);
		return NULL;
	}
	fill(p, size);
	WRITE_ONCE(allocs, allocs + 1);
	return p;
}

static void *get(size_t size, gfp_t gfp)
{
	return got(gom_alloc(size, gfp | __GFP_NOWARN), size);
}

/* A page run of 1 to 8 pages, in @s. */
static void get_run(struct slot *s, u32 r, gfp_t gfp)
{
	unsigned int npages = 1U << (r % TORTURE_RUN_ORDERS);

	s->size = npages * PAGE_SIZE;
	s->run = true;
	s->p = got(gom_alloc_pages(npages, gfp | __GFP_NOWARN), s->size);
}

static void put(struct slot *s)
{
	if (!s->p)
		return;
	check(s->p, s->size);
	if (s->run)
		gom_free_pages(s->p);
	else
		gom_free(s->p);
	s->p = NULL;
}

/* The CPU's node half the time, else any node with memory, from @r. */
static int pick_node(u32 r)
{
	u32 k;
	int nid;

	if (r & 1)
		return numa_node_id();
	k = (r >> 1) % num_node_state(N_MEMORY);
	for_each_node_state(nid, N_MEMORY)
		if (!k--)
			return nid;
	return numa_node_id();
}

/*
 * Replace @s: a page run one time in 16, an object of a given node (the
 * CPU's or another) one in 16, else gom_alloc(); filled to its usable
 * size.
 */
static void replace(struct slot *s, struct rnd_state *rnd)
{
	u32 r = prandom_u32_state(rnd);
	size_t size = random_size(rnd);

	put(s);
	if (r % 16 == 0) {
		get_run(s, r >> 4, GFP_KERNEL);
		return;
	}
	s->run = false;
	if (r % 16 == 1)
		s->p = gom_alloc_node(size, GFP_KERNEL | __GFP_NOWARN,
				      pick_node(r >> 4));
	else
		s->p = gom_alloc(size, GFP_KERNEL | __GFP_NOWARN);
	s->size = s->p ? gom_usable_size(s->p) : 0;
	got(s->p, s->size);
}

/* Swap an object into hand-off slot @i; free what was there. */
static void hand_off(unsigned int i, void *p)
{
	p = xchg(&handoff[i], p);
	if (p)
		check_free(p, 16 + 40 * i);
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
	unsigned int i, h;

	prandom_seed_state(&rnd, (unsigned long)arg);
	while (!kthread_should_stop()) {
		i = prandom_u32_state(&rnd) % TORTURE_WINDOW;
		replace(&win[i], &rnd);
		if (i == 0)
			bulk_round(&rnd);
		if (i == 1) {
			h = prandom_u32_state(&rnd) % TORTURE_HANDOFF;
			hand_off(h, get(16 + 40 * h, GFP_KERNEL));
		}
		cond_resched();
	}
	for (i = 0; i < TORTURE_WINDOW; i++)
		put(&win[i]);
	return 0;
}

/*
 * A few objects allocated and freed in one interrupt; every eighth time a
 * page run as well, and the object of a hand-off slot freed.
 */
static void irq_round(unsigned int seed)
{
	void *objs[TORTURE_IRQ_OBJS];
	size_t size = 8 + (seed * 97) % 1024;
	struct slot run;
	unsigned int i;

	for (i = 0; i < TORTURE_IRQ_OBJS; i++)
		objs[i] = get(size, GFP_ATOMIC);
	if (seed % 8 == 0) {
		get_run(&run, seed >> 3, GFP_ATOMIC);
		put(&run);
		hand_off((seed >> 5) % TORTURE_HANDOFF, NULL);
	}
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

/*
 * Every 250 us, or four times as long as a round took: on a slow kernel
 * (KASAN, lockdep and debug=U stacks under TCG, where a round can take
 * milliseconds) a fixed period would keep the CPU in hard interrupts and
 * starve the rest, CPU hotplug included.
 */
static enum hrtimer_restart hrtimer_fn(struct hrtimer *t)
{
	ktime_t start = ktime_get(), now;

	irq_round((unsigned int)start);
	if (READ_ONCE(torture_stop))
		return HRTIMER_NORESTART;
	now = ktime_get();
	hrtimer_set_expires(t, now + max_t(s64, 250 * NSEC_PER_USEC,
					   4 * (now - start)));
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
	unsigned int i;

	WRITE_ONCE(torture_stop, true);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		hrtimer_cancel(&torture_hrtimer);
	del_timer_sync(&torture_timer);
	stop_tasks();
	for (i = 0; i < TORTURE_HANDOFF; i++)
		hand_off(i, NULL);
	pr_info("%lu allocations, %lu failed, %lu corrupt\n", allocs, failures,
		corrupt);
}

module_init(torture_init);
module_exit(torture_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Allocation churn for gomalloc from every context (test only)");
