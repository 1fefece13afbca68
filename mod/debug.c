// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc debug: checks for client modules, in the spirit of slub_debug.
 *
 * debug= (module parameter, read at load) takes letters:
 *   F  full checks on every free: besides the trailer (always checked:
 *      a free of an object that is not live is a double free), the
 *      object's span must agree that it is handed out
 *   Z  a red zone after each object, filled when it is handed out and
 *      checked when it is freed
 *   P  free objects poisoned, checked when they are handed out again
 *   U  allocation and free stacks kept in the stack depot
 *   Q  a quarantine: freed objects wait, quarantine_kb in all, before they
 *      can be reused, so a use after free is still caught (by KASAN, or by
 *      P) after other objects were freed
 * With any of them, a small object carries a trailer at the end of its
 * slot (struct gom_debug_meta: state, bytes asked, callers, stacks), the
 * slot comes from the class that holds the request, the red zone and the
 * trailer, and gom_usable_size() returns the bytes asked. A request too
 * large for a trailer in any class becomes a page run; page runs are not
 * checked.
 *
 * A problem is reported once, naming the object, its class, the caller
 * that allocated it (%pS: function and client module) and, with U, the
 * stacks of its allocation and free; a double free also names the second
 * free and its stack. It is counted in /sys/kernel/gomalloc/debug_reports.
 * A corrupt object (red zone or poison overwritten) is never reused: it
 * stays allocated. A double free is dropped; the object stays free.
 *
 * Fault injection, /sys/kernel/debug/gomalloc/fail_alloc/, has failslab's
 * attributes (probability, interval, times, space, verbose) and a module
 * filter; it needs no CONFIG_FAULT_INJECTION.
 *
 * This file sits at the bottom with report.c: it calls no other level.
 * It is built without KASAN instrumentation: it reads and writes the
 * trailers, red zones and poison of objects that KASAN keeps poisoned.
 *
 * Locking: gom_quarantine_lock (irq-safe, a leaf) protects the quarantine;
 * fault injection state is atomics; trailers belong to their object.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/hash.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/poison.h>
#include <linux/prandom.h>
#include <linux/stackdepot.h>
#include <linux/stacktrace.h>
#include "debug.h"

#define GOM_DEBUG_F		BIT(0)
#define GOM_DEBUG_Z		BIT(1)
#define GOM_DEBUG_P		BIT(2)
#define GOM_DEBUG_U		BIT(3)
#define GOM_DEBUG_Q		BIT(4)

#define GOM_LIVE		0x676f6d6c6976650aUL	/* "gomlive\n" */
#define GOM_DEAD		0x676f6d646561640aUL	/* "gomdead\n" */
#define GOM_RED_MIN		8	/* smallest red zone, bytes */
#define GOM_STACK_DEPTH		16

DEFINE_STATIC_KEY_FALSE(gom_debug_key);
EXPORT_SYMBOL_GOM_INTERNAL(gom_debug_key);

static char gom_debug_opt[8];
module_param_string(debug, gom_debug_opt, sizeof(gom_debug_opt), 0444);
MODULE_PARM_DESC(debug, "Debug checks, letters as slub_debug: F (full checks), Z (red zones), P (poison), U (stacks), Q (quarantine)");

static unsigned int gom_quarantine_kb = 1024;
module_param_named(quarantine_kb, gom_quarantine_kb, uint, 0444);
MODULE_PARM_DESC(quarantine_kb, "Bytes of freed objects debug=Q keeps from reuse, in KiB");

static unsigned int gom_debug_flags;

/*
 * struct gom_debug_meta - trailer at the end of a checked object's slot
 *
 * @state is GOM_LIVE or GOM_DEAD xor the object's address, so that a stale
 * trailer at another address never passes for this one.
 */
struct gom_debug_meta {
	unsigned long state;
	unsigned long alloc_caller;
	unsigned long free_caller;
	u32 size;			/* bytes asked for */
	depot_stack_handle_t alloc_stack;
	depot_stack_handle_t free_stack;
	u32 pad;
};

/*
 * An object in the quarantine links to the next through its first word
 * and keeps its slot size in the second; free_plain() overwrites the
 * first with the free mark, q_pop() puts the poison back in the second.
 */
struct gom_qlink {
	void *next;
	unsigned long slot;
};

static struct gom_debug_meta *meta_of(const void *obj, size_t slot)
{
	return (struct gom_debug_meta *)(obj + slot - sizeof(struct gom_debug_meta));
}

static size_t red_end(size_t slot)
{
	return slot - sizeof(struct gom_debug_meta);
}

