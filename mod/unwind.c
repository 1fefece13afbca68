// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc unwind: the heap profile's call stacks, with a memo of the
 * last walks on each CPU so that a loop sampled again and again does not
 * pay the ORC unwinder each time.
 *
 * A sample's stack costs the kernel's ORC unwinder several hundred
 * instructions a frame (a binary search of the ORC table, and of the
 * module tree for a module's frame), some 6,500 of the 7,800 a sample
 * costs with a dozen frames. A walk from the same place gives the same
 * answer, and the memo recognises the same place by reading the stack:
 *
 * A walk starts at @ret, the slot that holds the return address of
 * gomalloc's entry point. The stack layout is fixed by the code: a frame
 * of a function at a given return address has the same size each time
 * (the kernel has no variable-length arrays; the random offset that
 * do_syscall_64() allocates moves the frames below it, and with them the
 * slot @ret). So if the return address in @ret is the one the memo saw,
 * the next frame's return address is in the slot the memo recorded, and
 * if that one matches too, so is the one after; by induction, if every
 * recorded slot holds the recorded address, the unwinder would find the
 * very frames the memo holds, and its stack depot handle is the answer.
 * The walk's end is checked the same way: a walk that stopped at a
 * syscall's user-mode registers is reused only if the registers in the
 * recorded place are still user-mode ones; one that stopped at the end
 * of the stack (a kthread's ret_from_fork) stops there again.
 *
 * A walk is memoised only where that reasoning holds: in task context
 * (the memo reads no stack but the task's own), every slot on the task's
 * stack, every frame a plain call frame (no interrupt or exception
 * registers in between), no return address rewritten by the function
 * graph tracer or a kretprobe (the slot must hold what the unwinder
 * reports), and no unwinder error. Code that moves invalidates the
 * memo: a module's text (and its init text) can be reused by the next
 * module, so the profile's module notifier calls gom_unwind_forget().
 * Other kernels' unwinders (frame pointers) walk every time.
 *
 * Locking: the memo is per CPU and used in task context with preemption
 * disabled while an entry is read or written; interrupts do not use it.
 * No lock is taken; called from profile.c outside the CPU's section.
 */
#include <linux/hash.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/sched/task_stack.h>
#include <linux/stackdepot.h>
#include <linux/stacktrace.h>
#include <asm/unwind.h>
#include "internal.h"

#define MEMO_BITS	3			/* 8 walks per CPU */

/**
 * struct gom_unwind_memo - one memoised walk
 * @ret: the slot the walk started from, 0 if the entry is empty
 * @gen: gom_unwind_gen when the walk was made
 * @handle: the stack depot handle of the kept frames
 * @nr: frames read, gomalloc's own included
 * @skip: of those, gomalloc's own frames, left out of the stack
 * @regs: 1 + the offset of the user-mode registers that ended the walk,
 *	  in words from @ret; 0 if the walk ended otherwise
 * @span: words from @ret to the end of the last thing read
 * @off: each frame's return address slot, in words from @ret
 * @ip: each frame's return address
 *
 * An odd @nr is followed by a copy of frame 0, so that same_walk() can
 * check two frames at a time.
 */
struct gom_unwind_memo {
	unsigned long ret;
	unsigned int gen;
	depot_stack_handle_t handle;
	u16 nr, skip, regs, span;
	u16 off[ALIGN(GOM_UNWIND_MAX, 2)];
	unsigned long ip[ALIGN(GOM_UNWIND_MAX, 2)];
};

/* Each CPU's walks, by hash of where they start. */
struct gom_unwind_memos {
	struct gom_unwind_memo m[BIT(MEMO_BITS)];
};

static struct gom_unwind_memos __percpu *gom_unwind_memo;
static unsigned int gom_unwind_gen;

atomic_long_t gom_unwind_walks;		/* walks of the unwinder */
EXPORT_SYMBOL_GOM_INTERNAL(gom_unwind_walks);
atomic_long_t gom_unwind_hits;		/* walks the memo saved */
EXPORT_SYMBOL_GOM_INTERNAL(gom_unwind_hits);

static struct gom_unwind_memo *memo_of(unsigned long *ret)
{
	unsigned long key = (unsigned long)ret ^ READ_ONCE_NOCHECK(*ret);

	return &this_cpu_ptr(gom_unwind_memo)->m[hash_long(key, MEMO_BITS)];
}

/*
 * A slot of the task's own stack. KASAN may have poisoned the frame it
 * is in; without KASAN, a plain read lets the compiler fold it into the
 * comparison.
 */
static __always_inline unsigned long slot(const unsigned long *p)
{
#ifdef CONFIG_KASAN
	return READ_ONCE_NOCHECK(*p);
#else
	return *p;
#endif
}

/* Does the stack still hold the frames of @m? See the comment on top. */
static bool same_walk(const struct gom_unwind_memo *m, unsigned long *ret)
{
	unsigned long top = (unsigned long)task_stack_page(current) +
			    THREAD_SIZE;
	unsigned long diff = 0;
	unsigned int i;

	if (m->ret != (unsigned long)ret ||
	    m->gen != READ_ONCE(gom_unwind_gen) ||
	    (unsigned long)(ret + m->span) > top)
		return false;
	/* every slot read is below ret + span: no early exit needed */
	for (i = 0; i < m->nr; i += 2)
		diff |= (slot(ret + m->off[i]) ^ m->ip[i]) |
			(slot(ret + m->off[i + 1]) ^ m->ip[i + 1]);
	return !diff &&
	       (!m->regs || user_mode((struct pt_regs *)(ret + m->regs - 1)));
}

/* The memo's answer for a walk from @ret, or 0. */
static depot_stack_handle_t recall(unsigned long *ret, unsigned long *caller)
{
	depot_stack_handle_t handle = 0;
	struct gom_unwind_memo *m;

	if (!gom_unwind_memo || !in_task())
		return 0;
	preempt_disable();
	m = memo_of(ret);
	if (same_walk(m, ret)) {
		handle = m->handle;
		*caller = m->ip[m->skip];
	}
	preempt_enable();
	return handle;
}

static void remember(const struct gom_unwind_memo *w)
{
	if (!gom_unwind_memo || !in_task())
		return;
	preempt_disable();
	memcpy(memo_of((unsigned long *)w->ret), w, sizeof(*w));
	preempt_enable();
}

#ifdef CONFIG_UNWINDER_ORC
/*
 * Record the frame @s is at in @w. False if the walk cannot be memoised
 * from here on: the reasoning on top needs a call frame on the task's
 * stack whose slot holds the address the unwinder reports.
 */
static bool note_frame(struct gom_unwind_memo *w, struct unwind_state *s,
		       unsigned long *ret, unsigned long ip)
{
	unsigned long *slot = (unsigned long *)s->sp - 1;

	if (s->regs || !object_is_on_stack(slot) || slot < ret ||
	    slot - ret >= U16_MAX || READ_ONCE_NOCHECK(*slot) != ip ||
	    (!w->nr && slot != ret))
		return false;
	w->off[w->nr] = slot - ret;
	w->span = w->off[w->nr] + 1;
	return true;
}

/* Did the walk end where a later one from the same frames ends too? */
static bool note_end(struct gom_unwind_memo *w, struct unwind_state *s,
		     unsigned long *ret)
{
	unsigned long *regs = (unsigned long *)s->regs;
	unsigned long *end = (unsigned long *)(s->regs + 1);

	if (unwind_error(s))
		return false;
	if (unwind_done(s))
		return true;
	if (!regs || !user_mode(s->regs) || regs < ret ||
	    !object_is_on_stack(end - 1) || end - ret >= U16_MAX)
		return false;
	w->regs = regs - ret + 1;
	w->span = max_t(u16, w->span, end - ret);
	return true;
}

/*
 * Walk the stack from @ret into @w->ip[]: at most GOM_UNWIND_MAX frames,
 * and GOM_PROF_DEPTH past gomalloc's own. True if @w can be memoised.
 */
static noinline bool walk(struct gom_unwind_memo *w, unsigned long *ret)
{
	struct unwind_state s;
	bool exact = in_task();
	unsigned long ip;

	for (unwind_start(&s, current, NULL, ret); !unwind_done(&s);
	     unwind_next_frame(&s)) {
		if (w->nr == GOM_UNWIND_MAX ||
		    w->nr - w->skip == GOM_PROF_DEPTH)
			return exact;	/* a later walk reads no further */
		ip = unwind_get_return_address(&s);
		if (!ip)
			break;
		exact = exact && note_frame(w, &s, ret, ip);
		w->ip[w->nr] = ip;
		if (w->nr == w->skip && within_module(ip, THIS_MODULE))
			w->skip++;
		w->nr++;
	}
	return exact && note_end(w, &s, ret);
}
#else
static noinline bool walk(struct gom_unwind_memo *w, unsigned long *ret)
{
	w->nr = stack_trace_save(w->ip, GOM_UNWIND_MAX, 1);
	while (w->skip < w->nr && within_module(w->ip[w->skip], THIS_MODULE))
		w->skip++;
	return false;
}
#endif

/*
 * gom_unwind_save() when the memo does not know the stack: walk it, and
 * memoise the walk if it can be. Out of line, with its record of the
 * walk: the kernel zeroes such a local on entry (INIT_STACK_ALL_ZERO), a
 * cost the memo's answers need not pay.
 */
static noinline depot_stack_handle_t save_walk(unsigned long *ret, gfp_t gfp,
					       unsigned long *caller)
{
	struct gom_unwind_memo w;
	bool exact;

	atomic_long_inc(&gom_unwind_walks);
	w.ret = (unsigned long)ret;
	w.gen = READ_ONCE(gom_unwind_gen);
	w.nr = 0;
	w.skip = 0;
	w.regs = 0;
	w.span = 0;
	exact = walk(&w, ret);
	if (!w.nr)
		return 0;
	if (w.skip == w.nr)
		w.skip--;
	*caller = w.ip[w.skip];
	w.handle = stack_depot_save(w.ip + w.skip, w.nr - w.skip, gfp);
	if (w.nr & 1) {
		w.off[w.nr] = w.off[0];
		w.ip[w.nr] = w.ip[0];
	}
	if (exact && w.handle)
		remember(&w);
	return w.handle;
}

/**
 * gom_unwind_save() - save the stack of a sampled allocation
 * @ret: the slot holding the return address of gomalloc's frame that
 *	 calls this (its frame address + 1 word)
 * @gfp: for the stack depot
 * @caller: set to the innermost frame kept
 *
 * Saves the stack from the client's frame out (gomalloc's own frames
 * are left out, so that the stack and its module are the client's; if
 * there are none else, the outermost is kept), at most GOM_PROF_DEPTH
 * frames, in the stack depot. The memo answers for a stack it walked
 * before, see the comment on top.
 *
 * Context: any context; uses the memo in task context.
 * Return: the depot handle, 0 if the depot could not store it.
 */
depot_stack_handle_t gom_unwind_save(unsigned long *ret, gfp_t gfp,
				     unsigned long *caller)
{
	depot_stack_handle_t handle = recall(ret, caller);

	if (handle) {
		atomic_long_inc(&gom_unwind_hits);
		return handle;
	}
	return save_walk(ret, gfp, caller);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_unwind_save);

/**
 * gom_unwind_forget() - drop every memoised walk
 *
 * For code that moves: a module's text, and its init text, may be reused
 * by the next module loaded, with other frame sizes.
 *
 * Context: any context.
 */
void gom_unwind_forget(void)
{
	WRITE_ONCE(gom_unwind_gen, READ_ONCE(gom_unwind_gen) + 1);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_unwind_forget);

static long memo_bytes(void)
{
	return sizeof(struct gom_unwind_memos) * num_possible_cpus();
}

/**
 * gom_unwind_init() - allocate the memo
 *
 * Without it every sample walks the stack.
 *
 * Context: process context (module init).
 */
void gom_unwind_init(void)
{
	if (!IS_ENABLED(CONFIG_UNWINDER_ORC))
		return;
	gom_unwind_memo = alloc_percpu(struct gom_unwind_memos);
	if (gom_unwind_memo)
		atomic_long_add(memo_bytes(), &gom_metadata_bytes);
}

/**
 * gom_unwind_exit() - free the memo
 *
 * Context: process context (module exit), nothing samples any more.
 */
void gom_unwind_exit(void)
{
	if (gom_unwind_memo)
		atomic_long_sub(memo_bytes(), &gom_metadata_bytes);
	free_percpu(gom_unwind_memo);
	gom_unwind_memo = NULL;
}
