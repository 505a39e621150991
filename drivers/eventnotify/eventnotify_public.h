/* eventnotify_public.h - what eventnotify.sys and its clients share.
 * \Device\EventNotify (\\.\EventNotify) tells an app when something happens in the driver
 * (here: a tick of its timer), two ways:
 *  - an event: the app creates it and passes its HANDLE (IOCTL_EVENTNOTIFY_REGISTER); the
 *    driver references the event object and sets it from its timer DPC; the app then asks
 *    what happened (IOCTL_EVENTNOTIFY_GET_LAST);
 *  - the inverted call: the app keeps several IOCTL_EVENTNOTIFY_WAIT requests pending (on an
 *    overlapped handle); the driver completes one per notification with an EVENTNOTIFY_INFO.
 *    A notification that finds no request waiting is counted as dropped.
 * IOCTL_EVENTNOTIFY_START starts Count notifications, PeriodMs apart.
 * IOCTL_EVENTNOTIFY_CHECK_RULES takes an event HANDLE and returns what
 * ObReferenceObjectByHandle answers for it, and for a kernel handle, in each mode. */
#pragma once

#define IOCTL_EVENTNOTIFY_REGISTER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_EVENTNOTIFY_START CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_EVENTNOTIFY_GET_LAST CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_EVENTNOTIFY_WAIT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x803, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_EVENTNOTIFY_CHECK_RULES CTL_CODE(FILE_DEVICE_UNKNOWN, 0x804, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* IOCTL_EVENTNOTIFY_REGISTER and _CHECK_RULES input (NULL unregisters). */
typedef struct _EVENTNOTIFY_REGISTER {
    HANDLE Event;
} EVENTNOTIFY_REGISTER;

typedef struct _EVENTNOTIFY_START {
    ULONG PeriodMs;
    ULONG Count;
} EVENTNOTIFY_START;

/* IOCTL_EVENTNOTIFY_WAIT and _GET_LAST output. */
typedef struct _EVENTNOTIFY_INFO {
    ULONG Sequence;  /* 1, 2, ... */
    ULONG TimeMs;    /* simulated ms since boot */
    ULONG Dropped;   /* notifications so far that found no IOCTL_EVENTNOTIFY_WAIT pending */
} EVENTNOTIFY_INFO;

/* IOCTL_EVENTNOTIFY_CHECK_RULES output: ObReferenceObjectByHandle's status for ... */
typedef struct _EVENTNOTIFY_RULES {
    LONG AsEventUserMode;        /* the app's handle, *ExEventObjectType, UserMode */
    LONG AsFileUserMode;    /* the app's handle, *IoFileObjectType: the wrong type */
    LONG KernelHandleUserMode;   /* a kernel handle (OBJ_KERNEL_HANDLE) to the event, UserMode */
    LONG KernelHandleKernelMode; /* the same kernel handle, KernelMode */
} EVENTNOTIFY_RULES;
