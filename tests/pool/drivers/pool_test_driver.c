/* pool_test_driver.c - the driver the pool tests (tests/pool) load.
 *
 * DriverEntry creates \Device\PoolTest (buffered I/O) whose IOCTLs let a test watch the
 * I/O manager's SystemBuffer: IOCTL_POOLTEST_KEEP records its address and fills the
 * output; IOCTL_POOLTEST_FREE_SYSTEM_BUFFER frees it (a driver bug: the buffer is the
 * I/O manager's); IOCTL_POOLTEST_OVERRUN fills a 16-byte block with 17 bytes (the
 * special-pool scenario, special_pool_overrun.iosim). The other routines are exported
 * helpers the tests call directly, so that pool calls come from driver code: the blocks
 * are this driver's, and reports name the lines below (each marked with a LINE: comment
 * the tests look for).
 * DriverUnload deletes the device and nothing else: lookaside lists the tests leave
 * initialized are reported at unload. */
#include <ntddk.h>

#define IOCTL_POOLTEST_KEEP CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_POOLTEST_FREE_SYSTEM_BUFFER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_POOLTEST_OVERRUN CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS)

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD PoolTestUnload;
DRIVER_DISPATCH PoolTestCreateClose;
DRIVER_DISPATCH PoolTestControl;

PVOID PoolTestLastSystemBuffer = NULL;

/* ---- plain pool calls ---- */

PVOID PoolTestAllocate(POOL_TYPE Type, SIZE_T Size, ULONG Tag)
{
    return ExAllocatePoolWithTag(Type, Size, Tag); /* LINE:allocate */
}

void PoolTestFree(PVOID P)
{
    ExFreePool(P); /* LINE:free */
}

void PoolTestFreeWithTag(PVOID P, ULONG Tag)
{
    ExFreePoolWithTag(P, Tag); /* LINE:free-with-tag */
}

/* ---- special pool: the faulting accesses ---- */

void PoolTestWriteByte(volatile UCHAR *Block, SIZE_T Offset)
{
    Block[Offset] = 0x5A; /* LINE:write-byte */
}

UCHAR PoolTestReadAfterFree(SIZE_T Size, ULONG Tag)
{
    volatile UCHAR *block = (volatile UCHAR *)ExAllocatePoolWithTag(NonPagedPoolNx, Size, Tag); /* LINE:uaf-allocate */
    ExFreePoolWithTag((PVOID)block, Tag); /* LINE:uaf-free */
    return block[0]; /* LINE:uaf-read */
}

/* ---- lookaside lists ---- */

NPAGED_LOOKASIDE_LIST PoolTestNPagedList;
PAGED_LOOKASIDE_LIST PoolTestPagedList;
LOOKASIDE_LIST_EX PoolTestListEx;
LONG PoolTestCustomAllocations = 0;
LONG PoolTestCustomFrees = 0;

/* A custom Allocate/Free pair, as drivers write them to count or to add a header. */
PVOID PoolTestCustomAllocate(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    InterlockedIncrement(&PoolTestCustomAllocations);
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag); /* LINE:custom-allocate */
}

void PoolTestCustomFree(PVOID Buffer)
{
    InterlockedIncrement(&PoolTestCustomFrees);
    ExFreePool(Buffer);
}

void PoolTestInitNPaged(BOOLEAN Custom, SIZE_T Size, ULONG Tag)
{
    PALLOCATE_FUNCTION allocate_routine = Custom ? PoolTestCustomAllocate : NULL;
    PFREE_FUNCTION free_routine = Custom ? PoolTestCustomFree : NULL;
    PoolTestCustomAllocations = 0;
    PoolTestCustomFrees = 0;
    ExInitializeNPagedLookasideList(&PoolTestNPagedList, allocate_routine, free_routine, 0, Size, Tag, 0); /* LINE:init-npaged */
}

PVOID PoolTestAllocateNPaged(void)
{
    return ExAllocateFromNPagedLookasideList(&PoolTestNPagedList); /* LINE:allocate-npaged */
}

void PoolTestFreeNPaged(PVOID Entry)
{
    ExFreeToNPagedLookasideList(&PoolTestNPagedList, Entry); /* LINE:free-npaged */
}

