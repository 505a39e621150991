/*
 * mdl_probe.c - test driver for tests/mdl: records what each transfer mode hands it and
 * exercises the MDL routines (mapping, partial MDLs, pages for an MDL, user mappings),
 * correctly and, on request, wrongly.
 *
 * Three devices: \Device\MdlDirect (DO_DIRECT_IO), \Device\MdlBuffered (DO_BUFFERED_IO),
 * \Device\MdlNeither (neither flag). Reads fill the caller's buffer with 'A'..'Z'
 * (through the MDL's system address, the SystemBuffer, or Irp->UserBuffer inside __try),
 * writes keep the first bytes in MdlObservation.Data. The control codes are listed in
 * mdl_probe_ioctl.h. Lines the tests name carry "MARK:" comments.
 */
#include <ntddk.h>

#include "mdl_probe_ioctl.h"

MDL_OBSERVATION MdlObservation; /* read by the tests through the module's symbol table */

static PUCHAR g_pool;      /* one page of non-paged pool shown to an app */
static PMDL g_pool_mdl;
static PVOID g_user_view;
static PMDL g_kept;        /* IOCTL_MDL_KEEP_LOCKED */
static PMDL g_leaked;      /* IOCTL_MDL_LEAK */

static const WCHAR *const kNames[] = {L"\\Device\\MdlDirect", L"\\Device\\MdlBuffered", L"\\Device\\MdlNeither"};
static const WCHAR *const kLinks[] = {L"\\??\\MdlDirect", L"\\??\\MdlBuffered", L"\\??\\MdlNeither"};
static const ULONG kFlags[] = {DO_DIRECT_IO, DO_BUFFERED_IO, 0};

static NTSTATUS Finish(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    MdlObservation.Status = Status;
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static void Observe(PIRP Irp, PIO_STACK_LOCATION sp)
{
    ULONG requests = MdlObservation.Requests + 1;
    RtlZeroMemory(&MdlObservation, sizeof(MdlObservation));
    MdlObservation.Requests = requests;
    MdlObservation.Major = sp->MajorFunction;
    MdlObservation.SystemBuffer = Irp->AssociatedIrp.SystemBuffer;
    MdlObservation.UserBuffer = Irp->UserBuffer;
    MdlObservation.MdlAddress = Irp->MdlAddress;
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
        MdlObservation.IoControlCode = sp->Parameters.DeviceIoControl.IoControlCode;
        MdlObservation.InputLength = sp->Parameters.DeviceIoControl.InputBufferLength;
        MdlObservation.OutputLength = sp->Parameters.DeviceIoControl.OutputBufferLength;
        MdlObservation.Type3InputBuffer = sp->Parameters.DeviceIoControl.Type3InputBuffer;
    } else {
        MdlObservation.Length = sp->Parameters.Read.Length;
    }
    if (Irp->MdlAddress != NULL) {
        PMDL mdl = Irp->MdlAddress;
        ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl));
        ULONG i;
        MdlObservation.MdlVirtualAddress = MmGetMdlVirtualAddress(mdl);
        MdlObservation.MdlByteCount = MmGetMdlByteCount(mdl);
        MdlObservation.MdlByteOffset = MmGetMdlByteOffset(mdl);
        MdlObservation.MdlFlags = (USHORT)mdl->MdlFlags;
        MdlObservation.MdlProcess = mdl->Process;
        MdlObservation.PfnCount = pages;
        for (i = 0; i < pages && i < MDL_OBSERVED_PFNS; ++i)
            MdlObservation.Pfns[i] = MmGetMdlPfnArray(mdl)[i];
    }
}

/* The MDL's system address, recorded. */
static PUCHAR MapIrpMdl(PIRP Irp)
{
    PUCHAR system = (PUCHAR)MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority | MdlMappingNoExecute);
    MdlObservation.SystemAddress = system;
    MdlObservation.MdlFlagsMapped = (USHORT)Irp->MdlAddress->MdlFlags;
    return system;
}

