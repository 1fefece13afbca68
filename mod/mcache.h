/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomalloc mcache fast paths, inlined into the public API (api.c).
 *
 * A CPU's caches are used inside its section: preemption disabled and a
 * busy flag set, the idea behind SLUB's sheaves and local_trylock. Nothing
 * in a section waits, takes a lock or disables interrupts. An interrupt
 * that finds its CPU's section busy gets NULL from gom_mc_trylock() and
 * takes a slow path that is correct in any context (mcache.c). Lockdep
 * sees every section as a per-CPU lock taken with trylock, in which only
 * raw spinlocks could nest.
 *
 * Free objects carry a mark (see gom_obj_mark()): the free path refuses a
 * marked object and marks the one it takes, the allocation path clears
 * the mark of the object it hands out.
 *
 * The object last popped from a magazine is the CPU's memo (struct
 * gom_memo) until the next change to its magazines: a free of it raises
 * the count back, with no page map lookup. Paths that change the
 * magazines otherwise enter the section with gom_mc_trylock_mags(),
 * which ends the memo.
 */
#ifndef _GOM_MCACHE_H
#define _GOM_MCACHE_H

#include <linux/jump_label.h>
#include <linux/preempt.h>
#include "debug.h"
#include "internal.h"

static __always_inline void gom_mc_acquire(struct gom_mcache *mc)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lock_map_acquire_try(&mc->dep_map);
#endif
}

static __always_inline void gom_mc_release(struct gom_mcache *mc)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lock_map_release(&mc->dep_map);
#endif
}

/*
 * Enter this CPU's section; false if it is busy: the caller interrupted a
 * section on this CPU and must take a slow path.
 */
static __always_inline bool gom_mc_trylock(struct gom_mcache **mcp)
{
	struct gom_mcache *mc;

	preempt_disable();
	mc = this_cpu_read(gom_mcache_pcpu);
	if (unlikely(mc->busy)) {
		preempt_enable();
		return false;
	}
	mc->busy = 1;
	barrier();
	gom_mc_acquire(mc);
	*mcp = mc;
	return true;
}

static __always_inline void gom_mc_unlock(struct gom_mcache *mc)
{
	gom_mc_release(mc);
	barrier();
	mc->busy = 0;
	preempt_enable();
}

/* The memo (struct gom_memo) no longer holds; inside the section. */
static __always_inline void gom_mc_forget(struct gom_mcache *mc)
{
	WRITE_ONCE(mc->memo.mark, 0);
}

/*
 * gom_mc_trylock() for a path that changes the magazines otherwise than
 * by one pop or push: it forgets the memo.
 */
static __always_inline bool gom_mc_trylock_mags(struct gom_mcache **mcp)
{
	if (!gom_mc_trylock(mcp))
		return false;
	gom_mc_forget(*mcp);
	return true;
}

/*
 * Take an object of the class whose magazine is at @off (gom_mag_off()),
 * still marked, into *@objp: the magazine first, then the owned span's
 * claimed word. False if both are empty. An object from the magazine is
 * the CPU's memo until the next pop or push.
 */
static __always_inline bool gom_mc_pop(struct gom_mcache *mc, u32 off,
				       void **objp)
{
	struct gom_mag *m = (void *)mc + off;
	struct gom_span *s;
	unsigned long n;

	/* the borrow of n - 1 says whether it was empty: no test */
	if (likely(!check_sub_overflow((unsigned long)m->count, 1UL, &n))) {
		m->count = n;
		*objp = m->objs[n];
		/* its mark: a load of the line the hand-out clears it in */
		WRITE_ONCE(mc->memo.mark, gom_obj_word(*objp));
		mc->memo.mag = m;
	} else {
		gom_mc_forget(mc);
		s = m->span;
		if (unlikely(!s || !s->cache))
			return false;
		*objp = gom_span_pop(s, s->cache);
	}
	m->allocs++;
	return true;
}