static bool has(unsigned int flag)
{
	return gom_debug_flags & flag;
}

/**
 * gom_debug_size() - bytes to allocate for a request with debug checks
 * @size: bytes asked for
 *
 * Context: any.
 * Return: @size with room for the red zone and the trailer, or @size
 * itself when no check is on or the request is a large one.
 */
size_t gom_debug_size(size_t size)
{
	size_t need = size + sizeof(struct gom_debug_meta);

	if (!gom_debug_flags || !size)
		return size;
	if (has(GOM_DEBUG_Z))
		need += GOM_RED_MIN;
	return need > GOM_MAX_SMALL_SIZE ? size : need;
}

static depot_stack_handle_t save_stack(void)
{
	unsigned long entries[GOM_STACK_DEPTH];
	unsigned int n;

	if (!has(GOM_DEBUG_U))
		return 0;
	n = stack_trace_save(entries, ARRAY_SIZE(entries), 2);
	return stack_depot_save(entries, n, GFP_NOWAIT);
}

static void print_stack(const char *what, unsigned long caller,
			depot_stack_handle_t stack)
{
	if (!caller)
		return;
	pr_err(" %s by %pS\n", what, (void *)caller);
	if (stack)
		stack_depot_print(stack);
}

/* The report of @what about @obj; @kept: the object stays out of use. */
static void report(const char *what, const void *obj, size_t slot,
		   bool kept)
{
	struct gom_debug_meta *m = meta_of(obj, slot);

	atomic_long_inc(&gom_counters.debug_reports);
	pr_err("BUG: %s: object %p in the %zu-byte class, %u bytes asked\n",
	       what, obj, slot, m->size);
	print_stack("allocated", m->alloc_caller, m->alloc_stack);
	print_stack("freed", m->free_caller, m->free_stack);
	if (kept)
		pr_err(" the object is kept out of use\n");
}

/*
 * The current stack, without dump_stack()'s "Call Trace:" banner: a
 * report is gomalloc's finding, not a kernel splat.
 */
static void print_here(void)
{
	unsigned long entries[GOM_STACK_DEPTH];
	unsigned int n = stack_trace_save(entries, ARRAY_SIZE(entries), 1);

	stack_trace_print(entries, n, 1);
}

/* A free that is dropped: also name the free that came again. */
static void report_free(const char *what, const void *obj, size_t slot,
			unsigned long caller)
{
	report(what, obj, slot, false);
	pr_err(" freed again by %pS\n", (void *)caller);
	print_here();
}

/*
 * Whether @n bytes at @p all hold @value; memchr_inv() without its KASAN
 * checks. Red zones and free objects are poisoned to KASAN, and this file
 * is built without instrumentation so that it can read them, but
 * lib/string.c is not: memchr_inv() would report every check.
 */
static bool all_bytes(const u8 *p, size_t n, u8 value)
{
	const unsigned long word = REPEAT_BYTE(value);

	while (n) {
		if (n >= sizeof(word) &&
		    IS_ALIGNED((unsigned long)p, sizeof(word))) {
			if (*(const unsigned long *)p != word)
				return false;
			p += sizeof(word);
			n -= sizeof(word);
		} else {
			if (*p++ != value)
				return false;
			n--;
		}
	}
	return true;
}

/* The first word carried the free mark and was cleared: skip it. */
static bool poison_intact(const void *obj, size_t slot)
{
	size_t skip = sizeof(unsigned long);

	return red_end(slot) <= skip ||
	       all_bytes(obj + skip, red_end(slot) - skip, POISON_FREE);
}

/**
 * gom_debug_alloc_ok() - check and prepare an object handed out
 * @obj: the object, from the class of gom_debug_size(@size)
 * @size: bytes asked for
 * @slot: the class's object size
 * @caller: the client's return address
 *
 * With P, an object that was freed must still hold its poison. The
 * trailer records the request; with Z, the red zone is filled.
 *
 * Context: any.
 * Return: true, or false after reporting an object modified while free
 * (the caller keeps it out of use and takes another).
 */
bool gom_debug_alloc_ok(void *obj, size_t size, size_t slot,
			unsigned long caller)
{
	struct gom_debug_meta *m = meta_of(obj, slot);

	if (has(GOM_DEBUG_P) && m->state == (GOM_DEAD ^ (unsigned long)obj) &&
	    !poison_intact(obj, slot)) {
		report("free object was modified (use after free)", obj, slot,
		       true);
		m->state = 0;
		return false;
	}
	m->state = GOM_LIVE ^ (unsigned long)obj;
	m->size = size;
	m->alloc_caller = caller;
	m->alloc_stack = save_stack();
	m->free_caller = 0;
	m->free_stack = 0;
	if (has(GOM_DEBUG_Z))
		memset(obj + size, POISON_INUSE, red_end(slot) - size);
	return true;
}

