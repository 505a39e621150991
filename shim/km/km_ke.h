/*
 * km_ke.h - iosim shim (kernel): the Ke layer as drivers see it.
 *
 * IRQLs, processor modes, dispatcher objects (events, semaphores, mutexes, timers),
 * DPCs, APCs, spin locks and the Interlocked family. The structures keep the WDK's
 * names and sizes; iosim keeps its own state for each object behind them, so a
 * driver must initialise them with the Ke routines, as on Windows.
 *
 * Routines declared here and not yet provided by iosim make a driver that imports
 * them fail to load with the routine's name (see sim_kernel/ldr).
 */
#ifndef IOSIM_KM_KE_H
#define IOSIM_KM_KE_H

#include "ntdef.h"

IOSIM_BEGIN_DECLS

#define PASSIVE_LEVEL 0
#define LOW_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#define CMCI_LEVEL 5
#define CLOCK_LEVEL 13
#define IPI_LEVEL 14
#define DRS_LEVEL 14
#define POWER_LEVEL 14
#define PROFILE_LEVEL 15
#define HIGH_LEVEL 15

typedef struct _KTHREAD *PKTHREAD, *PRKTHREAD;
typedef struct _ETHREAD *PETHREAD;
typedef struct _KPROCESS *PKPROCESS, *PRKPROCESS;
/* As in wdm.h, a PEPROCESS is a pointer to the same structure as a PKPROCESS, so
 * KeStackAttachProcess(eprocess, ...) compiles in C++ too. */
typedef struct _KPROCESS *PEPROCESS;
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;

typedef struct _DISPATCHER_HEADER {
    UCHAR Type;
    UCHAR Signalling;
    UCHAR Size;
    UCHAR Reserved1;
    volatile LONG SignalState;
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER, *PDISPATCHER_HEADER;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

typedef struct _KSEMAPHORE {
    DISPATCHER_HEADER Header;
    LONG Limit;
} KSEMAPHORE, *PKSEMAPHORE, *PRKSEMAPHORE;

typedef struct _KMUTANT {
    DISPATCHER_HEADER Header;
    LIST_ENTRY MutantListEntry;
    struct _KTHREAD *OwnerThread;
    BOOLEAN Abandoned;
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

struct _KDPC;
typedef void KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

typedef struct _KDPC {
    UCHAR Type;
    UCHAR Importance;
    volatile USHORT Number;
    LIST_ENTRY DpcListEntry;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    volatile PVOID DpcData;
} KDPC, *PKDPC, *PRKDPC;

typedef struct _KTIMER {
    DISPATCHER_HEADER Header;
    ULARGE_INTEGER DueTime;
    LIST_ENTRY TimerListEntry;
    struct _KDPC *Dpc;
    ULONG Processor;
    LONG Period;
} KTIMER, *PKTIMER, *PRKTIMER;

struct _KAPC;
typedef void KNORMAL_ROUTINE(PVOID NormalContext, PVOID SystemArgument1, PVOID SystemArgument2);
typedef KNORMAL_ROUTINE *PKNORMAL_ROUTINE;
typedef struct _KAPC {
    UCHAR Type;
    UCHAR SpareByte0;
    UCHAR Size;
    UCHAR SpareByte1;
    ULONG SpareLong0;
    struct _KTHREAD *Thread;
    LIST_ENTRY ApcListEntry;
    PVOID Reserved[3];
    PVOID NormalContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    CCHAR ApcStateIndex;
    KPROCESSOR_MODE ApcMode;
    BOOLEAN Inserted;
} KAPC, *PKAPC, *PRKAPC;

typedef struct _KDEVICE_QUEUE_ENTRY {
    LIST_ENTRY DeviceListEntry;
    ULONG SortKey;
    BOOLEAN Inserted;
} KDEVICE_QUEUE_ENTRY, *PKDEVICE_QUEUE_ENTRY;

typedef struct _KDEVICE_QUEUE {
    CSHORT Type;
    CSHORT Size;
    LIST_ENTRY DeviceListHead;
    KSPIN_LOCK Lock;
    BOOLEAN Busy;
} KDEVICE_QUEUE, *PKDEVICE_QUEUE;

typedef struct _KLOCK_QUEUE_HANDLE {
    struct {
        PVOID Next;
        PKSPIN_LOCK Lock;
    } LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

typedef struct _FAST_MUTEX {
    volatile LONG Count;
    PVOID Owner;
    ULONG Contention;
    KEVENT Event;
    ULONG OldIrql;
} FAST_MUTEX, *PFAST_MUTEX, KGUARDED_MUTEX, *PKGUARDED_MUTEX;

typedef struct _ERESOURCE {
    LIST_ENTRY SystemResourcesList;
    PVOID OwnerTable;
    SHORT ActiveCount;
    USHORT Flag;
    PVOID SharedWaiters;
    PVOID ExclusiveWaiters;
    PVOID Reserved[8];
} ERESOURCE, *PERESOURCE;

typedef enum _KWAIT_REASON {
    Executive,
    FreePage,
    PageIn,
    PoolAllocation,
    DelayExecution,
    Suspended,
    UserRequest,
    WrExecutive,
    MaximumWaitReason = 40
} KWAIT_REASON;

typedef enum _KDPC_IMPORTANCE { LowImportance, MediumImportance, HighImportance, MediumHighImportance } KDPC_IMPORTANCE;

/* IRQL */
KIRQL KeGetCurrentIrql(void);
void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
void KeLowerIrql(KIRQL NewIrql);
KIRQL KeRaiseIrqlToDpcLevel(void);
ULONG KeGetCurrentProcessorNumber(void);
ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors);

/* dispatcher objects */
void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
LONG KePulseEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
LONG KeResetEvent(PRKEVENT Event);
void KeClearEvent(PRKEVENT Event);
LONG KeReadStateEvent(PRKEVENT Event);
void KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit);
LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait);
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore);
void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);
LONG KeReadStateMutex(PRKMUTEX Mutex);
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout);
NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PVOID WaitBlockArray);
#define KeWaitForMutexObject KeWaitForSingleObject
NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval);