/*
 * Count @size bytes down to the next heap profile sample; true when this
 * allocation is one. Inside the section: one subtraction, and no static
 * branch, which would cost the default (profiling on) one more jump.
 * With profiling off the count starts at LONG_MAX (gom_set_profile_rate())
 * and would need 2^63 bytes to reach a sample, which gom_profile_alloc()
 * would drop. The next distance is drawn out of the section, by
 * gom_profile_alloc(); until then nothing is sampled.
 */
static __always_inline bool gom_mc_sample(struct gom_mcache *mc, size_t size)
{
	mc->sample_left -= size;
	if (likely(mc->sample_left >= 0))
		return false;
	mc->sample_left = LONG_MAX;
	return true;
}

/*
 * gom_obj_span() for @ptr whose page map entry @e is a span's: false if
 * @ptr is not the start of one of its objects.
 */
static __always_inline bool gom_obj_in_span(const void *ptr,
					    unsigned long e,
					    struct gom_span **sp)
{
	struct gom_span *s = (struct gom_span *)e;

	if (unlikely(!gom_obj_valid(s, gom_obj_index(s, (unsigned long)ptr))))
		return false;
	*sp = s;
	return true;
}

/*
 * Find the span of @ptr, if it is the start of a small object of
 * gomalloc's; false for anything else (a foreign pointer, an interior
 * pointer, NULL), without touching @ptr's memory.
 */
static __always_inline bool gom_obj_span(const void *ptr,
					 struct gom_span **sp)
{
	unsigned long e = gom_pm_get((unsigned long)ptr);

	return likely(gom_pm_is_span(e)) && gom_obj_in_span(ptr, e, sp);
}

/* Only with more than one node can a span be another node's. */
DECLARE_STATIC_KEY_FALSE(gom_numa_key);

static __always_inline bool gom_numa_remote(struct gom_mcache *mc,
					    struct gom_span *s)
{
	return static_branch_unlikely(&gom_numa_key) && s->node != mc->node;
}

/*
 * Mark a validated object of @s free and push it to this CPU's magazine.
 * False when that needs a slow path: a full magazine, another node's
 * memory (checked if @numa, else known not to be), or an object already
 * free.
 */
static __always_inline bool gom_mc_push(struct gom_mcache *mc,
					struct gom_span *s, void *obj,
					bool numa)
{
	struct gom_mag *m = (void *)mc + READ_ONCE(s->mag_off);
	unsigned int n = m->count;

	if (unlikely(n == m->cap || (numa && gom_numa_remote(mc, s)) ||
		     gom_obj_marked(obj)))
		return false;
	gom_hook_free(obj, s->size);
	gom_mc_forget(mc);
	m->objs[n] = obj;
	m->count = n + 1;
	m->frees++;
	gom_obj_mark(obj);
	return true;
}

/*
 * gom_hook_free() for the memo: only KASAN needs its slot size, and finds
 * it through the page map rather than in a field of every magazine.
 */
static __always_inline void gom_mc_hook_memo(const void *obj)
{
	struct gom_span *s = NULL;

	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		s = (struct gom_span *)gom_pm_get((unsigned long)obj);
	gom_hook_free(obj, s ? s->size : 0);
}

/*
 * Put @obj back if it is this CPU's memo: the object just above the top
 * of its magazine, which one more in the count takes back. False for any
 * other pointer, and for a memo already freed on another CPU (marked),
 * which gom_mc_push() refuses.
 */
static __always_inline bool gom_mc_unpop(struct gom_mcache *mc,
					 const void *obj)
{
	unsigned long mark = gom_obj_mark_of(obj);
	struct gom_mag *m;

	/* likely: gcc then keeps the other frees' path out of this one's */
	if (!likely(mark == data_race(mc->memo.mark)) ||
	    unlikely(gom_obj_word(obj) == mark))
		return false;
	m = mc->memo.mag;
	gom_mc_hook_memo(obj);
	gom_mc_forget(mc);
	m->count++;
	m->frees++;
	gom_obj_set_word((void *)obj, mark);
	return true;
}

#endif /* _GOM_MCACHE_H */
