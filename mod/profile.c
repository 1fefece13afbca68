// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc profile: sampled heap profiles, by call stack and by client
 * module, as Go's runtime.MemProfile and tcmalloc's heap sampler.
 *
 * Each CPU counts down the bytes it allocates (struct gom_mcache's
 * sample_left, inside its section: the hot path pays that subtraction and
 * nothing else, and so does a page run from the CPU's run cache, which
 * comes back with GOM_RUN_SAMPLE set if it is a sample; the slow paths
 * count outside the section, gom_profile_count()); when the count goes
 * below zero the allocation is a sample and the next distance is drawn
 * from an exponential distribution of mean profile_rate bytes. A sample
 * records the call stack (stack depot), the size and the caller's module;
 * it is found again when freed through a side table, and only frees of
 * objects in spans that hold a live sample go to that table: such a span
 * points its magazine offset (gom_span.mag_off) at the CPU's class-0
 * magazine, which is always full, so their frees take the slow path and
 * the others pay nothing. A page run has no span: its free looks the
 * table up only if gom_prof_runs[], a counting filter of the live samples
 * of runs by address, counts one in the run's bucket.
 *
 * Every sample stands for 1 / (1 - exp(-size / rate)) allocations of its
 * size (Go's scaleHeapSample), so the estimates are unbiased; with
 * profile_rate 1 every allocation is a sample of weight 1, exactly.
 * Estimates are kept per stack (a bucket) and per client module, live
 * (allocated minus freed) and cumulative, in 1/65536 units.
 *
 * It shows them in /sys/kernel/debug/gomalloc/heap_profile (a record per
 * stack, by live bytes), heap_folded (folded stacks for flame graphs) and
 * /sys/kernel/gomalloc/clients/<module>/, keeps the mean lifetime of
 * sampled objects per class, and names the clients and stacks still
 * holding memory when gomalloc is unloaded.
 *
 * gom_profile_key turns the slow paths' countdown on; the fast path and
 * the run cache count down whatever the key says, from LONG_MAX while
 * profiling is off (gom_mc_sample()). The frees look for a sample
 * whatever the key says (a span's nsampled, gom_prof_runs[] for page
 * runs), so turning profiling off forgets no live sample.
 *
 * A stack's frames are named when a file is read, so the frames of a
 * module that goes away are named before it does (MODULE_STATE_GOING,
 * and MODULE_STATE_LIVE for its init text) and kept as text.
 *
 * Locking: gom_prof_lock (irq-safe, a leaf) protects the tables; records
 * and stacks are allocated before it is taken (a record from the CPU's
 * spare if it has one, gom_prof_spare). gom_prof_mutex serialises
 * the rate, the creation of client directories and the naming of a
 * module's frames. Called from mcache.c, runcache.c and api.c outside
 * the CPU's section; it calls no other level.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/jiffies.h>
#include <linux/kallsyms.h>
#include <linux/kobject.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stackdepot.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include "internal.h"

#define GOM_PROF_ONE		BIT_ULL(16)	/* weight of one object */

DEFINE_STATIC_KEY_FALSE(gom_profile_key);
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_key);

unsigned long gom_profile_rate = 524288;
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_rate);
unsigned long gom_profile_live;		/* live samples */
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_live);
unsigned int gom_prof_runs[BIT(GOM_PROF_RUN_BITS)];
EXPORT_SYMBOL_GOM_INTERNAL(gom_prof_runs);

/**
 * struct gom_prof_client - the estimates of one client module
 * @list: on gom_prof_clients
 * @name: the module's name, "kernel" for built-in callers
 * @live_objs: live objects, in 1/65536
 * @live_bytes: live bytes
 * @allocs: allocations since load, in 1/65536
 * @kobj: its /sys/kernel/gomalloc/clients/ directory, once made
 */
struct gom_prof_client {
	struct list_head list;
	char name[MODULE_NAME_LEN];
	s64 live_objs;
	s64 live_bytes;
	u64 allocs;
	struct kobject *kobj;
};

/* struct gom_prof_frames - a stack's frames named while they could be */
struct gom_prof_frames {
	unsigned int nr;
	char *full[GOM_PROF_DEPTH];	/* "%pS" */
	char *name[GOM_PROF_DEPTH];	/* "%ps" */
};

/* struct gom_prof_bucket - the estimates of one allocation stack */
struct gom_prof_bucket {
	struct hlist_node node;		/* by stack */
	depot_stack_handle_t stack;
	struct gom_prof_frames *frames;	/* once a module in it went away */
	struct gom_prof_client *client;
	s64 live_objs;			/* in 1/65536 */
	s64 live_bytes;
	u64 alloc_objs;			/* in 1/65536 */
	u64 alloc_bytes;
};

/* struct gom_prof_sample - a live sampled object */
struct gom_prof_sample {
	struct hlist_node node;		/* by object */
	const void *obj;
	struct gom_prof_bucket *b;
	struct gom_span *span;		/* NULL for a large run */
	u64 weight;			/* objects it stands for, in 1/65536 */
	u64 bytes;			/* bytes it stands for */
	size_t size;			/* bytes asked for */
	unsigned long rate;		/* profile_rate of the weight, 0: none */
	unsigned long born;		/* jiffies */
	unsigned int cls;		/* 0 for a large run */
};

