// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc level 1: stacks of frames served by bump allocation.
 *
 * Owns struct gom_stack, its segments and dedicated blocks, frame marks and
 * the level 1 statistics read by sysfs.c through gom_stack_read_stats().
 *
 * A stack is a chain of segments taken from the gomalloc heap with
 * gom_alloc(). Only the newest segment, the current one, is bumped; older
 * segments are never moved, so pointers stay valid until their frame is
 * popped. Each new segment is twice the size of the one under it. A request
 * larger than half the current segment gets a dedicated block instead, hung
 * off the current segment and freed by the pop that releases it.
 *
 * A frame mark packs the generation of the current segment (upper 32 bits)
 * with the bump offset in it (lower 32 bits). Generations are unique within
 * a stack and start at a random value, so a pop walks back only over the
 * segments it releases and most stale or foreign marks are caught.
 *
 * Locking: none. A stack belongs to one context at a time. With
 * CONFIG_DEBUG_PREEMPT every operation claims the stack with cmpxchg() and
 * warns once when two contexts are inside it together. Statistics are
 * atomics, updated on segment changes, and a per-CPU bytes-in-use counter
 * updated on pops; the bump path touches none of them.
 */
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "debug.h"

/* First segment; the struct gom_stack lives at its start. */
#define GOM_STACK_SEG_MIN	SZ_2K
/* Regular segments stop doubling at this size. */
#define GOM_STACK_SEG_MAX	SZ_1M
/* Every allocation is rounded to this and aligned on it. */
#define GOM_STACK_ALIGN		8
/* Larger requests fail like a hit of the stack's limit. */
#define GOM_STACK_ALLOC_MAX	((size_t)INT_MAX)
/* Largest alignment gom_frame_alloc_aligned() accepts. */
#define GOM_STACK_ALIGN_MAX	PAGE_SIZE

#define GOM_MARK_SHIFT		32
#define GOM_MARK_OFF_MASK	((1UL << GOM_MARK_SHIFT) - 1)

#define GOM_STACK_CHECK_OWNER	IS_ENABLED(CONFIG_DEBUG_PREEMPT)

static_assert(sizeof(gom_frame_t) * BITS_PER_BYTE == 2 * GOM_MARK_SHIFT,
	      "a frame mark packs a 32-bit generation and a 32-bit offset");

/*
 * struct gom_big - header of a dedicated block
 *
 * Taken while @seg was current, it consumed one GOM_STACK_ALIGN slot of the
 * segment at offset @off, which orders it among the frame marks: a pop to
 * an offset at or below @off frees it.
 */
struct gom_big {
	struct gom_big *next;	/* older dedicated block of the segment */
	size_t size;		/* bytes reserved, this header included */
	size_t inuse;		/* bytes counted in use */
	unsigned long off;	/* offset of its slot in the segment */
};

/*
 * struct gom_seg - header of a segment; its bump area follows it
 */
struct gom_seg {
	struct gom_seg *prev;	/* older segment, NULL under the bottom one */
	struct gom_big *big;	/* newest dedicated block taken on it */
	size_t size;		/* bytes reserved, headers included */
	size_t below;		/* bump bytes in use in the older segments */
	unsigned long end;	/* end of the bump area */
	unsigned long used;	/* bump offset when a newer segment went on */
	u32 gen;		/* generation, unique within the stack */
};

/*
 * struct gom_stack - a stack of frames
 *
 * Sits at the start of the first segment, whose header (@bottom) it ends
 * with. The first five fields are all the bump path and push read.
 */
struct gom_stack {
	unsigned long top;	/* next free byte of @cur, 8-byte aligned */
	unsigned long end;	/* end of @cur's bump area */
	unsigned long base;	/* start of @cur's bump area */
	unsigned long mark_hi;	/* @cur's generation in frame mark position */
	size_t half;		/* larger requests get a dedicated block */
	struct gom_seg *cur;	/* the current (newest) segment */
	size_t below;		/* bump bytes in use under @cur */
	size_t big_inuse;	/* bytes in use in dedicated blocks */
	size_t accounted;	/* this stack's share of bytes_inuse */
	struct gom_seg *spare;	/* last segment popped off, kept for reuse */
	size_t reserved;	/* bytes of all blocks, bottom and spare included */
	size_t max_bytes;	/* limit on @reserved */
	unsigned long owner;	/* CPU + 1 while in an operation (debug) */
	u32 gen;		/* generation last given to a segment */
	struct gom_seg bottom;	/* the first segment; its bump area follows */
};

