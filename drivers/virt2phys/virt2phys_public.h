/*
 * virt2phys_public.h - what the virt2phys driver and its client share: the device's
 * user-mode name, the control code and the request and answer layouts.
 *
 * Lesson (seed 001, VirtToPhys): an address an app sees is virtual; the page behind it
 * sits in some physical frame the memory manager chose. The app sends a virtual range;
 * the driver answers with the physical address of each page the range touches.
 *
 * The control code is the seed's: CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED,
 * FILE_READ_ACCESS | FILE_WRITE_ACCESS), so the handle must be open for reading and
 * writing. Fields are fixed-size (ULONGLONG for addresses) so that the layout does not
 * depend on the side that reads it.
 *
 * Included by drivers/virt2phys/virt2phys.cpp (kernel) and
 * apps/virt2phys_client/virt2phys_client.cpp (user mode).
 */
#ifndef VIRT2PHYS_PUBLIC_H
#define VIRT2PHYS_PUBLIC_H

/* "\\.\IosimVirtToPhys" -> \??\IosimVirtToPhys -> \Device\IosimVirtToPhys */
#define VIRT2PHYS_WIN32_NAME "\\\\.\\IosimVirtToPhys"

#define IOCTL_VIRT2PHYS_QUERY CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS)

/* Input: the range to translate. At most VIRT2PHYS_MAX_PAGES pages. */
typedef struct _VIRT2PHYS_REQUEST {
    ULONGLONG VirtualAddress;
    ULONG Length;
    ULONG Reserved; /* 0 */
} VIRT2PHYS_REQUEST;

/* Output: one entry per page the range touches, in order. The first entry's virtual
 * address is the range's start (so its physical address carries the same byte offset
 * into the page); the others are page-aligned. PhysicalAddress 0 means the page has no
 * translation in the requester's context (not committed, or not its memory). */
typedef struct _VIRT2PHYS_PAGE {
    ULONGLONG VirtualAddress;
    ULONGLONG PhysicalAddress;
} VIRT2PHYS_PAGE;

#define VIRT2PHYS_MAX_PAGES 64

#endif /* VIRT2PHYS_PUBLIC_H */
