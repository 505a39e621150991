/* builder_client.c - driver code that builds its own IRPs the way drivers do, for
 * tests/stack/irp_build_test.cpp and wait_test.cpp.
 *
 * The test calls these routines directly (they are looked up in the module), so a report
 * about them names a line of this file, as it would name a line of a real driver. Each
 * routine is one classic pattern - or one classic mistake:
 *   BuilderSyncIoctl / BuilderSyncRead   IoBuild* + IoCallDriver, wait only on STATUS_PENDING
 *   BuilderWaitAlways                    waits even when IoCallDriver did not return PENDING
 *   BuilderAsyncWrite                    IoBuildAsynchronousFsdRequest; the completion
 *                                        routine frees MDL and IRP (forget_mdl: only the IRP)
 *   BuilderFreeThreaded                  IoFreeIrp on an IRP from IoBuildDeviceIoControlRequest
 *   BuilderKeepAndRecomplete             a completion routine keeps a threaded IRP
 *                                        (MORE_PROCESSING_REQUIRED), the driver completes it again */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD BuilderUnload;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = BuilderUnload;
    return STATUS_SUCCESS;
}

static VOID BuilderUnload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); }

NTSTATUS BuilderSyncIoctl(PDEVICE_OBJECT Target, ULONG Code, PVOID In, ULONG InLength, PVOID Out, ULONG OutLength,
                          BOOLEAN Internal, PIO_STATUS_BLOCK Iosb)
{
    KEVENT event;
    PIRP irp;
    NTSTATUS status;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(Code, Target, In, InLength, Out, OutLength, Internal, &event, Iosb);
    if (irp == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    status = IoCallDriver(Target, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
        status = Iosb->Status;
    }
    return status;
}

NTSTATUS BuilderSyncRead(PDEVICE_OBJECT Target, PVOID Buffer, ULONG Length, LONGLONG Offset, PIO_STATUS_BLOCK Iosb)
{
    KEVENT event;
    LARGE_INTEGER offset;
    PIRP irp;
    NTSTATUS status;

    offset.QuadPart = Offset;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, Target, Buffer, Length, &offset, &event, Iosb);
    if (irp == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    status = IoCallDriver(Target, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
        status = Iosb->Status;
    }
    return status;
}

NTSTATUS BuilderWaitAlways(PDEVICE_OBJECT Target, ULONG Code, PIO_STATUS_BLOCK Iosb)
{
    KEVENT event;
    PIRP irp;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(Code, Target, NULL, 0, NULL, 0, FALSE, &event, Iosb);
    IoCallDriver(Target, irp);
    /* The mistake: the event is set only if the request succeeded or was pended. */
    KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
    return Iosb->Status;
}

typedef struct _ASYNC_CONTEXT {
    BOOLEAN ForgetMdl;
    BOOLEAN Ran;
    NTSTATUS Status;
    ULONG_PTR Information;
    BOOLEAN HadMdl;
} ASYNC_CONTEXT, *PASYNC_CONTEXT;

static NTSTATUS AsyncCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    PASYNC_CONTEXT context = (PASYNC_CONTEXT)Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    context->Ran = TRUE;
    context->Status = Irp->IoStatus.Status;
    context->Information = Irp->IoStatus.Information;
    context->HadMdl = Irp->MdlAddress != NULL;
    if (Irp->MdlAddress != NULL && !context->ForgetMdl) {
        MmUnlockPages(Irp->MdlAddress);
        IoFreeMdl(Irp->MdlAddress);
        Irp->MdlAddress = NULL;
    }
    IoFreeIrp(Irp);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

NTSTATUS BuilderAsyncWrite(PDEVICE_OBJECT Target, PVOID Buffer, ULONG Length, BOOLEAN ForgetMdl, PBOOLEAN Ran,
                           PULONG_PTR Information, PBOOLEAN HadMdl)
{
    static ASYNC_CONTEXT context;
    LARGE_INTEGER offset;
    PIRP irp;
    NTSTATUS status;

    RtlZeroMemory(&context, sizeof(context));
    context.ForgetMdl = ForgetMdl;
    offset.QuadPart = 0;
    irp = IoBuildAsynchronousFsdRequest(IRP_MJ_WRITE, Target, Buffer, Length, &offset, NULL);
    if (irp == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    IoSetCompletionRoutine(irp, AsyncCompletion, &context, TRUE, TRUE, TRUE);
    status = IoCallDriver(Target, irp);
    *Ran = context.Ran;
    *Information = context.Information;
    *HadMdl = context.HadMdl;
    return status;
}

void BuilderFreeThreaded(PDEVICE_OBJECT Target, ULONG Code)
{
    KEVENT event;
    IO_STATUS_BLOCK iosb;
    PIRP irp;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(Code, Target, NULL, 0, NULL, 0, FALSE, &event, &iosb);
    IoFreeIrp(irp); /* the mistake: the I/O manager owns this IRP */
}

static NTSTATUS KeepCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* The "forward and wait" pattern with a threaded IRP: keep the IRP in the completion routine,
   look at the result, then hand it back to the I/O manager with IoCompleteRequest. */
NTSTATUS BuilderKeepAndRecomplete(PDEVICE_OBJECT Target, ULONG Code, PIO_STATUS_BLOCK Iosb, PULONG_PTR SeenInformation,
                                  PBOOLEAN IosbWrittenBeforeRecompletion)
{
    KEVENT done;
    KEVENT kept;
    PIRP irp;
    NTSTATUS status;

    KeInitializeEvent(&done, NotificationEvent, FALSE);
    KeInitializeEvent(&kept, NotificationEvent, FALSE);
    Iosb->Status = STATUS_PENDING;
    irp = IoBuildDeviceIoControlRequest(Code, Target, NULL, 0, NULL, 0, FALSE, &done, Iosb);
    IoSetCompletionRoutine(irp, KeepCompletion, &kept, TRUE, TRUE, TRUE);
    status = IoCallDriver(Target, irp);
    if (status == STATUS_PENDING)
        KeWaitForSingleObject(&kept, Executive, KernelMode, FALSE, NULL);
    *SeenInformation = irp->IoStatus.Information;
    *IosbWrittenBeforeRecompletion = Iosb->Status != STATUS_PENDING;
    status = irp->IoStatus.Status;
    IoCompleteRequest(irp, IO_NO_INCREMENT); /* the I/O manager finishes and frees it now */
    return status;
}