/*
 * Each CPU's spare sample record: a sampled object's free leaves its
 * record there for the next sample, so that a sample allocated and freed
 * in turn costs no kmalloc() and kfree(). Taken and put with
 * this_cpu_xchg(), which needs no lock and is safe against interrupts.
 */
static DEFINE_PER_CPU(struct gom_prof_sample *, gom_prof_spare);

static DEFINE_SPINLOCK(gom_prof_lock);
static DEFINE_HASHTABLE(gom_prof_samples, 12);
static DEFINE_HASHTABLE(gom_prof_buckets, 10);
static LIST_HEAD(gom_prof_clients);
static DEFINE_MUTEX(gom_prof_mutex);
static struct kobject *gom_clients_dir;
static u64 gom_lifetime_sum[GOM_NR_CLASSES];	/* jiffies, sampled frees */
static unsigned long gom_lifetime_n[GOM_NR_CLASSES];

static void clients_work(struct work_struct *work);
static DECLARE_WORK(gom_clients_work, clients_work);

/* log2(1 + i / 64) and 2^(-i / 64), in 1/65536 and 1/2^32. */
static const u16 gom_log2_tab[65] = {
	0, 1466, 2909, 4331, 5732, 7112, 8473, 9814, 11136, 12440, 13727,
	14996, 16248, 17484, 18704, 19909, 21098, 22272, 23433, 24579, 25711,
	26830, 27936, 29029, 30109, 31178, 32234, 33279, 34312, 35334, 36346,
	37346, 38336, 39316, 40286, 41246, 42196, 43137, 44068, 44990, 45904,
	46809, 47705, 48593, 49472, 50344, 51207, 52063, 52911, 53751, 54584,
	55410, 56229, 57040, 57845, 58643, 59434, 60219, 60997, 61769, 62534,
	63294, 64047, 64794, 65535,
};

static const u32 gom_exp2_tab[65] = {
	4294967295U, 4248701965U, 4202935003U, 4157661043U, 4112874773U,
	4068570940U, 4024744348U, 3981389855U, 3938502376U, 3896076880U,
	3854108391U, 3812591987U, 3771522796U, 3730896002U, 3690706840U,
	3650950594U, 3611622603U, 3572718252U, 3534232978U, 3496162267U,
	3458501653U, 3421246719U, 3384393094U, 3347936457U, 3311872529U,
	3276197082U, 3240905930U, 3205994934U, 3171459999U, 3137297074U,
	3103502151U, 3070071267U, 3037000500U, 3004285971U, 2971923842U,
	2939910317U, 2908241642U, 2876914102U, 2845924021U, 2815267765U,
	2784941738U, 2754942382U, 2725266179U, 2695909648U, 2666869345U,
	2638141863U, 2609723834U, 2581611923U, 2553802834U, 2526293303U,
	2499080105U, 2472160047U, 2445529972U, 2419186755U, 2393127307U,
	2367348571U, 2341847524U, 2316621173U, 2291666561U, 2266980759U,
	2242560872U, 2218404036U, 2194507417U, 2170868212U, 2147483648U,
};

/* log2(@x), x >= 1, in 1/65536. */
static u32 log2_q16(u32 x)
{
	unsigned int i = ilog2(x);
	u32 f = i >= 16 ? x >> (i - 16) : x << (16 - i);	/* 1.f in Q16 */
	u32 j = (f >> 10) & 63, r = f & 1023;

	return (i << 16) + gom_log2_tab[j] +
	       (((gom_log2_tab[j + 1] - gom_log2_tab[j]) * r) >> 10);
}

/* 2^(-@z), @z in 1/65536, in 1/2^32. */
static u64 exp2_neg_q32(u64 z)
{
	u32 j = (z >> 10) & 63, r = z & 1023;
	u64 v;

	if (z >> 16 >= 32)
		return 0;
	v = gom_exp2_tab[j] - (((u64)(gom_exp2_tab[j] -
				      gom_exp2_tab[j + 1]) * r) >> 10);
	return v >> (z >> 16);
}

/*
 * An exponential distribution of mean profile_rate, as Go's fastexprand:
 * -ln(q) * rate for q uniform in (0, 1], from 26 bits of @random.
 */
static long distance(u32 random)
{
	unsigned long rate = READ_ONCE(gom_profile_rate);
	u32 q = (random >> 6) + 1;
	u64 minus_log2 = (26ULL << 16) - log2_q16(q);

	if (!rate)
		return LONG_MAX;
	if (rate == 1)
		return 0;
	/* ln 2 = 45426 / 65536 */
	return mul_u64_u64_shr(minus_log2 * 45426, rate, 32);
}

/**
 * gom_profile_next() - bytes to the next sample
 *
 * Context: any.
 * Return: the distance in bytes, drawn from an exponential distribution
 * of mean profile_rate; 0 with profile_rate 1, LONG_MAX with 0.
 */
long gom_profile_next(void)
{
	return distance(get_random_u32());
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_next);

/*
 * The next distance of @mc's CPU, from its own pseudo-random state: a
 * xorshift64* generator, as cheap as Go's for its sampler; the state is
 * never 0.
 */
