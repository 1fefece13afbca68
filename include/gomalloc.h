/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomalloc - Go's three-level memory allocator for the Linux kernel.
 *
 * Public interface for modules that allocate from gomalloc. Link against
 * gomalloc's exports either by building in the same Kbuild pass as
 * mod/gomalloc.ko or by pointing KBUILD_EXTRA_SYMBOLS at its Module.symvers.
 *
 * Level 2 (heap): gom_alloc() and friends serve objects of up to
 * GOM_MAX_SMALL_SIZE bytes from per-CPU caches and larger ones as exact page
 * runs. Level 3 (system) is internal: the heap grows in arenas taken from the
 * page allocator. Level 1 (stack): gom_stack_create() and the frame calls give
 * bump allocation released a whole frame at a time.
 */
#ifndef _GOMALLOC_H
#define _GOMALLOC_H

#include <linux/gfp.h>
#include <linux/types.h>

/* Largest object served from a size class; above it, exact page runs. */
#define GOM_MAX_SMALL_SIZE	32768

void *gom_alloc(size_t size, gfp_t flags);
void *gom_alloc_node(size_t size, gfp_t flags, int node);
void gom_free(const void *ptr);
size_t gom_usable_size(const void *ptr);
int gom_alloc_bulk(size_t size, gfp_t flags, size_t nr, void **ptrs);
void gom_free_bulk(size_t nr, void **ptrs);
void *gom_alloc_pages(unsigned int npages, gfp_t flags);
void gom_free_pages(void *addr);

/**
 * gom_zalloc() - allocate zeroed memory from gomalloc
 * @size: bytes wanted
 * @flags: GFP flags; __GFP_ZERO is added
 *
 * Context: as gom_alloc().
 * Return: as gom_alloc(), with the memory cleared.
 */
static inline void *gom_zalloc(size_t size, gfp_t flags)
{
	return gom_alloc(size, flags | __GFP_ZERO);
}

/* Level 1: stacks with frames. A gom_stack is owned by one context at once. */
struct gom_stack;

/**
 * typedef gom_frame_t - a frame mark returned by gom_frame_push()
 *
 * Opaque to users; pass it back to gom_frame_pop(). Marks may be compared
 * for equality; sparse refuses arithmetic on them.
 */
typedef unsigned long __bitwise gom_frame_t;

struct gom_stack *gom_stack_create(size_t max_bytes, gfp_t flags);
void gom_stack_destroy(struct gom_stack *stack);
gom_frame_t gom_frame_push(struct gom_stack *stack);
void *gom_frame_alloc(struct gom_stack *stack, size_t size, gfp_t flags);
void *gom_frame_alloc_aligned(struct gom_stack *stack, size_t size,
			      size_t align, gfp_t flags);
void gom_frame_pop(struct gom_stack *stack, gom_frame_t mark);

/* Scope helper: pops the frame on every exit from the enclosing block. */
struct gom_frame_scope {
	struct gom_stack *stack;
	gom_frame_t mark;
};

static inline struct gom_frame_scope gom_frame_scope_enter(struct gom_stack *stack)
{
	struct gom_frame_scope scope = { stack, gom_frame_push(stack) };

	return scope;
}

static inline void gom_frame_scope_exit(struct gom_frame_scope *scope)
{
	gom_frame_pop(scope->stack, scope->mark);
}

#define __GOM_CAT(a, b)		a##b
#define __GOM_UNIQUE(a, b)	__GOM_CAT(a, b)

/**
 * GOM_FRAME() - open a frame that closes when the enclosing block is left
 * @stack: the struct gom_stack to push the frame on
 *
 * Place at the top of a block. Every exit path (return, goto, break, falling
 * off the end) pops the frame, releasing what gom_frame_alloc() gave out in
 * the block. Built on the compiler's cleanup attribute, so it needs no
 * linux/cleanup.h.
 */
#define GOM_FRAME(stack)						\
	struct gom_frame_scope __GOM_UNIQUE(__gom_frame_, __LINE__)	\
	__attribute__((__cleanup__(gom_frame_scope_exit))) =		\
		gom_frame_scope_enter(stack)

#endif /* _GOMALLOC_H */