/* DPCs and timers */
void KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc);
void KeInitializeTimer(PKTIMER Timer);
void KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc);
BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc);
BOOLEAN KeCancelTimer(PKTIMER Timer);
BOOLEAN KeReadStateTimer(PKTIMER Timer);

/* time */
void KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime);
void KeQueryTickCount(PLARGE_INTEGER TickCount);
ULONG KeQueryTimeIncrement(void);
ULONGLONG KeQueryInterruptTime(void);
LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);

/* spin locks */
void KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = KeAcquireSpinLockRaiseToDpc(SpinLock))
void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);
void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);
void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle);
void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle);

/* threads */
#define LOW_PRIORITY 0
#define LOW_REALTIME_PRIORITY 16
#define HIGH_PRIORITY 31
#define MAXIMUM_PRIORITY 32
PKTHREAD KeGetCurrentThread(void);
KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority);
KPRIORITY KeQueryPriorityThread(PKTHREAD Thread);
void KeEnterCriticalRegion(void);
void KeLeaveCriticalRegion(void);
BOOLEAN KeAreApcsDisabled(void);
/* KAPC_STATE: the saved "which process am I attached to" of KeStackAttachProcess. */
typedef struct _KAPC_STATE {
    LIST_ENTRY ApcListHead[2];
    struct _KPROCESS *Process;
    UCHAR InProgressFlags;
    BOOLEAN KernelApcPending;
    BOOLEAN UserApcPendingAll;
} KAPC_STATE, *PKAPC_STATE, *PRKAPC_STATE;
void KeStackAttachProcess(PRKPROCESS Process, PRKAPC_STATE ApcState);
void KeUnstackDetachProcess(PRKAPC_STATE ApcState);
void KeAttachProcess(PRKPROCESS Process);
void KeDetachProcess(void);

/* Interlocked: compiler builtins, sequentially consistent like the Windows versions. */
#define InterlockedIncrement(p) ((LONG)__atomic_add_fetch((volatile LONG *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedDecrement(p) ((LONG)__atomic_sub_fetch((volatile LONG *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedExchange(p, v) ((LONG)__atomic_exchange_n((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedExchangeAdd(p, v) ((LONG)__atomic_fetch_add((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedAdd(p, v) ((LONG)__atomic_add_fetch((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedOr(p, v) ((LONG)__atomic_fetch_or((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedAnd(p, v) ((LONG)__atomic_fetch_and((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedXor(p, v) ((LONG)__atomic_fetch_xor((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedIncrement64(p) ((LONG64)__atomic_add_fetch((volatile LONG64 *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedDecrement64(p) ((LONG64)__atomic_sub_fetch((volatile LONG64 *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedExchange64(p, v) ((LONG64)__atomic_exchange_n((volatile LONG64 *)(p), (LONG64)(v), __ATOMIC_SEQ_CST))
#define InterlockedExchangeAdd64(p, v) ((LONG64)__atomic_fetch_add((volatile LONG64 *)(p), (LONG64)(v), __ATOMIC_SEQ_CST))
#define InterlockedCompareExchange(p, x, c) ((LONG)__sync_val_compare_and_swap((volatile LONG *)(p), (LONG)(c), (LONG)(x)))
#define InterlockedCompareExchange64(p, x, c) \
    ((LONG64)__sync_val_compare_and_swap((volatile LONG64 *)(p), (LONG64)(c), (LONG64)(x)))
