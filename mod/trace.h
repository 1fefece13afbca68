/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomalloc tracepoints, in tracefs as events/gomalloc/.
 *
 * gom_alloc and gom_free carry the fields of kmem:kmalloc and kmem:kfree
 * and print as they do, so tools written for those read these. The span
 * and heap events show the levels below: a span carved for or given back
 * by an mcentral, an arena taken from or returned to the page allocator.
 * Disabled, each costs a static branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gomalloc

#if !defined(_GOM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GOM_TRACE_H

#include <linux/tracepoint.h>
#include <trace/events/mmflags.h>

/* Enabling gom_alloc or gom_free turns their hook key on (api.c). */
int gom_trace_alloc_reg(void);
void gom_trace_alloc_unreg(void);
int gom_trace_free_reg(void);
void gom_trace_free_unreg(void);

TRACE_EVENT_FN(gom_alloc,
	       TP_PROTO(unsigned long call_site, const void *ptr,
			size_t bytes_req, size_t bytes_alloc, gfp_t gfp_flags,
			int node),
	       TP_ARGS(call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node),
	       TP_STRUCT__entry(__field(unsigned long, call_site)
				__field(const void *, ptr)
				__field(size_t, bytes_req)
				__field(size_t, bytes_alloc)
				__field(unsigned long, gfp_flags)
				__field(int, node)),
	       TP_fast_assign(__entry->call_site = call_site;
			      __entry->ptr = ptr;
			      __entry->bytes_req = bytes_req;
			      __entry->bytes_alloc = bytes_alloc;
			      __entry->gfp_flags = (__force unsigned long)gfp_flags;
			      __entry->node = node;),
	       TP_printk("call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d",
			 (void *)__entry->call_site, __entry->ptr,
			 __entry->bytes_req, __entry->bytes_alloc,
			 show_gfp_flags(__entry->gfp_flags), __entry->node),
	       gom_trace_alloc_reg, gom_trace_alloc_unreg);

TRACE_EVENT_FN(gom_free,
	       TP_PROTO(unsigned long call_site, const void *ptr),
	       TP_ARGS(call_site, ptr),
	       TP_STRUCT__entry(__field(unsigned long, call_site)
				__field(const void *, ptr)),
	       TP_fast_assign(__entry->call_site = call_site;
			      __entry->ptr = ptr;),
	       TP_printk("call_site=%pS ptr=%p",
			 (void *)__entry->call_site, __entry->ptr),
	       gom_trace_free_reg, gom_trace_free_unreg);

DECLARE_EVENT_CLASS(gom_span,
		    TP_PROTO(const void *base, unsigned int pages,
			     unsigned int size, unsigned int objects,
			     int node),
		    TP_ARGS(base, pages, size, objects, node),
		    TP_STRUCT__entry(__field(const void *, base)
				     __field(unsigned int, pages)
				     __field(unsigned int, size)
				     __field(unsigned int, objects)
				     __field(int, node)),
		    TP_fast_assign(__entry->base = base;
				   __entry->pages = pages;
				   __entry->size = size;
				   __entry->objects = objects;
				   __entry->node = node;),
		    TP_printk("base=%p pages=%u size=%u objects=%u node=%d",
			      __entry->base, __entry->pages, __entry->size,
			      __entry->objects, __entry->node));

/* A span carved out of the heap for a size class. */
DEFINE_EVENT(gom_span, gom_span_alloc,
	     TP_PROTO(const void *base, unsigned int pages, unsigned int size,
		      unsigned int objects, int node),
	     TP_ARGS(base, pages, size, objects, node));

/* A wholly free span given back to the heap. */
DEFINE_EVENT(gom_span, gom_span_free,
	     TP_PROTO(const void *base, unsigned int pages, unsigned int size,
		      unsigned int objects, int node),
	     TP_ARGS(base, pages, size, objects, node));

DECLARE_EVENT_CLASS(gom_heap,
		    TP_PROTO(const void *base, unsigned int order, int node,
			     unsigned long heap_bytes),
		    TP_ARGS(base, order, node, heap_bytes),
		    TP_STRUCT__entry(__field(const void *, base)
				     __field(unsigned int, order)
				     __field(int, node)
				     __field(unsigned long, heap_bytes)),
		    TP_fast_assign(__entry->base = base;
				   __entry->order = order;
				   __entry->node = node;
				   __entry->heap_bytes = heap_bytes;),
		    TP_printk("base=%p order=%u node=%d heap_bytes=%lu",
			      __entry->base, __entry->order, __entry->node,
			      __entry->heap_bytes));

/* An arena taken from the page allocator; heap_bytes after. */
DEFINE_EVENT(gom_heap, gom_heap_grow,
	     TP_PROTO(const void *base, unsigned int order, int node,
		      unsigned long heap_bytes),
	     TP_ARGS(base, order, node, heap_bytes));

/* An arena given back to the page allocator; heap_bytes after. */
DEFINE_EVENT(gom_heap, gom_heap_release,
	     TP_PROTO(const void *base, unsigned int order, int node,
		      unsigned long heap_bytes),
	     TP_ARGS(base, order, node, heap_bytes));

#endif /* _GOM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