/**
 * gom_debug_free_ok() - check an object being freed
 * @obj: a small object of gomalloc's, validated against its span
 * @slot: its class's object size
 * @caller: the client's return address
 * @span_free: whether the object's span holds it free (for F)
 *
 * The object must be live, and with F its span must agree; with Z its
 * red zone must be intact. The trailer records the free; with P the object
 * is poisoned.
 *
 * Context: any.
 * Return: true to go on freeing it, false after a report (a double free,
 * or a red zone overwritten: that object is kept out of use).
 */
bool gom_debug_free_ok(void *obj, size_t slot, unsigned long caller,
		       bool span_free)
{
	struct gom_debug_meta *m = meta_of(obj, slot);
	unsigned long state = m->state ^ (unsigned long)obj;

	if (state != GOM_LIVE) {
		atomic_long_inc(&gom_counters.double_frees);
		report_free(state == GOM_DEAD ? "double free" :
			    "free of an object gomalloc did not hand out",
			    obj, slot, caller);
		return false;
	}
	if (has(GOM_DEBUG_F) && span_free) {
		atomic_long_inc(&gom_counters.double_frees);
		report_free("free of an object its span holds free", obj, slot,
			    caller);
		return false;
	}
	if (has(GOM_DEBUG_Z) && m->size <= red_end(slot) &&
	    !all_bytes(obj + m->size, red_end(slot) - m->size, POISON_INUSE)) {
		report("red zone overwritten after the object", obj, slot, true);
		m->state = 0;
		return false;
	}
	m->state = GOM_DEAD ^ (unsigned long)obj;
	m->free_caller = caller;
	m->free_stack = save_stack();
	if (has(GOM_DEBUG_P))
		memset(obj, POISON_FREE, red_end(slot));
	return true;
}

/**
 * gom_debug_usable() - bytes a checked object may use
 * @obj: a live small object
 * @slot: its class's object size
 *
 * Context: any.
 * Return: the bytes asked for, or @slot for an object without a trailer.
 */
size_t gom_debug_usable(const void *obj, size_t slot)
{
	const struct gom_debug_meta *m = meta_of(obj, slot);

	if (!gom_debug_flags || m->state != (GOM_LIVE ^ (unsigned long)obj))
		return slot;
	return m->size;
}

/**
 * gom_debug_carve() - forget stale trailers in a new span
 * @base: first object
 * @nobjs: objects in the span
 * @size: object size
 *
 * Pages reused for a span may hold trailers of objects that lived there
 * before; none of them describes the new objects.
 *
 * Context: any.
 */
void gom_debug_carve(unsigned long base, unsigned int nobjs,
		     unsigned int size)
{
	unsigned int i;

	if (!gom_debug_flags || size < sizeof(struct gom_debug_meta))
		return;
	for (i = 0; i < nobjs; i++)
		meta_of((void *)(base + i * size), size)->state = 0;
}

/* The quarantine: a FIFO of freed objects. */
static DEFINE_SPINLOCK(gom_quarantine_lock);
static struct gom_qlink *gom_q_head, *gom_q_tail;
static unsigned long gom_q_bytes;

static void *q_pop(void)
{
	struct gom_qlink *q = gom_q_head;

	if (!q)
		return NULL;
	gom_q_head = q->next;
	if (!gom_q_head)
		gom_q_tail = NULL;
	gom_q_bytes -= q->slot;
	if (has(GOM_DEBUG_P))
		memset(q, POISON_FREE, sizeof(*q));
	return q;
}

/**
 * gom_quarantine_put() - let a freed object wait before it is reused
 * @obj: the object, checked and poisoned
 * @slot: its class's object size
 *
 * Context: any.
 * Return: an object to free now (the oldest, once the quarantine holds
 * more than quarantine_kb), @obj itself without debug=Q, or NULL.
 */
void *gom_quarantine_put(void *obj, size_t slot)
{
	unsigned long flags;
	void *out = NULL;

	struct gom_qlink *q = obj;

	if (!has(GOM_DEBUG_Q))
		return obj;
	gom_kasan_poison(obj, 0, slot, GOM_KASAN_FREE);
	q->next = NULL;
	q->slot = slot;
	spin_lock_irqsave(&gom_quarantine_lock, flags);
	if (gom_q_tail)
		gom_q_tail->next = q;
	else
		gom_q_head = q;
	gom_q_tail = q;
	gom_q_bytes += slot;
	if (gom_q_bytes > (unsigned long)gom_quarantine_kb << 10)
		out = q_pop();
	spin_unlock_irqrestore(&gom_quarantine_lock, flags);
	return out;
}

