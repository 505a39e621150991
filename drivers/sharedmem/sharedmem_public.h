/*
 * sharedmem_public.h - what the sharedmem driver and its client share: the device's
 * user-mode name, the control codes and the layout of the shared buffer.
 *
 * Lesson (seed 002's shared-memory channel): the driver owns a buffer of non-paged pool
 * and maps its pages into the calling process a second time (an MDL, then
 * MmMapLockedPagesSpecifyCache with UserMode). Both sides then read and write the same
 * physical memory at their own addresses: no request carries the data any more.
 *
 * The buffer is SHAREDMEM_SIZE bytes: a NUL-terminated message from the driver at
 * SHAREDMEM_MESSAGE_OFFSET, and a NUL-terminated reply from the app at
 * SHAREDMEM_REPLY_OFFSET, each at most SHAREDMEM_TEXT_MAX bytes including the NUL.
 *
 * Included by drivers/sharedmem/sharedmem.cpp and apps/sharedmem_client/sharedmem_client.cpp.
 */
#ifndef SHAREDMEM_PUBLIC_H
#define SHAREDMEM_PUBLIC_H

/* "\\.\IosimSharedMem" -> \??\IosimSharedMem -> \Device\IosimSharedMem */
#define SHAREDMEM_WIN32_NAME "\\\\.\\IosimSharedMem"

#define SHAREDMEM_SIZE (2 * 4096)
#define SHAREDMEM_MESSAGE_OFFSET 0
#define SHAREDMEM_REPLY_OFFSET 4096
#define SHAREDMEM_TEXT_MAX 256

/* Output: a SHAREDMEM_MAPPING. Maps the buffer into the calling process (one mapping at a
 * time: STATUS_DEVICE_BUSY while one exists). */
#define IOCTL_SHAREDMEM_MAP CTL_CODE(FILE_DEVICE_UNKNOWN, 0x920, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* No buffers. The driver writes its next message into the buffer (kernel side). */
#define IOCTL_SHAREDMEM_POST_MESSAGE CTL_CODE(FILE_DEVICE_UNKNOWN, 0x921, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Output: the reply text the driver finds in the buffer (kernel side), without its NUL;
 * Information = its length. */
#define IOCTL_SHAREDMEM_READ_REPLY CTL_CODE(FILE_DEVICE_UNKNOWN, 0x922, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* No buffers. Removes the mapping; only the process that mapped it may ask
 * (STATUS_ACCESS_DENIED otherwise, STATUS_INVALID_DEVICE_STATE when nothing is mapped). */
#define IOCTL_SHAREDMEM_UNMAP CTL_CODE(FILE_DEVICE_UNKNOWN, 0x923, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _SHAREDMEM_MAPPING {
    ULONGLONG UserAddress; /* where the buffer is in the calling process */
    ULONG Size;            /* SHAREDMEM_SIZE */
    ULONG Reserved;
} SHAREDMEM_MAPPING;

#endif /* SHAREDMEM_PUBLIC_H */