static atomic_long_t gom_stacks_live = ATOMIC_LONG_INIT(0);
static atomic_long_t gom_stack_segments = ATOMIC_LONG_INIT(0);
static atomic_long_t gom_stack_reserved = ATOMIC_LONG_INIT(0);
static atomic_long_t gom_stack_high = ATOMIC_LONG_INIT(0);
static DEFINE_PER_CPU(long, gom_stack_inuse);

static inline void gom_stack_enter(struct gom_stack *stack)
{
	unsigned long me, was;

	if (!GOM_STACK_CHECK_OWNER)
		return;
	me = raw_smp_processor_id() + 1;
	was = cmpxchg(&stack->owner, 0, me);
	WARN_ONCE(was, "gomalloc: stack %p entered on CPU %lu while CPU %lu is in it\n",
		  stack, me - 1, was - 1);
}

static inline void gom_stack_exit(struct gom_stack *stack)
{
	if (!GOM_STACK_CHECK_OWNER)
		return;
	/* Order this operation's stores before the next owner's claim. */
	smp_store_release(&stack->owner, 0);
}

static inline unsigned long gom_seg_data(struct gom_seg *seg)
{
	return (unsigned long)(seg + 1);
}

/* Bump offset reached in @seg: live for the current one, saved for others. */
static inline unsigned long gom_seg_used(struct gom_stack *stack,
					 struct gom_seg *seg)
{
	return seg == stack->cur ? stack->top - stack->base : seg->used;
}

static long gom_stack_inuse_sum(void)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(gom_stack_inuse, cpu);
	return sum;
}

/* Raise high_water to the current bytes_inuse total; returns that total. */
static long gom_stack_note_high(void)
{
	long now = gom_stack_inuse_sum();
	long high = atomic_long_read(&gom_stack_high);

	while (now > high && !atomic_long_try_cmpxchg(&gom_stack_high, &high, now))
		;
	return now;
}

/* Publish what @stack has in use now into bytes_inuse. */
static inline void gom_stack_sync(struct gom_stack *stack)
{
	size_t now = stack->below + (stack->top - stack->base) +
		     stack->big_inuse;

	this_cpu_add(gom_stack_inuse, (long)(now - stack->accounted));
	stack->accounted = now;
}

static void gom_stack_charge(struct gom_stack *stack, long nr, long bytes)
{
	stack->reserved += bytes;
	atomic_long_add(nr, &gom_stack_segments);
	atomic_long_add(bytes, &gom_stack_reserved);
}

static void *gom_stack_block_alloc(struct gom_stack *stack, size_t size,
				   gfp_t flags)
{
	void *block = gom_alloc(size, flags & ~__GFP_ZERO);

	if (block)
		gom_stack_charge(stack, 1, size);
	return block;
}

static void gom_stack_block_free(struct gom_stack *stack, void *block,
				 size_t size)
{
	gom_free(block);
	gom_stack_charge(stack, -1, -(long)size);
}

static void gom_stack_drop_spare(struct gom_stack *stack)
{
	struct gom_seg *spare = stack->spare;

	if (spare) {
		stack->spare = NULL;
		gom_stack_block_free(stack, spare, spare->size);
	}
}

/* May @bytes more be reserved? Gives the spare back if that makes room. */
static bool gom_stack_budget(struct gom_stack *stack, size_t bytes)
{
	if (bytes <= stack->max_bytes - stack->reserved)
		return true;
	gom_stack_drop_spare(stack);
	return bytes <= stack->max_bytes - stack->reserved;
}

static void gom_stack_limit_warn(struct gom_stack *stack, size_t size,
				 gfp_t flags, unsigned long ip)
{
	if (!(flags & __GFP_NOWARN))
		pr_warn_ratelimited("gomalloc: stack %p: %zu bytes more pass its limit of %zu (%zu reserved), caller %pS\n",
				    stack, size, stack->max_bytes,
				    stack->reserved, (void *)ip);
}