/**
 * gom_quarantine_take() - take the oldest object out of the quarantine
 *
 * Context: any.
 * Return: the object, to be freed, or NULL when the quarantine is empty.
 */
void *gom_quarantine_take(void)
{
	unsigned long flags;
	void *obj;

	spin_lock_irqsave(&gom_quarantine_lock, flags);
	obj = q_pop();
	spin_unlock_irqrestore(&gom_quarantine_lock, flags);
	return obj;
}

/* Fault injection, as the kernel's failslab: Documentation/fault-injection. */
static struct {
	u32 probability;		/* percent */
	u32 interval;
	atomic_t times;			/* failures left, -1: no limit */
	atomic_long_t space;		/* bytes to let through first */
	u32 verbose;			/* 0, 1 (a line), 2 (and a stack) */
	atomic_t count;			/* calls, for interval */
	char module[MODULE_NAME_LEN];	/* only this client; "" for all */
} gom_fail = {
	.interval = 1,
	.times = ATOMIC_INIT(1),
};

static DEFINE_MUTEX(gom_fail_mutex);	/* serialises setting probability */

/*
 * The filter's answer for recent callers, so that a call site costs one
 * symbol lookup, not one per allocation: a small direct-mapped cache,
 * emptied when the filter changes (its generation is in the entry).
 */
#define GOM_FAIL_CACHE		64
static struct {
	unsigned long caller;		/* xor the generation in bit 63 */
	bool match;
} gom_fail_cache[GOM_FAIL_CACHE];
static unsigned long gom_fail_gen;	/* 0 or bit 63: flips with the filter */

/* Whether @caller's module is the one the filter names. */
static bool module_matches(unsigned long caller)
{
	char buf[KSYM_SYMBOL_LEN], *mod;
	unsigned int i = hash_long(caller, ilog2(GOM_FAIL_CACHE));
	unsigned long key = caller ^ READ_ONCE(gom_fail_gen);
	bool match;

	if (!gom_fail.module[0])
		return true;
	if (READ_ONCE(gom_fail_cache[i].caller) == key)
		return READ_ONCE(gom_fail_cache[i].match);
	sprint_symbol(buf, caller);
	mod = strrchr(buf, '[');
	match = mod && !strncmp(mod + 1, gom_fail.module,
				strlen(gom_fail.module)) &&
		mod[1 + strlen(gom_fail.module)] == ']';
	WRITE_ONCE(gom_fail_cache[i].match, match);
	WRITE_ONCE(gom_fail_cache[i].caller, key);
	return match;
}

/* failslab's space: requests pass while they fit in what is left. */
static bool budget_left(size_t size)
{
	if (atomic_long_read(&gom_fail.space) > size) {
		atomic_long_sub(size, &gom_fail.space);
		return true;
	}
	return false;
}

/**
 * gom_should_fail() - whether fault injection fails this allocation
 * @size: bytes asked for
 * @gfp: its flags; __GFP_NOFAIL requests never fail
 * @caller: the client's return address
 *
 * Context: any.
 * Return: true to fail the allocation (counted in faults_injected).
 */
bool gom_should_fail(size_t size, gfp_t gfp, unsigned long caller)
{
	int times;

	if (!READ_ONCE(gom_fail.probability) || (gfp & __GFP_NOFAIL) ||
	    !atomic_read(&gom_fail.times) || !module_matches(caller) ||
	    budget_left(size))
		return false;
	if (READ_ONCE(gom_fail.interval) > 1 &&
	    atomic_inc_return(&gom_fail.count) % READ_ONCE(gom_fail.interval))
		return false;
	if (READ_ONCE(gom_fail.probability) <= get_random_u32_below(100))
		return false;
	times = atomic_read(&gom_fail.times);
	if (times != -1 && atomic_dec_if_positive(&gom_fail.times) < 0)
		return false;
	atomic_long_inc(&gom_counters.faults_injected);
	if (READ_ONCE(gom_fail.verbose))
		pr_notice("fault injected: %zu bytes for %pS\n", size,
			  (void *)caller);
	if (READ_ONCE(gom_fail.verbose) > 1)
		print_here();
	return true;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_should_fail);