static void Fill(PUCHAR to, ULONG length)
{
    ULONG i;
    for (i = 0; i < length; ++i)
        to[i] = (UCHAR)('A' + i % 26);
}

static void Keep(const UCHAR *from, ULONG length)
{
    RtlCopyMemory(MdlObservation.Data, from, length < sizeof(MdlObservation.Data) ? length : sizeof(MdlObservation.Data));
}

NTSTATUS ProbeCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS ProbeReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    BOOLEAN write = sp->MajorFunction == IRP_MJ_WRITE;
    ULONG length = sp->Parameters.Read.Length;
    NTSTATUS status = STATUS_SUCCESS;
    Observe(Irp, sp);
    if (length == 0)
        return Finish(Irp, STATUS_SUCCESS, 0);
    if (DeviceObject->Flags & DO_DIRECT_IO) {
        PUCHAR system = MapIrpMdl(Irp);
        if (system == NULL)
            return Finish(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        if (write)
            Keep(system, length);
        else
            Fill(system, length);
    } else if (DeviceObject->Flags & DO_BUFFERED_IO) {
        if (write)
            Keep((PUCHAR)Irp->AssociatedIrp.SystemBuffer, length);
        else
            Fill((PUCHAR)Irp->AssociatedIrp.SystemBuffer, length);
    } else {
        /* Neither: the caller's own address, valid here because this runs in its context. */
        __try {
            if (write) {
                ProbeForRead(Irp->UserBuffer, length, 1);
                Keep((PUCHAR)Irp->UserBuffer, length);
            } else {
                ProbeForWrite(Irp->UserBuffer, length, 1);
                Fill((PUCHAR)Irp->UserBuffer, length);
            }
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            status = GetExceptionCode();
        }
    }
    return Finish(Irp, status, NT_SUCCESS(status) ? length : 0);
}

