/* async_test_public.h - what tests/async and its driver (async_test.sys) share.
 *
 * \Device\AsyncTest (\\.\AsyncTest) does what each IOCTL_ASYNC_ORDER's input says:
 *   Pend = 0: fill Information bytes of the output ('A', 'B', ...), set IoStatus to
 *             {Final, Information}, IoCompleteRequest, return Return;
 *   Pend = 1: IoMarkIrpPending, hold the IRP (with a cancel routine if Cancelable), return
 *             Return (STATUS_PENDING for a correct driver); a KTIMER DPC completes the
 *             oldest held IRP DelayMs later the same way; with DelayMs 0 it is held until
 *             IOCTL_ASYNC_RELEASE completes it (and every other one held that way) from the
 *             releasing thread;
 *   Pend = 2: like 1, but forgets to IoMarkIrpPending (a driver bug);
 *   Pend = 3: IoMarkIrpPending, return STATUS_PENDING, complete from an I/O work item (a
 *             System worker thread).
 * IOCTL_ASYNC_COUNT returns how many IRPs are held (a ULONG). Reads (DO_BUFFERED_IO) are
 * held like Pend = 1 with Final STATUS_SUCCESS and the whole length, completed 10 ms later. */
#pragma once

#define ASYNC_TEST_DEVICE_TYPE 0x8123
#define IOCTL_ASYNC_ORDER CTL_CODE(ASYNC_TEST_DEVICE_TYPE, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_ASYNC_RELEASE CTL_CODE(ASYNC_TEST_DEVICE_TYPE, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_ASYNC_COUNT CTL_CODE(ASYNC_TEST_DEVICE_TYPE, 0x902, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _ASYNC_ORDER {
    ULONG Pend;
    LONG Return;      /* what the dispatch routine returns */
    LONG Final;       /* IoStatus.Status at completion */
    ULONG Information;
    ULONG DelayMs;    /* Pend: complete from a timer DPC after this long; 0: hold until released */
    ULONG Cancelable; /* Pend: set a cancel routine while held */
} ASYNC_ORDER;