static long draw(struct gom_mcache *mc)
{
	u64 x = mc->sample_rnd;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	mc->sample_rnd = x;
	return distance((x * 0x2545f4914f6cdd1dULL) >> 32);
}

/*
 * The fast path leaves a CPU that took a sample at LONG_MAX, waiting for
 * its next distance (drawing it in the section would cost every
 * allocation registers): draw it if it still waits. Preemption disabled.
 */
static void rearm(struct gom_mcache *mc)
{
	if (mc->sample_left > LONG_MAX / 2)
		mc->sample_left = draw(mc);
}

/*
 * Give this CPU its next distance if it waits: done when a sample is
 * recorded, on the CPU the recording runs on. A migration in between
 * leaves the sampling CPU waiting; its next slow-path allocation
 * (gom_profile_count()) rearms it, so that no CPU stops sampling and the
 * estimates do not fall short. Not inside the CPU's section.
 */
static void rearm_local(void)
{
	preempt_disable();
	rearm(this_cpu_read(gom_mcache_pcpu));
	preempt_enable();
}

/*
 * Objects a sample of @size stands for at @rate, in 1/65536
 * (scaleHeapSample).
 */
static u64 sample_weight(size_t size, unsigned long rate)
{
	u64 z, p;

	if (rate <= 1)
		return GOM_PROF_ONE;
	/* exp(-size/rate) = 2^(-size/rate/ln 2); 1/ln 2 = 94548 / 65536 */
	z = mul_u64_u64_div_u64((u64)size << 16, 94548, (u64)rate << 16);
	p = (1ULL << 32) - exp2_neg_q32(z);	/* 1 - exp(-size/rate) */
	return p ? div64_u64(1ULL << 48, p) : U64_MAX >> 20;
}

/*
 * Give @s the weight of a sample of @size at @rate. A record left spare
 * by a sample's free keeps the weight it had: a loop that allocates one
 * size pays for the arithmetic (some 30 instructions, two of them
 * divisions) once.
 */
static void weigh(struct gom_prof_sample *s, size_t size, unsigned long rate)
{
	if (s->size == size && s->rate == rate)
		return;
	s->size = size;
	s->rate = rate;
	s->weight = sample_weight(size, rate);
	s->bytes = (s->weight * size) >> 16;
}

/*
 * The module of @caller, from the symbol's "[module]" suffix: Debian's
 * 6.1 does not export __module_address(). Only a stack's first sample
 * pays for it.
 */
static void caller_module(unsigned long caller, char *name)
{
	char buf[KSYM_SYMBOL_LEN], *mod, *end;

	sprint_symbol(buf, caller);
	mod = strrchr(buf, '[');
	end = mod ? strchr(mod, ']') : NULL;
	if (!end) {
		strscpy(name, "kernel", MODULE_NAME_LEN);
		return;
	}
	*end = 0;
	strscpy(name, mod + 1, MODULE_NAME_LEN);
}

static struct gom_prof_client *find_client(const char *name)
{
	struct gom_prof_client *c;

	list_for_each_entry(c, &gom_prof_clients, list)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static struct gom_prof_bucket *find_bucket(depot_stack_handle_t stack)
{
	struct gom_prof_bucket *b;

	hash_for_each_possible(gom_prof_buckets, b, node, stack)
		if (b->stack == stack)
			return b;
	return NULL;
}

static struct gom_prof_sample *find_sample(const void *obj)
{
	struct gom_prof_sample *s;

	hash_for_each_possible(gom_prof_samples, s, node, (unsigned long)obj)
		if (s->obj == obj)
			return s;
	return NULL;
}

/*
 * A new stack's bucket, and its client if the module is new, from
 * memory taken before the lock; what is not used is freed by the
 * caller. Lock held.
 */
static struct gom_prof_bucket *new_bucket(depot_stack_handle_t stack,
					  const char *module,
					  struct gom_prof_bucket **nb,
					  struct gom_prof_client **nc)
{
	struct gom_prof_bucket *b = find_bucket(stack);
	struct gom_prof_client *c;