/* Free the dedicated blocks of @seg whose slot is at or above @off. */
static void gom_stack_free_bigs(struct gom_stack *stack, struct gom_seg *seg,
				unsigned long off)
{
	struct gom_big *big;

	while ((big = seg->big) && big->off >= off) {
		seg->big = big->next;
		stack->big_inuse -= big->inuse;
		gom_stack_block_free(stack, big, big->size);
	}
}

/*
 * KASAN: the bump area above the top is poisoned; a frame's allocations
 * are unpoisoned for exactly their size, and a pop poisons again what it
 * releases. Nothing without KASAN.
 */
static void gom_stack_poison(unsigned long from, unsigned long to)
{
	gom_kasan_poison((void *)from, 0, to - from, GOM_KASAN_FREE);
}

/* Make @seg current with its bump offset at @off. */
static void gom_stack_set_cur(struct gom_stack *stack, struct gom_seg *seg,
			      unsigned long off)
{
	stack->cur = seg;
	stack->base = gom_seg_data(seg);
	stack->top = stack->base + off;
	stack->end = seg->end;
	stack->half = (stack->end - stack->base) / 2;
	stack->below = seg->below;
	stack->mark_hi = (unsigned long)seg->gen << GOM_MARK_SHIFT;
}

/* Put @seg, empty, on top of the current segment. */
static void gom_stack_install(struct gom_stack *stack, struct gom_seg *seg)
{
	struct gom_seg *cur = stack->cur;

	cur->used = stack->top - stack->base;
	seg->prev = cur;
	seg->big = NULL;
	seg->below = stack->below + cur->used;
	seg->used = 0;
	seg->gen = ++stack->gen;
	gom_stack_set_cur(stack, seg, 0);
	gom_stack_poison(stack->base, stack->end);
}

/* Bytes for a new regular segment with @need bytes of room; 0 if over limit. */
static size_t gom_stack_next_size(struct gom_stack *stack, size_t need)
{
	size_t min = sizeof(struct gom_seg) + need;
	size_t size = min_t(size_t, stack->cur->size * 2, GOM_STACK_SEG_MAX);

	if (!gom_stack_budget(stack, min))
		return 0;
	size = max(size, min);
	return min(size, round_down(stack->max_bytes - stack->reserved,
				    GOM_STACK_ALIGN));
}

/* Put a segment with @need bytes of room on top of @stack. */
static int gom_stack_grow(struct gom_stack *stack, size_t need, gfp_t flags,
			  unsigned long ip)
{
	struct gom_seg *seg = stack->spare;
	size_t size;

	if (seg && seg->end - gom_seg_data(seg) >= need) {
		stack->spare = NULL;
	} else {
		gom_stack_drop_spare(stack);
		size = gom_stack_next_size(stack, need);
		if (!size) {
			gom_stack_limit_warn(stack, need, flags, ip);
			return -ENOMEM;
		}
		seg = gom_stack_block_alloc(stack, size, flags);
		if (!seg)
			return -ENOMEM;
		seg->size = size;
		seg->end = (unsigned long)seg + size;
	}
	gom_stack_sync(stack);
	gom_stack_install(stack, seg);
	gom_stack_note_high();
	return 0;
}

/* Serve @size bytes aligned on @align from a dedicated block. */
static void *gom_stack_alloc_big(struct gom_stack *stack, size_t size,
				 size_t align, gfp_t flags, unsigned long ip)
{
	size_t inuse = ALIGN(size, GOM_STACK_ALIGN);
	size_t bytes = sizeof(struct gom_big) + inuse + align - GOM_STACK_ALIGN;
	struct gom_big *big;

	if (stack->top == stack->end &&
	    gom_stack_grow(stack, GOM_STACK_ALIGN, flags, ip))
		return NULL;
	if (!gom_stack_budget(stack, bytes)) {
		gom_stack_limit_warn(stack, bytes, flags, ip);
		return NULL;
	}
	big = gom_stack_block_alloc(stack, bytes, flags);
	if (!big)
		return NULL;
	big->size = bytes;
	big->inuse = inuse;
	big->off = stack->top - stack->base;
	big->next = stack->cur->big;
	stack->cur->big = big;
	stack->top += GOM_STACK_ALIGN;	/* the slot that orders it */
	stack->big_inuse += inuse;
	gom_stack_sync(stack);
	gom_stack_note_high();
	return PTR_ALIGN((void *)(big + 1), align);
}

