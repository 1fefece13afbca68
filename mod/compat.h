/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thin layer over kernel API differences between 6.1 and newer kernels.
 */
#ifndef _GOM_COMPAT_H
#define _GOM_COMPAT_H

#include <linux/mmzone.h>
#include <linux/version.h>

/*
 * Largest page order alloc_pages() accepts, inclusive. 6.1 has MAX_ORDER
 * exclusive; 6.4 made it inclusive and 6.8 renamed it MAX_PAGE_ORDER.
 */
#if defined(MAX_PAGE_ORDER)
#define GOM_MAX_ORDER		MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define GOM_MAX_ORDER		MAX_ORDER
#else
#define GOM_MAX_ORDER		(MAX_ORDER - 1)
#endif

/* 6.13 made the namespace argument of symbol exports a string literal. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define GOM_EXPORT_SYMBOL_NS_GPL(sym, ns)	EXPORT_SYMBOL_NS_GPL(sym, #ns)
#define GOM_MODULE_IMPORT_NS(ns)		MODULE_IMPORT_NS(#ns)
#else
#define GOM_EXPORT_SYMBOL_NS_GPL(sym, ns)	EXPORT_SYMBOL_NS_GPL(sym, ns)
#define GOM_MODULE_IMPORT_NS(ns)		MODULE_IMPORT_NS(ns)
#endif

#endif /* _GOM_COMPAT_H */