/* Send every allocation and free through the debug paths, or stop. */
static void debug_paths(bool on)
{
	if (on) {
		static_branch_inc(&gom_alloc_hook_key);
		static_branch_inc(&gom_free_hook_key);
		static_branch_inc(&gom_debug_key);
	} else {
		static_branch_dec(&gom_debug_key);
		static_branch_dec(&gom_free_hook_key);
		static_branch_dec(&gom_alloc_hook_key);
	}
}

static int probability_set(void *data, u64 val)
{
	if (val > 100)
		return -EINVAL;
	mutex_lock(&gom_fail_mutex);
	if (!gom_fail.probability && val)
		debug_paths(true);
	else if (gom_fail.probability && !val)
		debug_paths(false);
	WRITE_ONCE(gom_fail.probability, val);
	mutex_unlock(&gom_fail_mutex);
	return 0;
}

static int probability_get(void *data, u64 *val)
{
	*val = READ_ONCE(gom_fail.probability);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(probability_fops, probability_get, probability_set,
			 "%llu\n");

static int interval_set(void *data, u64 val)
{
	if (!val || val > UINT_MAX)
		return -EINVAL;
	WRITE_ONCE(gom_fail.interval, val);
	return 0;
}

static int interval_get(void *data, u64 *val)
{
	*val = READ_ONCE(gom_fail.interval);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(interval_fops, interval_get, interval_set, "%llu\n");

static ssize_t module_read(struct file *f, char __user *ubuf, size_t n,
			   loff_t *pos)
{
	char buf[MODULE_NAME_LEN + 1];
	int len = scnprintf(buf, sizeof(buf), "%s\n", gom_fail.module);

	return simple_read_from_buffer(ubuf, n, pos, buf, len);
}

/* A module name, or an empty line for every client. */
static ssize_t module_write(struct file *f, const char __user *ubuf,
			    size_t n, loff_t *pos)
{
	char buf[MODULE_NAME_LEN];

	if (n >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = 0;
	strim(buf);
	mutex_lock(&gom_fail_mutex);
	strscpy(gom_fail.module, buf, sizeof(gom_fail.module));
	memset(gom_fail_cache, 0, sizeof(gom_fail_cache));
	WRITE_ONCE(gom_fail_gen, gom_fail_gen ^ BIT(63));
	mutex_unlock(&gom_fail_mutex);
	return n;
}

static const struct file_operations module_fops = {
	.owner = THIS_MODULE,
	.read = module_read,
	.write = module_write,
	.llseek = default_llseek,
};

/**
 * gom_debug_debugfs() - create fail_alloc/ under gomalloc's debugfs dir
 * @dir: /sys/kernel/debug/gomalloc
 *
 * Context: process context (module init).
 */
void gom_debug_debugfs(struct dentry *dir)
{
	struct dentry *d = debugfs_create_dir("fail_alloc", dir);

	debugfs_create_file_unsafe("probability", 0600, d, NULL,
				   &probability_fops);
	debugfs_create_file_unsafe("interval", 0600, d, NULL, &interval_fops);
	debugfs_create_atomic_t("times", 0600, d, &gom_fail.times);
	debugfs_create_ulong("space", 0600, d,
			     (unsigned long *)&gom_fail.space);
	debugfs_create_u32("verbose", 0600, d, &gom_fail.verbose);
	debugfs_create_file("module", 0600, d, NULL, &module_fops);
}

static int parse_flags(const char *s, unsigned int *flags)
{
	static const char letters[] = "FZPUQ";
	const char *l;

	*flags = 0;
	for (; *s && *s != '-'; s++) {
		l = strchr(letters, toupper(*s));
		if (!l)
			return -EINVAL;
		*flags |= BIT(l - letters);
	}
	return 0;
}

/**
 * gom_debug_init() - read debug= and turn the checks on
 *
 * Context: process context (module init).
 * Return: 0, or -EINVAL for an unknown letter.
 */
int gom_debug_init(void)
{
	int ret = parse_flags(gom_debug_opt, &gom_debug_flags);

	if (ret) {
		pr_err("debug=%s: unknown option; known: F, Z, P, U, Q\n",
		       gom_debug_opt);
		return ret;
	}
	if (has(GOM_DEBUG_U))
		stack_depot_init();
	if (gom_debug_flags) {
		debug_paths(true);
		pr_info("debug checks on: %s\n", gom_debug_opt);
	}
	return 0;
}

/**
 * gom_debug_exit() - turn the checks off
 *
 * Context: process context (module exit), the quarantine drained.
 */
void gom_debug_exit(void)
{
	if (gom_debug_flags)
		debug_paths(false);
	if (gom_fail.probability)
		debug_paths(false);
}