#define InterlockedExchangePointer(p, v) ((PVOID)__atomic_exchange_n((PVOID volatile *)(p), (PVOID)(v), __ATOMIC_SEQ_CST))
#define InterlockedCompareExchangePointer(p, x, c) \
    ((PVOID)__sync_val_compare_and_swap((PVOID volatile *)(p), (PVOID)(c), (PVOID)(x)))
#define InterlockedAnd64(p, v) ((LONG64)__atomic_fetch_and((volatile LONG64 *)(p), (LONG64)(v), __ATOMIC_SEQ_CST))
#define InterlockedOr64(p, v) ((LONG64)__atomic_fetch_or((volatile LONG64 *)(p), (LONG64)(v), __ATOMIC_SEQ_CST))
#define InterlockedXor64(p, v) ((LONG64)__atomic_fetch_xor((volatile LONG64 *)(p), (LONG64)(v), __ATOMIC_SEQ_CST))
#define InterlockedAdd64(p, v) ((LONG64)__atomic_add_fetch((volatile LONG64 *)(p), (LONG64)(v), __ATOMIC_SEQ_CST))
#define InterlockedIncrement16(p) ((SHORT)__atomic_add_fetch((volatile SHORT *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedDecrement16(p) ((SHORT)__atomic_sub_fetch((volatile SHORT *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedCompareExchange16(p, x, c) ((SHORT)__sync_val_compare_and_swap((volatile SHORT *)(p), (SHORT)(c), (SHORT)(x)))
#define InterlockedAnd8(p, v) ((CHAR)__atomic_fetch_and((volatile CHAR *)(p), (CHAR)(v), __ATOMIC_SEQ_CST))
#define InterlockedOr8(p, v) ((CHAR)__atomic_fetch_or((volatile CHAR *)(p), (CHAR)(v), __ATOMIC_SEQ_CST))
#define InterlockedExchange8(p, v) ((CHAR)__atomic_exchange_n((volatile CHAR *)(p), (CHAR)(v), __ATOMIC_SEQ_CST))
#define InterlockedExchangeAddSizeT(p, v) ((SIZE_T)__atomic_fetch_add((volatile SIZE_T *)(p), (SIZE_T)(v), __ATOMIC_SEQ_CST))
#define InterlockedIncrementSizeT(p) ((SIZE_T)__atomic_add_fetch((volatile SIZE_T *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedDecrementSizeT(p) ((SIZE_T)__atomic_sub_fetch((volatile SIZE_T *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedBitTestAndSet(p, b) \
    ((BOOLEAN)((__atomic_fetch_or((volatile LONG *)(p), (LONG)(1UL << (b)), __ATOMIC_SEQ_CST) >> (b)) & 1))
#define InterlockedBitTestAndReset(p, b) \
    ((BOOLEAN)((__atomic_fetch_and((volatile LONG *)(p), (LONG)~(1UL << (b)), __ATOMIC_SEQ_CST) >> (b)) & 1))
/* The acquire/release/no-fence forms: iosim's are all full barriers (stronger, never weaker). */
#define InterlockedIncrementAcquire InterlockedIncrement
#define InterlockedIncrementRelease InterlockedIncrement
#define InterlockedIncrementNoFence InterlockedIncrement
#define InterlockedDecrementAcquire InterlockedDecrement
#define InterlockedDecrementRelease InterlockedDecrement
#define InterlockedDecrementNoFence InterlockedDecrement
#define InterlockedCompareExchangeAcquire InterlockedCompareExchange
#define InterlockedCompareExchangeRelease InterlockedCompareExchange
#define InterlockedCompareExchangeNoFence InterlockedCompareExchange
#define InterlockedExchangeAcquire InterlockedExchange
#define InterlockedExchangeNoFence InterlockedExchange
#define InterlockedOrAcquire InterlockedOr
#define InterlockedOrRelease InterlockedOr
#define InterlockedAndAcquire InterlockedAnd
#define InterlockedAndRelease InterlockedAnd
#define ReadNoFence(p) ((LONG)__atomic_load_n((volatile LONG *)(p), __ATOMIC_RELAXED))
#define WriteNoFence(p, v) __atomic_store_n((volatile LONG *)(p), (LONG)(v), __ATOMIC_RELAXED)
#define ReadAcquire(p) ((LONG)__atomic_load_n((volatile LONG *)(p), __ATOMIC_ACQUIRE))
#define WriteRelease(p, v) __atomic_store_n((volatile LONG *)(p), (LONG)(v), __ATOMIC_RELEASE)
#define KeMemoryBarrier() IOSIM_FULL_BARRIER()
#define MemoryBarrier() IOSIM_FULL_BARRIER()
#define YieldProcessor() ((void)0)

IOSIM_END_DECLS

#endif /* IOSIM_KM_KE_H */