	if (b)		/* made by another CPU while the lock was dropped */
		return b;
	c = find_client(module);
	if (!c) {
		c = *nc;
		*nc = NULL;
		strscpy(c->name, module, sizeof(c->name));
		list_add_tail(&c->list, &gom_prof_clients);
		schedule_work(&gom_clients_work);
	}
	b = *nb;
	*nb = NULL;
	b->stack = stack;
	b->client = c;
	hash_add(gom_prof_buckets, &b->node, stack);
	return b;
}

/*
 * A span with a live sample sends its frees to the slow path, and names
 * the sample while it is its only one, so that the frees of its other
 * objects need not look (gom_obj_may_sample()); a run's free finds its
 * bucket of gom_prof_runs[] counting one. Under gom_prof_lock, and before
 * the object is handed out.
 */
static __always_inline void mark_sampled(struct gom_prof_sample *ps,
					 int delta)
{
	struct gom_span *s = ps->span;

	if (!ps->cls) {
		unsigned int *n = &gom_prof_runs[gom_prof_run_bucket(ps->obj)];

		WRITE_ONCE(*n, *n + delta);
		return;
	}
	if (!s)
		return;
	WRITE_ONCE(s->sampled, delta > 0 && !s->nsampled ?
		   gom_obj_index(s, (unsigned long)ps->obj) : GOM_SAMPLED_ANY);
	WRITE_ONCE(s->nsampled, s->nsampled + delta);
	WRITE_ONCE(s->mag_off, s->nsampled ? gom_mag_off(0) :
		   gom_mag_off(s->cls));
}

static __always_inline void account(struct gom_prof_sample *s, int sign)
{
	struct gom_prof_bucket *b = s->b;

	b->live_objs += sign * (s64)s->weight;
	b->live_bytes += sign * (s64)s->bytes;
	b->client->live_objs += sign * (s64)s->weight;
	b->client->live_bytes += sign * (s64)s->bytes;
	if (sign > 0) {
		b->alloc_objs += s->weight;
		b->alloc_bytes += s->bytes;
		b->client->allocs += s->weight;
	}
}

/*
 * The allocation's stack, from the client's frame out (gom_unwind_save()).
 * Inline, as its callers return through tail calls where they can: every
 * frame of gomalloc's between the client and the unwinder costs an ORC
 * lookup in the module's table, several hundred instructions a walk.
 */
static __always_inline depot_stack_handle_t
save_stack(gfp_t gfp, unsigned long *caller)
{
	return gom_unwind_save((unsigned long *)__builtin_frame_address(0) + 1,
			       gfp, caller);
}

/* Enter @s, whose bucket is set, in the tables. Lock held. */
static void file_sample(struct gom_prof_sample *s)
{
	hash_add(gom_prof_samples, &s->node, (unsigned long)s->obj);
	WRITE_ONCE(gom_profile_live, gom_profile_live + 1);
	account(s, 1);
	mark_sampled(s, 1);
}

/*
 * add_sample() for the first sample of a stack: it pays for the bucket
 * and for the symbol lookup that names its module, with the lock dropped.
 */
static noinline bool add_first_sample(struct gom_prof_sample *s,
				      depot_stack_handle_t stack,
				      unsigned long caller, gfp_t gfp)
{
	struct gom_prof_bucket *nb = kzalloc(sizeof(*nb), gfp);
	struct gom_prof_client *nc = kzalloc(sizeof(*nc), gfp);
	char module[MODULE_NAME_LEN];
	unsigned long flags;

	if (nb && nc) {
		caller_module(caller, module);
		spin_lock_irqsave(&gom_prof_lock, flags);
		s->b = new_bucket(stack, module, &nb, &nc);
		file_sample(s);
		spin_unlock_irqrestore(&gom_prof_lock, flags);
	}
	kfree(nb);
	kfree(nc);
	return s->b;
}

/* File @s under its stack's bucket; false if it could not be made. */
static bool add_sample(struct gom_prof_sample *s, depot_stack_handle_t stack,
		       unsigned long caller, gfp_t gfp)
{
	unsigned long flags;

	spin_lock_irqsave(&gom_prof_lock, flags);
	s->b = find_bucket(stack);
	if (unlikely(!s->b)) {
		spin_unlock_irqrestore(&gom_prof_lock, flags);
		return add_first_sample(s, stack, caller, gfp);
	}
	file_sample(s);
	spin_unlock_irqrestore(&gom_prof_lock, flags);
	return true;
}

/**
 * gom_profile_alloc() - record a sampled allocation
 * @obj: the object or large run handed out
 * @size: bytes asked for
 * @cls: its size class, 0 for a large run
 * @caller: the client's return address
 *
 * A sample that a CPU's section counted down to (gom_mc_sample()) left
 * the CPU waiting for its next distance: it is drawn first.
 *
 * Context: any context where kmalloc(GFP_NOWAIT) is allowed; outside the
 * CPU's section. A sample whose record cannot be allocated is dropped.
 * Return: @obj, so that a caller can hand it out with a tail call.
 */
noinline void *gom_profile_alloc(void *obj, size_t size, unsigned int cls,
				 unsigned long caller)
{
	const gfp_t gfp = GFP_NOWAIT | __GFP_NOWARN;
	unsigned long rate = READ_ONCE(gom_profile_rate);
	struct gom_prof_sample *s;
	depot_stack_handle_t stack;

	rearm_local();
	if (!rate || (IS_ENABLED(CONFIG_PREEMPT_RT) && !preemptible()))
		return obj;
	stack = save_stack(gfp, &caller);
	if (!stack)
		return obj;
	s = this_cpu_xchg(gom_prof_spare, NULL);
	if (!s) {
		s = kmalloc(sizeof(*s), gfp);
		if (!s)
			return obj;
		s->rate = 0;
	}
	s->obj = obj;
	s->cls = cls;
	weigh(s, size, rate);
	s->born = jiffies;
	/* a page map reader: preemption off makes it an RCU one (pagemap.c) */
	preempt_disable();
	s->span = cls ? (struct gom_span *)gom_pm_get((unsigned long)obj) :
		  NULL;
	preempt_enable();
	if (!add_sample(s, stack, caller, gfp))
		kfree(s);
	return obj;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_alloc);

/**
 * gom_profile_free() - forget a sampled object being freed
 * @obj: the object or large run
 *
 * Context: any context where kfree() is allowed, before @obj is freed.
 */
void gom_profile_free(const void *obj)
{
	struct gom_prof_sample *s;
	unsigned long flags;

	spin_lock_irqsave(&gom_prof_lock, flags);
	s = find_sample(obj);
	if (s) {
		hash_del(&s->node);
		WRITE_ONCE(gom_profile_live, gom_profile_live - 1);
		account(s, -1);
		mark_sampled(s, -1);
		gom_lifetime_sum[s->cls] += jiffies - s->born;
		gom_lifetime_n[s->cls]++;
	}
	spin_unlock_irqrestore(&gom_prof_lock, flags);
	if (s)
		s = this_cpu_xchg(gom_prof_spare, s);
	if (unlikely(s))	/* the CPU had a spare already */
		kfree(s);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_free);

/**
 * gom_profile_count() - count down an allocation made outside a section
 * @size: bytes asked for
 *
 * The slow paths' share of the countdown the fast path keeps in its
 * section: a race with an interrupt on this CPU can lose a subtraction,
 * which only moves the next sample.
 *
 * Context: any.
 * Return: true if the allocation is a sample, for gom_profile_alloc().
 */
bool gom_profile_count(size_t size)
{
	struct gom_mcache *mc;
	bool sample;

	preempt_disable();
	mc = this_cpu_read(gom_mcache_pcpu);
	rearm(mc);
	mc->sample_left -= size;
	sample = mc->sample_left < 0;
	if (sample)
		mc->sample_left = draw(mc);
	preempt_enable();
	return sample;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_count);

/**
 * gom_profile_tick_bulk() - count a bulk allocation in one subtraction
 * @ptrs: the objects
 * @nr: how many
 * @size: bytes asked for each
 * @cls: their class
 * @caller: the client's return address
 *
 * What gom_profile_count() and gom_profile_alloc() do for each object,
 * with the countdown read and written once per sample rather than once
 * per object: the object at which it goes below zero is the sample.
 *
 * Context: as gom_profile_alloc().
 */
void gom_profile_tick_bulk(void **ptrs, size_t nr, size_t size,
			   unsigned int cls, unsigned long caller)
{
	struct gom_mcache *mc;
	size_t i = 0, k;
	long left;

	while (i < nr) {
		preempt_disable();
		mc = this_cpu_read(gom_mcache_pcpu);
		rearm(mc);
		left = mc->sample_left;
		k = left > 0 ? left / size : 0;	/* objects before the sample */
		if (k >= nr - i) {
			mc->sample_left = left - (long)((nr - i) * size);
			preempt_enable();
			return;
		}
		mc->sample_left = draw(mc);
		preempt_enable();
		i += k;
		gom_profile_alloc(ptrs[i++], size, cls, caller);
	}
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_tick_bulk);

/**
 * gom_set_profile_rate() - set the mean bytes between samples
 * @rate: bytes; 0 turns sampling off, 1 samples every allocation
 *
 * Samples still live are kept and forgotten as their objects are freed.
 *
 * Context: process context.
 * Return: 0.
 */
int gom_set_profile_rate(unsigned long rate)
{
	unsigned int cpu;

	mutex_lock(&gom_prof_mutex);
	WRITE_ONCE(gom_profile_rate, rate);
	if (rate && !static_key_enabled(&gom_profile_key))
		static_branch_enable(&gom_profile_key);
	else if (!rate && static_key_enabled(&gom_profile_key))
		static_branch_disable(&gom_profile_key);
	for_each_possible_cpu(cpu)
		WRITE_ONCE(gom_mcache_of(cpu)->sample_left, gom_profile_next());
	mutex_unlock(&gom_prof_mutex);
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_set_profile_rate);

static int rate_param_set(const char *val, const struct kernel_param *kp)
{
	unsigned long rate;
	int ret = kstrtoul(val, 0, &rate);

	if (ret)
		return ret;
	/* at load the caches do not exist yet: gom_profile_init() applies it */
	if (!gom_mcache_of(0)) {
		gom_profile_rate = rate;
		return 0;
	}
	return gom_set_profile_rate(rate);
}

static const struct kernel_param_ops rate_param_ops = {
	.set = rate_param_set,
	.get = param_get_ulong,
};
module_param_cb(profile_rate, &rate_param_ops, &gom_profile_rate, 0644);
MODULE_PARM_DESC(profile_rate, "Mean bytes allocated between two heap profile samples (0: off, 1: every allocation)");

/**
 * gom_profile_lifetime() - mean lifetime of a class's sampled objects
 * @cls: size class, 0 for large runs
 * @n: set to the number of sampled objects freed
 *
 * Context: any.
 * Return: the mean time from allocation to free, in milliseconds.
 */
u64 gom_profile_lifetime(unsigned int cls, unsigned long *n)
{
	unsigned long flags;
	u64 sum;

	spin_lock_irqsave(&gom_prof_lock, flags);
	*n = gom_lifetime_n[cls];
	sum = gom_lifetime_sum[cls];
	spin_unlock_irqrestore(&gom_prof_lock, flags);
	return *n ? div64_u64(jiffies64_to_msecs(sum), *n) : 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_lifetime);

static long q16(s64 v)
{
	return v > 0 ? (v + GOM_PROF_ONE / 2) >> 16 : 0;
}

static int by_live_bytes(const void *a, const void *b)
{
	const struct gom_prof_record *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes > y->live_bytes ? -1 : 1;
	return x->alloc_bytes > y->alloc_bytes ? -1 :
	       x->alloc_bytes < y->alloc_bytes;
}

/**
 * gom_profile_snapshot() - copy every stack's estimates, by live bytes
 * @nr: set to the number of records
 *
 * Context: process context.
 * Return: a kvmalloc()ed array the caller frees with kvfree(), or NULL.
 */
struct gom_prof_record *gom_profile_snapshot(unsigned int *nr)
{
	struct gom_prof_record *r, *out;
	struct gom_prof_bucket *b;
	unsigned int n = 0, max = 64, bkt;
	unsigned long flags;