/* Serve what the bump paths cannot: size 0, a new segment, a dedicated block. */
static void *gom_frame_alloc_more(struct gom_stack *stack, size_t size,
				  size_t align, gfp_t flags, unsigned long ip)
{
	size_t need;
	void *p;

	if (!size)
		return ZERO_SIZE_PTR;
	if (size > GOM_STACK_ALLOC_MAX || size > stack->max_bytes) {
		gom_stack_limit_warn(stack, size, flags, ip);
		return NULL;
	}
	need = ALIGN(size, GOM_STACK_ALIGN) + align - GOM_STACK_ALIGN;
	if (need > stack->half)
		return gom_stack_alloc_big(stack, size, align, flags, ip);
	if (gom_stack_grow(stack, need, flags, ip))
		return NULL;
	p = PTR_ALIGN((void *)stack->top, align);
	stack->top = (unsigned long)p + ALIGN(size, GOM_STACK_ALIGN);
	gom_kasan_unpoison(p, size);
	return p;
}

/* Out of line so that the bump paths need no stack frame. */
static noinline void *gom_frame_alloc_slow(struct gom_stack *stack,
					   size_t size, size_t align,
					   gfp_t flags, unsigned long ip)
{
	void *p;

	gom_stack_enter(stack);
	p = gom_frame_alloc_more(stack, size, align, flags, ip);
	gom_stack_exit(stack);
	if ((flags & __GFP_ZERO) && !ZERO_OR_NULL_PTR(p))
		memset(p, 0, size);
	return p;
}

/**
 * gom_stack_create() - make a stack of frames
 * @max_bytes: limit on the bytes the stack takes from the heap, its first
 *	segment, spare and dedicated blocks included; 0 for no limit
 * @flags: GFP flags for the first segment
 *
 * The stack starts with one 2 KiB segment from gom_alloc(), which also holds
 * the stack's own bookkeeping.
 *
 * Context: as gom_alloc() with @flags.
 * Return: the stack; NULL if @max_bytes is below 2 KiB or the heap is out of
 * memory.
 */
struct gom_stack *gom_stack_create(size_t max_bytes, gfp_t flags)
{
	struct gom_stack *stack;

	BUILD_BUG_ON(offsetof(struct gom_stack, bottom) +
		     sizeof(struct gom_seg) != sizeof(struct gom_stack));
	BUILD_BUG_ON(sizeof(struct gom_stack) % GOM_STACK_ALIGN ||
		     sizeof(struct gom_big) % GOM_STACK_ALIGN);

	if (!max_bytes)
		max_bytes = SIZE_MAX;
	if (max_bytes < GOM_STACK_SEG_MIN)
		return NULL;
	stack = gom_alloc(GOM_STACK_SEG_MIN, flags & ~__GFP_ZERO);
	if (!stack)
		return NULL;
	memset(stack, 0, sizeof(*stack));
	stack->max_bytes = max_bytes;
	stack->gen = get_random_u32();
	stack->bottom.size = GOM_STACK_SEG_MIN;
	stack->bottom.end = (unsigned long)stack + GOM_STACK_SEG_MIN;
	stack->bottom.gen = stack->gen;
	gom_stack_set_cur(stack, &stack->bottom, 0);
	gom_stack_poison(stack->base, stack->end);
	gom_stack_charge(stack, 1, GOM_STACK_SEG_MIN);
	atomic_long_inc(&gom_stacks_live);
	return stack;
}
EXPORT_SYMBOL_GPL(gom_stack_create);

/**
 * gom_stack_destroy() - free a stack and everything allocated from it
 * @stack: the stack, or NULL
 *
 * Every pointer handed out by @stack becomes invalid, open frames included.
 *
 * Context: any context that owns @stack; does not sleep.
 */
