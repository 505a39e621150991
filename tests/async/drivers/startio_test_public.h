/* startio_test_public.h - what startio_test.sys (StartIo, device queues, the I/O timer)
 * and tests/async/startio_test.cpp share. \Device\StartIoTest (\\.\StartIoTest). */
#pragma once

/* A packet: IoMarkIrpPending + IoStartPacket (with Key if UseKey, with the driver's cancel
 * routine if Cancelable). StartIo keeps a Hold packet until IOCTL_SI_RELEASE (or its
 * cancel); completes one with DelayMs from a timer DPC after that many ms; else completes
 * it at once inside StartIo. Whoever completes it calls IoStartNextPacket(Dev, TRUE), or
 * IoStartNextPacketByKey(Dev, TRUE, key + 1) when the config says ByKey. */
#define IOCTL_SI_PACKET CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA00, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_SI_RELEASE CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA01, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_SI_CONFIG CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA02, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_SI_LOG CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA03, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_SI_TIMER CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA04, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _SI_PACKET {
    ULONG Key;
    ULONG UseKey;
    ULONG Cancelable;
    ULONG Hold;
    ULONG DelayMs;
} SI_PACKET;

typedef struct _SI_CONFIG {
    ULONG Deferred;      /* IoSetStartIoAttributes(DeferredStartIo) */
    ULONG NonCancelable; /* IoSetStartIoAttributes(NonCancelable) */
    ULONG ByKey;         /* start the next packet by key */
} SI_CONFIG;

#define SI_LOG_MAX 16
typedef struct _SI_LOG {
    ULONG Count;                         /* StartIo calls */
    ULONG Keys[SI_LOG_MAX];              /* each call's packet key, in call order */
    ULONG CancelRoutineSet[SI_LOG_MAX];  /* the IRP still had a cancel routine in StartIo */
    ULONG NotAtDispatch;                 /* StartIo calls below/above DISPATCH_LEVEL */
    ULONG Overlaps;                      /* StartIo called while a packet was in progress */
    ULONG MaxDepth;                      /* deepest StartIo nesting */
    ULONG Busy;                          /* DeviceObject->DeviceQueue.Busy now */
    ULONG CurrentIrpSet;                 /* DeviceObject->CurrentIrp != NULL now */
    ULONG Ticks;                         /* IoTimer routine calls */
    ULONG TickMs[SI_LOG_MAX];            /* simulated ms (interrupt time) of each */
    ULONG TickNotAtDispatch;
} SI_LOG;

/* IOCTL_SI_TIMER input: one ULONG. */
#define SI_TIMER_INIT_START 1 /* IoInitializeTimer + IoStartTimer */
#define SI_TIMER_STOP 2
#define SI_TIMER_START 3