	for (;;) {
		out = kvmalloc_array(max, sizeof(*out), GFP_KERNEL);
		if (!out)
			return NULL;
		n = 0;
		spin_lock_irqsave(&gom_prof_lock, flags);
		hash_for_each(gom_prof_buckets, bkt, b, node) {
			if (n == max)
				break;
			r = &out[n++];
			r->stack = b->stack;
			r->frames = b->frames;
			strscpy(r->module, b->client->name, sizeof(r->module));
			r->live_objs = q16(b->live_objs);
			r->live_bytes = b->live_bytes > 0 ? b->live_bytes : 0;
			r->alloc_objs = q16(b->alloc_objs);
			r->alloc_bytes = b->alloc_bytes;
		}
		spin_unlock_irqrestore(&gom_prof_lock, flags);
		if (n < max)
			break;
		kvfree(out);
		max *= 4;
	}
	sort(out, n, sizeof(*out), by_live_bytes, NULL);
	*nr = n;
	return out;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_profile_snapshot);

/* Print @r's frames innermost first, one per line, as "\t%pS". */
static void show_frames(struct seq_file *m, const struct gom_prof_record *r)
{
	unsigned long *entries;
	unsigned int n, i;

	if (r->frames) {
		for (i = 0; i < r->frames->nr; i++)
			seq_printf(m, "\t%s\n", r->frames->full[i]);
		return;
	}
	n = stack_depot_fetch(r->stack, &entries);
	for (i = 0; i < n; i++)
		seq_printf(m, "\t%pS\n", (void *)entries[i]);
}

/* Print @r's frames outermost first, as ";%ps" each. */
static void fold_frames(struct seq_file *m, const struct gom_prof_record *r)
{
	unsigned long *entries;
	unsigned int n;

	if (r->frames) {
		for (n = r->frames->nr; n--; )
			seq_printf(m, ";%s", r->frames->name[n]);
		return;
	}
	n = stack_depot_fetch(r->stack, &entries);
	while (n--)
		seq_printf(m, ";%ps", (void *)entries[n]);
}

/* heap_profile: a header, then per stack its estimates and its frames. */
static int heap_profile_show(struct seq_file *m, void *unused)
{
	struct gom_prof_record *r;
	unsigned int n, i;
	long objs = 0, bytes = 0;

	r = gom_profile_snapshot(&n);
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		objs += r[i].live_objs;
		bytes += r[i].live_bytes;
	}
	seq_printf(m, "heap profile: rate %lu, %u stacks, estimated live %ld objects, %ld bytes\n",
		   READ_ONCE(gom_profile_rate), n, objs, bytes);
	seq_puts(m, "# live_objects live_bytes alloc_objects alloc_bytes module\n");
	for (i = 0; i < n; i++) {
		seq_printf(m, "%ld %ld %lu %lu %s\n", r[i].live_objs,
			   r[i].live_bytes, r[i].alloc_objs, r[i].alloc_bytes,
			   r[i].module);
		show_frames(m, &r[i]);
	}
	kvfree(r);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(heap_profile);

/* heap_folded: "outer;...;leaf bytes", live bytes per stack. */
static int heap_folded_show(struct seq_file *m, void *unused)
{
	struct gom_prof_record *r;
	unsigned int n, i;

	r = gom_profile_snapshot(&n);
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (r[i].live_bytes <= 0)
			continue;
		seq_printf(m, "[%s]", r[i].module);
		fold_frames(m, &r[i]);
		seq_printf(m, " %ld\n", r[i].live_bytes);
	}
	kvfree(r);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(heap_folded);

/**
 * gom_profile_debugfs() - create heap_profile and heap_folded
 * @dir: /sys/kernel/debug/gomalloc
 *
 * Context: process context (module init).
 */
void gom_profile_debugfs(struct dentry *dir)
{
	debugfs_create_file("heap_profile", 0400, dir, NULL,
			    &heap_profile_fops);
	debugfs_create_file("heap_folded", 0400, dir, NULL, &heap_folded_fops);
}

/* clients/<module>/: files of one client, one value each. */
struct gom_client_attr {
	struct kobj_attribute attr;
	long (*value)(const struct gom_prof_client *c);
};

static struct gom_prof_client *kobj_client(struct kobject *kobj)
{
	struct gom_prof_client *c;