void PoolTestDeleteNPaged(void)
{
    ExDeleteNPagedLookasideList(&PoolTestNPagedList);
}

void PoolTestInitPaged(SIZE_T Size, ULONG Tag)
{
    ExInitializePagedLookasideList(&PoolTestPagedList, NULL, NULL, 0, Size, Tag, 0);
}

PVOID PoolTestAllocatePaged(void) { return ExAllocateFromPagedLookasideList(&PoolTestPagedList); }
void PoolTestFreePaged(PVOID Entry) { ExFreeToPagedLookasideList(&PoolTestPagedList, Entry); }
void PoolTestDeletePaged(void) { ExDeletePagedLookasideList(&PoolTestPagedList); }

/* LOOKASIDE_LIST_EX with a context found through CONTAINING_RECORD, as the WDK shows. */
typedef struct _POOLTEST_CONTEXT {
    ULONG Allocations;
    ULONG Frees;
    LOOKASIDE_LIST_EX List;
} POOLTEST_CONTEXT;

POOLTEST_CONTEXT PoolTestContext;

PVOID PoolTestAllocateEx(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, PLOOKASIDE_LIST_EX Lookaside)
{
    POOLTEST_CONTEXT *context = CONTAINING_RECORD(Lookaside, POOLTEST_CONTEXT, List);
    context->Allocations++;
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}

void PoolTestFreeEx(PVOID Buffer, PLOOKASIDE_LIST_EX Lookaside)
{
    POOLTEST_CONTEXT *context = CONTAINING_RECORD(Lookaside, POOLTEST_CONTEXT, List);
    context->Frees++;
    ExFreePool(Buffer);
}

NTSTATUS PoolTestInitEx(BOOLEAN Custom, POOL_TYPE Type, ULONG Flags, SIZE_T Size, ULONG Tag)
{
    PALLOCATE_FUNCTION_EX allocate_routine = Custom ? PoolTestAllocateEx : NULL;
    PFREE_FUNCTION_EX free_routine = Custom ? PoolTestFreeEx : NULL;
    RtlZeroMemory(&PoolTestContext, sizeof(PoolTestContext));
    return ExInitializeLookasideListEx(&PoolTestContext.List, allocate_routine, free_routine, Type, Flags, Size, Tag, 0); /* LINE:init-ex */
}

PVOID PoolTestAllocateFromEx(void) { return ExAllocateFromLookasideListEx(&PoolTestContext.List); }
void PoolTestFreeToEx(PVOID Entry) { ExFreeToLookasideListEx(&PoolTestContext.List, Entry); }
void PoolTestFlushEx(void) { ExFlushLookasideListEx(&PoolTestContext.List); }
void PoolTestDeleteEx(void) { ExDeleteLookasideListEx(&PoolTestContext.List); }

/* ---- the device ---- */

NTSTATUS PoolTestCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS PoolTestControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Information = 0;
    switch (sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_POOLTEST_KEEP:
        PoolTestLastSystemBuffer = Irp->AssociatedIrp.SystemBuffer;
        if (out != 0) {
            RtlFillMemory(Irp->AssociatedIrp.SystemBuffer, out, 'k');
            Irp->IoStatus.Information = out;
        }
        break;
    case IOCTL_POOLTEST_FREE_SYSTEM_BUFFER:
        ExFreePool(Irp->AssociatedIrp.SystemBuffer); /* LINE:free-system-buffer */
        break;
    case IOCTL_POOLTEST_OVERRUN: {
        volatile UCHAR *block = (volatile UCHAR *)ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'vOlP'); /* LINE:overrun-allocate */
        ULONG i;
        if (block != NULL) {
            for (i = 0; i <= 16; ++i) /* one byte too many */
                block[i] = (UCHAR)i; /* LINE:overrun */
            ExFreePool((PVOID)block);
        }
        break;
    }
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\PoolTest");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\PoolTest");
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    device->Flags |= DO_BUFFERED_IO;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = PoolTestCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PoolTestCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = PoolTestControl;
    DriverObject->DriverUnload = PoolTestUnload;
    return STATUS_SUCCESS;
}

VOID PoolTestUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\PoolTest");
    IoDeleteSymbolicLink(&link);
    while (DriverObject->DeviceObject != NULL)
        IoDeleteDevice(DriverObject->DeviceObject);
}