static NTSTATUS SharePool(PIRP Irp, ULONG out_length)
{
    MDL_SHARED_VIEW *view = (MDL_SHARED_VIEW *)Irp->AssociatedIrp.SystemBuffer;
    NTSTATUS status = STATUS_SUCCESS;
    if (out_length < sizeof(MDL_SHARED_VIEW))
        return Finish(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    if (g_pool == NULL) {
        g_pool = (PUCHAR)ExAllocatePool2(POOL_FLAG_NON_PAGED, PAGE_SIZE, 'bdMI'); /* zeroed, a whole page */
        if (g_pool == NULL)
            return Finish(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        RtlCopyMemory(g_pool, "kernel buffer", 14);
        g_pool_mdl = IoAllocateMdl(g_pool, PAGE_SIZE, FALSE, FALSE, NULL);
        MmBuildMdlForNonPagedPool(g_pool_mdl);
    }
    __try {
        g_user_view = MmMapLockedPagesSpecifyCache(g_pool_mdl, UserMode, MmCached, NULL, FALSE,
                                                   NormalPagePriority | MdlMappingNoExecute);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = GetExceptionCode();
        g_user_view = NULL;
    }
    view->UserAddress = g_user_view;
    view->PoolAddress = g_pool;
    view->Status = status;
    return Finish(Irp, STATUS_SUCCESS, sizeof(MDL_SHARED_VIEW));
}

static NTSTATUS UnsharePool(PIRP Irp)
{
    if (g_user_view != NULL)
        MmUnmapLockedPages(g_user_view, g_pool_mdl);
    g_user_view = NULL;
    if (g_pool_mdl != NULL)
        IoFreeMdl(g_pool_mdl);
    g_pool_mdl = NULL;
    if (g_pool != NULL)
        ExFreePoolWithTag(g_pool, 'bdMI');
    g_pool = NULL;
    return Finish(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS Partial(PIRP Irp, PIO_STACK_LOCATION sp, BOOLEAN in_range)
{
    MDL_PARTIAL_REQUEST *request = (MDL_PARTIAL_REQUEST *)Irp->AssociatedIrp.SystemBuffer;
    PMDL source = Irp->MdlAddress;
    PUCHAR base;
    PMDL partial;
    PUCHAR system;
    ULONG i, pages;
    if (source == NULL || request == NULL || sp->Parameters.DeviceIoControl.InputBufferLength < sizeof(*request))
        return Finish(Irp, STATUS_INVALID_PARAMETER, 0);
    if (request->MapParentFirst)
        MapIrpMdl(Irp);
    base = (PUCHAR)MmGetMdlVirtualAddress(source) + request->Offset; /* the user address, not the system one */
    partial = IoAllocateMdl(in_range ? base : (PVOID)((PUCHAR)MmGetMdlVirtualAddress(source) + PAGE_SIZE * 4),
                            request->Length != 0 ? request->Length : MmGetMdlByteCount(source) - request->Offset,
                            FALSE, FALSE, NULL);
    if (partial == NULL)
        return Finish(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    if (in_range)
        IoBuildPartialMdl(source, partial, base, request->Length);
    else
        IoBuildPartialMdl(source, partial, (PUCHAR)MmGetMdlVirtualAddress(source) + 96, 64); /* MARK: partial out of range */
    MdlObservation.PartialVirtualAddress = MmGetMdlVirtualAddress(partial);
    MdlObservation.PartialByteCount = MmGetMdlByteCount(partial);
    MdlObservation.PartialFlags = (USHORT)partial->MdlFlags;
    pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(partial), MmGetMdlByteCount(partial));
    for (i = 0; i < pages && i < MDL_OBSERVED_PFNS; ++i)
        MdlObservation.PartialPfns[i] = MmGetMdlPfnArray(partial)[i];
    system = (PUCHAR)MmGetSystemAddressForMdlSafe(partial, NormalPagePriority | MdlMappingNoExecute);
    MdlObservation.PartialSystemAddress = system;
    MdlObservation.PartialFlagsMapped = (USHORT)partial->MdlFlags;
    if (system != NULL)
        RtlCopyMemory(system, "partial", 7);
    MmPrepareMdlForReuse(partial);
    IoFreeMdl(partial);
    return Finish(Irp, STATUS_SUCCESS, sp->Parameters.DeviceIoControl.OutputBufferLength);
}

static NTSTATUS Pages(PIRP Irp, PIO_STACK_LOCATION sp)
{
    PHYSICAL_ADDRESS low, high, skip;
    ULONG bytes, i, count;
    PMDL mdl;
    PUCHAR system;
    BOOLEAN same = TRUE;
    if (sp->Parameters.DeviceIoControl.InputBufferLength < sizeof(ULONG))
        return Finish(Irp, STATUS_INVALID_PARAMETER, 0);
    bytes = *(ULONG *)Irp->AssociatedIrp.SystemBuffer;
    low.QuadPart = 0;
    high.QuadPart = -1;
    skip.QuadPart = 0;
    mdl = MmAllocatePagesForMdlEx(low, high, skip, bytes, MmCached, MM_ALLOCATE_FULLY_REQUIRED);
    if (mdl == NULL)
        return Finish(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    MdlObservation.PagesStartVa = MmGetMdlBaseVa(mdl);
    MdlObservation.PagesByteCount = MmGetMdlByteCount(mdl);
    count = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl));
    MdlObservation.PagesCount = count;
    for (i = 0; i < count && i < MDL_OBSERVED_PFNS; ++i)
        MdlObservation.Pfns[i] = MmGetMdlPfnArray(mdl)[i];
    MdlObservation.PfnCount = count;
    system = (PUCHAR)MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute);
    MdlObservation.SystemAddress = system;
    MdlObservation.MdlFlagsMapped = (USHORT)mdl->MdlFlags;
    if (system != NULL) {
        for (i = 0; i < MmGetMdlByteCount(mdl); ++i)
            system[i] = (UCHAR)(i * 7);
        for (i = 0; i < MmGetMdlByteCount(mdl); ++i)
            same = same && system[i] == (UCHAR)(i * 7);
    }
    MdlObservation.PagesReadBack = system != NULL && same;
    MmUnmapLockedPages(system, mdl);
    MmFreePagesFromMdl(mdl);
    ExFreePool(mdl);
    return Finish(Irp, STATUS_SUCCESS, 0);
}

NTSTATUS ProbeControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG in_length = sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out_length = sp->Parameters.DeviceIoControl.OutputBufferLength;
    NTSTATUS status = STATUS_SUCCESS;
    UNREFERENCED_PARAMETER(DeviceObject);
    Observe(Irp, sp);
    switch (sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_MDL_BUFFERED:
        if (Irp->AssociatedIrp.SystemBuffer != NULL)
            Keep((PUCHAR)Irp->AssociatedIrp.SystemBuffer, in_length);
        return Finish(Irp, STATUS_SUCCESS, in_length < out_length ? in_length : out_length);
    case IOCTL_MDL_IN_DIRECT:
    case IOCTL_MDL_OUT_DIRECT: {
        PUCHAR system;
        if (Irp->MdlAddress == NULL)
            return Finish(Irp, STATUS_SUCCESS, 0);
        system = MapIrpMdl(Irp);
        if (system == NULL)
            return Finish(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        if (sp->Parameters.DeviceIoControl.IoControlCode == IOCTL_MDL_IN_DIRECT) {
            Keep(system, out_length);
            return Finish(Irp, STATUS_SUCCESS, 0);
        }
        if (Irp->AssociatedIrp.SystemBuffer != NULL)
            Keep((PUCHAR)Irp->AssociatedIrp.SystemBuffer, in_length);
        RtlCopyMemory(system, "OUT_DIRECT", out_length < 10 ? out_length : 10);
        return Finish(Irp, STATUS_SUCCESS, out_length);
    }
    case IOCTL_MDL_NEITHER: {
        ULONG n = in_length < out_length ? in_length : out_length;
        /* Nobody checked these addresses: the driver probes them itself. */
        __try {
            ProbeForRead(sp->Parameters.DeviceIoControl.Type3InputBuffer, in_length, 1);
            ProbeForWrite(Irp->UserBuffer, out_length, 1);
            RtlCopyMemory(Irp->UserBuffer, sp->Parameters.DeviceIoControl.Type3InputBuffer, n);
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            status = GetExceptionCode();
        }
        return Finish(Irp, status, NT_SUCCESS(status) ? n : 0);
    }
    case IOCTL_MDL_SHARE_POOL:
        return SharePool(Irp, out_length);
    case IOCTL_MDL_READ_POOL:
        if (g_pool == NULL || out_length < 16)
            return Finish(Irp, STATUS_INVALID_DEVICE_STATE, 0);
        RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, g_pool, 16);
        return Finish(Irp, STATUS_SUCCESS, 16);
    case IOCTL_MDL_UNSHARE_POOL:
        return UnsharePool(Irp);
    case IOCTL_MDL_PARTIAL:
        return Partial(Irp, sp, TRUE);
    case IOCTL_MDL_BAD_PARTIAL:
        return Partial(Irp, sp, FALSE);
    case IOCTL_MDL_PAGES:
        return Pages(Irp, sp);
    case IOCTL_MDL_KEEP_LOCKED:
        g_kept = IoAllocateMdl(Irp->UserBuffer, out_length, FALSE, FALSE, NULL);
        __try {
            MmProbeAndLockPages(g_kept, UserMode, IoWriteAccess); /* MARK: kept locked */
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            status = GetExceptionCode();
            IoFreeMdl(g_kept);
            g_kept = NULL;
        }
        return Finish(Irp, status, 0);
    case IOCTL_MDL_RELEASE_KEPT:
        if (g_kept != NULL) {
            MmUnlockPages(g_kept);
            IoFreeMdl(g_kept);
            g_kept = NULL;
        }
        return Finish(Irp, STATUS_SUCCESS, 0);
    case IOCTL_MDL_UNLOCK_TWICE: {
        PMDL mdl = IoAllocateMdl(Irp->UserBuffer, out_length, FALSE, FALSE, NULL);
        __try {
            MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            IoFreeMdl(mdl);
            return Finish(Irp, GetExceptionCode(), 0);
        }
        MmUnlockPages(mdl);
        MmUnlockPages(mdl); /* MARK: second unlock */
        IoFreeMdl(mdl);
        return Finish(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_MDL_LEAK:
        g_leaked = IoAllocateMdl(Irp->AssociatedIrp.SystemBuffer, 16, FALSE, FALSE, NULL); /* MARK: leaked MDL */
        return Finish(Irp, STATUS_SUCCESS, 0);
    case IOCTL_MDL_MAP_TO_USER_AND_LEAVE:
        if (Irp->MdlAddress == NULL)
            return Finish(Irp, STATUS_INVALID_PARAMETER, 0);
        __try {
            PVOID view = MmMapLockedPagesSpecifyCache(Irp->MdlAddress, UserMode, MmCached, NULL, FALSE, 0); /* MARK: user view left */
            MdlObservation.UserView = view;
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            status = GetExceptionCode();
        }
        return Finish(Irp, status, 0);
    case IOCTL_MDL_REPLACE: {
        /* A second MDL with SecondaryBuffer FALSE: it replaces Irp->MdlAddress. */
        PMDL mine = IoAllocateMdl(Irp->AssociatedIrp.SystemBuffer, in_length, FALSE, FALSE, Irp); /* MARK: replace */
        if (mine != NULL)
            MmBuildMdlForNonPagedPool(mine);
        return Finish(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_MDL_SECONDARY: {
        PMDL mine = IoAllocateMdl(Irp->AssociatedIrp.SystemBuffer, in_length, TRUE, FALSE, Irp);
        if (mine != NULL)
            MmBuildMdlForNonPagedPool(mine);
        MdlObservation.UserView = mine; /* the chained MDL's address */
        return Finish(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_MDL_PROBE_KERNEL: {
        PMDL mdl = IoAllocateMdl(Irp->AssociatedIrp.SystemBuffer, in_length, FALSE, FALSE, NULL);
        __try {
            MmProbeAndLockPages(mdl, UserMode, IoReadAccess); /* a kernel address probed for user mode */
            MmUnlockPages(mdl);
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            status = GetExceptionCode();
        }
        IoFreeMdl(mdl);
        return Finish(Irp, status, 0);
    }
    default:
        return Finish(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

VOID ProbeUnload(PDRIVER_OBJECT DriverObject)
{
    int i;
    for (i = 0; i < 3; ++i) {
        UNICODE_STRING link;
        RtlInitUnicodeString(&link, kLinks[i]);
        IoDeleteSymbolicLink(&link);
    }
    while (DriverObject->DeviceObject != NULL)
        IoDeleteDevice(DriverObject->DeviceObject);
    /* g_kept and g_leaked are deliberately not released here: the tests check the report. */
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    int i;
    UNREFERENCED_PARAMETER(RegistryPath);
    RtlZeroMemory(&MdlObservation, sizeof(MdlObservation));
    g_pool = NULL;
    g_pool_mdl = NULL;
    g_user_view = NULL;
    g_kept = NULL;
    g_leaked = NULL;
    for (i = 0; i < 3; ++i) {
        UNICODE_STRING name, link;
        PDEVICE_OBJECT device;
        NTSTATUS status;
        RtlInitUnicodeString(&name, kNames[i]);
        RtlInitUnicodeString(&link, kLinks[i]);
        status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
        if (!NT_SUCCESS(status))
            return status;
        device->Flags |= kFlags[i];
        status = IoCreateSymbolicLink(&link, &name);
        if (!NT_SUCCESS(status))
            return status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = ProbeCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = ProbeCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = ProbeReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = ProbeReadWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = ProbeControl;
    DriverObject->DriverUnload = ProbeUnload;
    return STATUS_SUCCESS;
}