	list_for_each_entry(c, &gom_prof_clients, list)
		if (c->kobj == kobj)
			return c;
	return NULL;
}

static ssize_t client_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct gom_client_attr *a = container_of(attr, struct gom_client_attr,
						 attr);
	struct gom_prof_client *c;
	unsigned long flags;
	long v = 0;

	spin_lock_irqsave(&gom_prof_lock, flags);
	c = kobj_client(kobj);
	if (c)
		v = a->value(c);
	spin_unlock_irqrestore(&gom_prof_lock, flags);
	return sysfs_emit(buf, "%ld\n", v);
}

static long client_bytes(const struct gom_prof_client *c)
{
	return c->live_bytes > 0 ? c->live_bytes : 0;
}

static long client_objects(const struct gom_prof_client *c)
{
	return q16(c->live_objs);
}

static long client_allocs(const struct gom_prof_client *c)
{
	return q16(c->allocs);
}

#define GOM_CLIENT_ATTR(_name, _fn)					\
	static struct gom_client_attr client_##_name##_attr = {		\
		.attr = __ATTR(_name, 0444, client_show, NULL),		\
		.value = _fn,						\
	}

GOM_CLIENT_ATTR(bytes_inuse, client_bytes);
GOM_CLIENT_ATTR(objects_inuse, client_objects);
GOM_CLIENT_ATTR(allocs, client_allocs);