void gom_stack_destroy(struct gom_stack *stack)
{
	struct gom_seg *seg;

	if (!stack)
		return;
	gom_stack_enter(stack);
	gom_stack_sync(stack);
	gom_stack_note_high();
	while ((seg = stack->cur) != &stack->bottom) {
		gom_stack_set_cur(stack, seg->prev, 0);
		gom_stack_free_bigs(stack, seg, 0);
		gom_stack_block_free(stack, seg, seg->size);
	}
	gom_stack_free_bigs(stack, seg, 0);
	gom_stack_drop_spare(stack);
	stack->top = stack->base;
	gom_stack_sync(stack);
	WARN_ON_ONCE(stack->reserved != GOM_STACK_SEG_MIN);
	gom_stack_charge(stack, -1, -GOM_STACK_SEG_MIN);
	atomic_long_dec(&gom_stacks_live);
	gom_free(stack);
}
EXPORT_SYMBOL_GPL(gom_stack_destroy);

/**
 * gom_frame_push() - open a frame
 * @stack: the stack
 *
 * Context: any context that owns @stack.
 * Return: the frame's mark, to pass to gom_frame_pop().
 */
gom_frame_t gom_frame_push(struct gom_stack *stack)
{
	unsigned long mark;

	gom_stack_enter(stack);
	mark = stack->mark_hi | (stack->top - stack->base);
	gom_stack_exit(stack);
	return (__force gom_frame_t)mark;
}
EXPORT_SYMBOL_GPL(gom_frame_push);

/* Hand out [@p, @p + @size) of the current segment: the bump itself. */
static __always_inline void *bump(struct gom_stack *stack, unsigned long p,
				  size_t size, gfp_t flags)
{
	gom_stack_enter(stack);
	stack->top = p + ALIGN(size, GOM_STACK_ALIGN);
	gom_stack_exit(stack);
	gom_kasan_unpoison((void *)p, size);
	if (unlikely(flags & __GFP_ZERO))
		return memset((void *)p, 0, size);
	return (void *)p;
}

/**
 * gom_frame_alloc() - allocate from the open frame
 * @stack: the stack
 * @size: bytes wanted
 * @flags: GFP flags, used when a new segment must be taken from the heap;
 *	__GFP_ZERO clears the memory, __GFP_NOWARN quiets a hit of the limit
 *
 * The memory is 8-byte aligned and lives until the frame it was allocated
 * in is popped or the stack destroyed; it is never freed on its own.
 *
 * Context: any context that owns @stack; sleeps only if @flags allow.
 * Return: the memory; ZERO_SIZE_PTR for @size 0; NULL when the stack's limit
 * or the heap refuses a new segment (the stack stays usable).
 */
void *gom_frame_alloc(struct gom_stack *stack, size_t size, gfp_t flags)
{
	unsigned long p = stack->top;

	if (unlikely(size - 1 >= stack->end - p || size > stack->half))
		return gom_frame_alloc_slow(stack, size, GOM_STACK_ALIGN, flags,
					    _RET_IP_);
	return bump(stack, p, size, flags);
}
EXPORT_SYMBOL_GPL(gom_frame_alloc);

/**
 * gom_frame_alloc_aligned() - allocate aligned memory from the open frame
 * @stack: the stack
 * @size: bytes wanted
 * @align: alignment, a power of two no larger than PAGE_SIZE
 * @flags: GFP flags, as for gom_frame_alloc()
 *
 * Context: any context that owns @stack; sleeps only if @flags allow.
 * Return: as gom_frame_alloc(), the memory aligned on @align; NULL with a
 * (rate limited) warning if @align is not valid.
 */
void *gom_frame_alloc_aligned(struct gom_stack *stack, size_t size,
			      size_t align, gfp_t flags)
{
	unsigned long p;

	if (unlikely(!is_power_of_2(align) || align > GOM_STACK_ALIGN_MAX)) {
		pr_warn_ratelimited("gomalloc: stack %p: invalid alignment %zu, caller %pS\n",
				    stack, align, (void *)_RET_IP_);
		return NULL;
	}
	align = max_t(size_t, align, GOM_STACK_ALIGN);
	p = ALIGN(stack->top, align);
	if (unlikely(p >= stack->end || size - 1 >= stack->end - p ||
		     size + align > stack->half + GOM_STACK_ALIGN))
		return gom_frame_alloc_slow(stack, size, align, flags,
					    _RET_IP_);
	return bump(stack, p, size, flags);
}
EXPORT_SYMBOL_GPL(gom_frame_alloc_aligned);

