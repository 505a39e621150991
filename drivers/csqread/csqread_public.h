/* csqread_public.h - what csqread.sys and its clients share.
 * \Device\CsqRead (\\.\CsqRead): a read waits in a cancel-safe queue until a write brings a
 * message; the driver's system thread then completes the oldest read with it. At most
 * CSQREAD_MAX_READS reads wait at once: one more fails with STATUS_INSUFFICIENT_RESOURCES
 * (ERROR_NO_SYSTEM_RESOURCES), refused by the queue's CsqInsertIrpEx callback.
 * IOCTL_CSQREAD_PARK holds one request (at most one at a time) in a second queue, by an
 * IO_CSQ_IRP_CONTEXT; IOCTL_CSQREAD_UNPARK completes it with STATUS_SUCCESS if it is still
 * there (IoCsqRemoveIrp), else fails with STATUS_NOT_FOUND (ERROR_NOT_FOUND).
 * IOCTL_CSQREAD_COUNT returns a CSQREAD_COUNTS. */
#pragma once

#define CSQREAD_MAX_READS 4
#define CSQREAD_MESSAGE_MAX 32

#define IOCTL_CSQREAD_PARK CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_CSQREAD_UNPARK CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_CSQREAD_COUNT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x902, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _CSQREAD_COUNTS {
    ULONG QueuedReads;    /* reads waiting in the queue now */
    ULONG Messages;       /* written messages no read has taken yet */
    ULONG Completed;      /* reads the system thread completed */
    ULONG Cancelled;      /* requests completed by CsqCompleteCanceledIrp */
} CSQREAD_COUNTS;