static struct attribute *client_attrs[] = {
	&client_bytes_inuse_attr.attr.attr,
	&client_objects_inuse_attr.attr.attr,
	&client_allocs_attr.attr.attr,
	NULL
};

static const struct attribute_group client_group = {
	.attrs = client_attrs,
};

/* Give every client seen so far its directory; sleeps. */
static void clients_work(struct work_struct *work)
{
	struct gom_prof_client *c, *todo;
	struct kobject *kobj;
	unsigned long flags;

	mutex_lock(&gom_prof_mutex);
	while (gom_clients_dir) {
		todo = NULL;
		spin_lock_irqsave(&gom_prof_lock, flags);
		list_for_each_entry(c, &gom_prof_clients, list)
			if (!c->kobj) {
				todo = c;
				break;
			}
		spin_unlock_irqrestore(&gom_prof_lock, flags);
		if (!todo)
			break;
		kobj = kobject_create_and_add(todo->name, gom_clients_dir);
		if (kobj && sysfs_create_group(kobj, &client_group)) {
			kobject_put(kobj);
			kobj = NULL;
		}
		/* clients never go away while gomalloc is loaded */
		spin_lock_irqsave(&gom_prof_lock, flags);
		todo->kobj = kobj ? kobj : ERR_PTR(-ENOMEM);
		spin_unlock_irqrestore(&gom_prof_lock, flags);
	}
	mutex_unlock(&gom_prof_mutex);
}

/**
 * gom_profile_sysfs() - create /sys/kernel/gomalloc/clients
 * @root: /sys/kernel/gomalloc
 *
 * Context: process context (module init).
 * Return: 0 or -ENOMEM.
 */
int gom_profile_sysfs(struct kobject *root)
{
	gom_clients_dir = kobject_create_and_add("clients", root);
	if (!gom_clients_dir)
		return -ENOMEM;
	schedule_work(&gom_clients_work);
	return 0;
}

/**
 * gom_profile_sysfs_exit() - remove /sys/kernel/gomalloc/clients
 *
 * Context: process context (module exit).
 */
void gom_profile_sysfs_exit(void)
{
	struct gom_prof_client *c;

	mutex_lock(&gom_prof_mutex);
	list_for_each_entry(c, &gom_prof_clients, list) {
		if (!IS_ERR_OR_NULL(c->kobj))
			kobject_put(c->kobj);
		c->kobj = NULL;
	}
	kobject_put(gom_clients_dir);
	gom_clients_dir = NULL;
	mutex_unlock(&gom_prof_mutex);
	flush_work(&gom_clients_work);
}

/* The leak report's frames: the stack depot's, or those kept as text. */
static void print_frames(const struct gom_prof_record *r)
{
	unsigned int i;

	if (!r->frames) {
		stack_depot_print(r->stack);
		return;
	}
	for (i = 0; i < r->frames->nr; i++)
		pr_err(" %s\n", r->frames->full[i]);
}

/**
 * gom_profile_report_leaks() - name the clients and stacks still holding
 *				memory
 *
 * The estimates of the samples still live when gomalloc is unloaded: the
 * clients that leaked, and each one's top three stacks.
 *
 * Context: process context (module exit).
 */
void gom_profile_report_leaks(void)
{
	struct gom_prof_record *r;
	struct gom_prof_client *c;
	unsigned int n, i, shown;

	r = gom_profile_snapshot(&n);
	if (!r)
		return;
	list_for_each_entry(c, &gom_prof_clients, list) {
		if (c->live_bytes <= 0)
			continue;
		pr_err("%s still holds about %lld bytes in %ld objects (sampled); top stacks:\n",
		       c->name, c->live_bytes, q16(c->live_objs));
		for (i = 0, shown = 0; i < n && shown < 3; i++) {
			if (r[i].live_bytes <= 0 || strcmp(r[i].module, c->name))
				continue;
			pr_err(" about %ld bytes in %ld objects allocated at:\n",
			       r[i].live_bytes, r[i].live_objs);
			print_frames(&r[i]);
			shown++;
		}
	}
	kvfree(r);
}

