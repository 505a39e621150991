/*
 * iosim_pageprot.h - iosim shim: memory allocation types (MEM_*) and page protections (PAGE_*).
 *
 * Shared by kernel and user mode (wdm.h via km_mm.h, windows.h via um_mem.h) and by
 * iosim's own memory manager. Values are Microsoft's (winnt.h / wdm.h).
 */
#ifndef IOSIM_PAGEPROT_H
#define IOSIM_PAGEPROT_H

/* ---- virtual memory: allocation types and page protections ---- */
#ifndef MEM_COMMIT
#define MEM_COMMIT 0x00001000
#define MEM_RESERVE 0x00002000
#define MEM_DECOMMIT 0x00004000
#define MEM_RELEASE 0x00008000
#define MEM_FREE 0x00010000
#define MEM_RESET 0x00080000
#define MEM_TOP_DOWN 0x00100000
#endif
#ifndef PAGE_NOACCESS
#define PAGE_NOACCESS 0x01
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_WRITECOPY 0x08
#define PAGE_EXECUTE 0x10
#define PAGE_EXECUTE_READ 0x20
#define PAGE_EXECUTE_READWRITE 0x40
#define PAGE_EXECUTE_WRITECOPY 0x80
#define PAGE_GUARD 0x100
#define PAGE_NOCACHE 0x200
#endif

#endif /* IOSIM_PAGEPROT_H */