static void gom_frame_bad_mark(struct gom_stack *stack, unsigned long mark,
			       struct gom_seg *seg, unsigned long ip)
{
	u32 gen = mark >> GOM_MARK_SHIFT;
	const char *why;

	if (seg)
		why = "offset misaligned or above the segment's top";
	else if ((s32)(gen - stack->gen) > 0)
		why = "newer than the stack or from another one";
	else
		why = "stale, its segment is gone";
	pr_warn_ratelimited("gomalloc: stack %p: pop to mark %#lx ignored: %s, caller %pS\n",
			    stack, mark, why, (void *)ip);
}

/* Pop to a mark not in the current segment, or one with dedicated blocks. */
static void gom_frame_pop_slow(struct gom_stack *stack, unsigned long mark,
			       unsigned long ip)
{
	u32 gen = mark >> GOM_MARK_SHIFT;
	unsigned long off = mark & GOM_MARK_OFF_MASK;
	struct gom_seg *seg;

	for (seg = stack->cur; seg && seg->gen != gen; seg = seg->prev)
		;
	if (!seg || off % GOM_STACK_ALIGN || off > gom_seg_used(stack, seg)) {
		gom_frame_bad_mark(stack, mark, seg, ip);
		return;
	}
	if (seg != stack->cur) {
		gom_stack_sync(stack);
		gom_stack_note_high();
	}
	while (stack->cur != seg) {
		struct gom_seg *old = stack->cur;

		gom_stack_poison(stack->base, stack->top);
		gom_stack_set_cur(stack, old->prev, old->prev->used);
		gom_stack_free_bigs(stack, old, 0);
		gom_stack_drop_spare(stack);
		stack->spare = old;
	}
	gom_stack_free_bigs(stack, seg, off);
	gom_stack_poison(stack->base + off, stack->top);
	stack->top = stack->base + off;
	gom_stack_sync(stack);
}

/**
 * gom_frame_pop() - close a frame, freeing all allocated since it opened
 * @stack: the stack
 * @mark: the frame's mark from gom_frame_push()
 *
 * Frames opened after @mark are closed too. Costs O(1) per segment and
 * dedicated block released. The segment right above the one @mark is in is
 * kept as a spare for the next growth. A mark that is not of this stack,
 * lies above its top or whose segment was already released is ignored with a
 * (rate limited) warning.
 *
 * Context: any context that owns @stack; does not sleep.
 */
void gom_frame_pop(struct gom_stack *stack, gom_frame_t mark)
{
	unsigned long m = (__force unsigned long)mark;
	unsigned long off = m & GOM_MARK_OFF_MASK;

	gom_stack_enter(stack);
	if (likely((m & ~GOM_MARK_OFF_MASK) == stack->mark_hi &&
		   off <= stack->top - stack->base &&
		   !(off % GOM_STACK_ALIGN) && !stack->cur->big)) {
		gom_stack_poison(stack->base + off, stack->top);
		stack->top = stack->base + off;
		gom_stack_sync(stack);
	} else {
		gom_frame_pop_slow(stack, m, _RET_IP_);
	}
	gom_stack_exit(stack);
}
EXPORT_SYMBOL_GPL(gom_frame_pop);

/**
 * gom_stack_read_stats() - sum up the level 1 statistics
 * @out: filled with the totals over all stacks
 *
 * bytes_inuse counts what stacks had in use when each last popped a frame or
 * changed segment. high_water is the largest bytes_inuse total seen at a
 * segment change (new segment or dedicated block, pop across a segment),
 * destroy or read; see Documentation/gomalloc-stack.rst.
 *
 * Context: any context.
 */
void gom_stack_read_stats(struct gom_stack_stats *out)
{
	out->stacks = atomic_long_read(&gom_stacks_live);
	out->segments = atomic_long_read(&gom_stack_segments);
	out->bytes_reserved = atomic_long_read(&gom_stack_reserved);
	out->bytes_inuse = gom_stack_note_high();
	out->high_water = atomic_long_read(&gom_stack_high);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_stack_read_stats);
