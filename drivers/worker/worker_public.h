/*
 * worker_public.h - what the worker driver and its client share: the device's name, the
 * control codes and the answer each request returns.
 *
 * Lesson: a driver does work outside the requester's thread in two ways - its own system
 * thread (PsCreateSystemThread), which sleeps on an event until there is work, and a work
 * item (IoQueueWorkItem) run by one of the system's worker threads. Both run at
 * PASSIVE_LEVEL in the System process, so the answer shows a thread id and process id
 * that are not the client's.
 *
 * Included by drivers/worker/worker.c (kernel) and apps/worker_client/worker_client.c.
 */
#ifndef WORKER_PUBLIC_H
#define WORKER_PUBLIC_H

#define IOSIM_WORKER_WIN32_NAME "\\\\.\\IosimWorker"

/* Wakes the driver's system thread and waits until it has done one round of work. */
#define IOCTL_WORKER_KICK_THREAD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Queues the driver's work item and waits until its routine has run. */
#define IOCTL_WORKER_QUEUE_ITEM CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* Mistakes on purpose, for the lessons about what goes wrong (see worker.c). */
/* DriverUnload will forget to stop the system thread. */
#define IOCTL_WORKER_FORGET_TO_STOP CTL_CODE(FILE_DEVICE_UNKNOWN, 0x910, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Queues a work item whose routine returns at DISPATCH_LEVEL (a spin lock still held). */
#define IOCTL_WORKER_BAD_IRQL_ITEM CTL_CODE(FILE_DEVICE_UNKNOWN, 0x911, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Queues the work item and frees it at once, before its routine ran. */
#define IOCTL_WORKER_FREE_QUEUED CTL_CODE(FILE_DEVICE_UNKNOWN, 0x912, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* The answer to KICK_THREAD and QUEUE_ITEM. */
typedef struct _WORKER_RESULT {
    ULONG Rounds;    /* how many rounds of work the driver has done (thread and items together) */
    ULONG ThreadId;  /* the thread that did this round */
    ULONG ProcessId; /* its process (4, the System process) */
    ULONG Irql;      /* the IRQL it ran at (0, PASSIVE_LEVEL) */
} WORKER_RESULT, *PWORKER_RESULT;

#endif /* WORKER_PUBLIC_H */