static bool in_module(depot_stack_handle_t stack, struct module *mod,
		      bool init_only)
{
	unsigned long *entries;
	unsigned int n = stack_depot_fetch(stack, &entries);

	while (n--)
		if (init_only ? within_module_init(entries[n], mod) :
		    within_module(entries[n], mod))
			return true;
	return false;
}

static void free_frames(struct gom_prof_frames *f)
{
	unsigned int i;

	if (!f)
		return;
	for (i = 0; i < f->nr; i++) {
		kfree(f->full[i]);
		kfree(f->name[i]);
	}
	kfree(f);
}

/* Name @stack's frames while every module in it is still there. */
static struct gom_prof_frames *name_frames(depot_stack_handle_t stack)
{
	struct gom_prof_frames *f = kzalloc(sizeof(*f), GFP_KERNEL);
	unsigned long *entries;
	unsigned int n = stack_depot_fetch(stack, &entries), i;

	if (!f)
		return NULL;
	for (i = 0; i < min_t(unsigned int, n, GOM_PROF_DEPTH); i++) {
		f->full[i] = kasprintf(GFP_KERNEL, "%pS", (void *)entries[i]);
		f->name[i] = kasprintf(GFP_KERNEL, "%ps", (void *)entries[i]);
		f->nr = i + 1;
		if (!f->full[i] || !f->name[i]) {
			free_frames(f);
			return NULL;
		}
	}
	return f;
}

/*
 * The buckets whose stacks run through @mod (its init text only if
 * @init_only) and have no names yet, at most @max into @out.
 */
static unsigned int buckets_in(struct module *mod, bool init_only,
			       struct gom_prof_bucket **out, unsigned int max)
{
	struct gom_prof_bucket *b;
	unsigned int n = 0, bkt;
	unsigned long flags;

	spin_lock_irqsave(&gom_prof_lock, flags);
	hash_for_each(gom_prof_buckets, bkt, b, node)
		if (n < max && !b->frames && in_module(b->stack, mod, init_only))
			out[n++] = b;
	spin_unlock_irqrestore(&gom_prof_lock, flags);
	return n;
}

/*
 * Name the frames of every stack that runs through @mod before its text
 * goes. Buckets live until gomalloc is unloaded, so the pointers hold.
 */
static void name_module_frames(struct module *mod, bool init_only)
{
	struct gom_prof_bucket **b;
	struct gom_prof_frames *f;
	unsigned int n, i, max = 1024;
	unsigned long flags;

	b = kvmalloc_array(max, sizeof(*b), GFP_KERNEL);
	if (!b)
		return;
	mutex_lock(&gom_prof_mutex);
	n = buckets_in(mod, init_only, b, max);
	for (i = 0; i < n; i++) {
		f = name_frames(b[i]->stack);
		spin_lock_irqsave(&gom_prof_lock, flags);
		b[i]->frames = f;
		spin_unlock_irqrestore(&gom_prof_lock, flags);
	}
	mutex_unlock(&gom_prof_mutex);
	kvfree(b);
}

static int module_event(struct notifier_block *nb, unsigned long state,
			void *data)
{
	if (state == MODULE_STATE_LIVE || state == MODULE_STATE_GOING) {
		name_module_frames(data, state == MODULE_STATE_LIVE);
		gom_unwind_forget();
	}
	return NOTIFY_OK;
}

static struct notifier_block gom_prof_module_nb = {
	.notifier_call = module_event,
};

/**
 * gom_profile_init() - start sampling at profile_rate
 *
 * Context: process context (module init), after the CPUs' caches exist.
 * Return: 0.
 */
int gom_profile_init(void)
{
	unsigned int cpu;
	int ret;

	for_each_possible_cpu(cpu)
		gom_mcache_of(cpu)->sample_rnd = get_random_u64() | 1;
	stack_depot_init();
	gom_unwind_init();
	ret = register_module_notifier(&gom_prof_module_nb);
	if (ret) {
		gom_unwind_exit();
		return ret;
	}
	return gom_set_profile_rate(gom_profile_rate);
}

/**
 * gom_profile_exit() - stop sampling and free every record
 *
 * Context: process context (module exit), nothing allocates any more.
 */
void gom_profile_exit(void)
{
	struct gom_prof_sample *s;
	struct gom_prof_bucket *b;
	struct gom_prof_client *c, *tmp;
	struct hlist_node *t;
	unsigned int bkt;
	int cpu;

	if (static_key_enabled(&gom_profile_key))
		static_branch_disable(&gom_profile_key);
	unregister_module_notifier(&gom_prof_module_nb);
	gom_unwind_exit();
	cancel_work_sync(&gom_clients_work);
	hash_for_each_safe(gom_prof_samples, bkt, t, s, node) {
		hash_del(&s->node);
		kfree(s);
	}
	for_each_possible_cpu(cpu)
		kfree(per_cpu(gom_prof_spare, cpu));
	hash_for_each_safe(gom_prof_buckets, bkt, t, b, node) {
		hash_del(&b->node);
		free_frames(b->frames);
		kfree(b);
	}
	list_for_each_entry_safe(c, tmp, &gom_prof_clients, list) {
		list_del(&c->list);
		kfree(c);
	}
}
