// virt2phys.cpp - sample driver: the physical address behind each page of an app's buffer.
//
// Lesson (seed 001, "VirtToPhys", here in C++): the addresses an app sees are virtual.
// Each 4 KiB page of its address space is backed by some physical page frame, chosen by
// the memory manager wherever one was free, so pages that are neighbours in virtual
// memory are usually not neighbours in physical memory. MmGetPhysicalAddress translates
// one virtual address through the current process's page tables:
//  - It must run in the requesting app's context, because a user address means something
//    only in its own process. A dispatch routine of a top-level driver called by
//    DeviceIoControl runs in the caller's thread, so that is where this one translates.
//    The same call from another process (or a system thread) finds no translation: 0.
//  - It does not touch the memory, so it cannot fault, and it needs no probe. It answers
//    0 for a page that has no frame (on Windows a committed page gets its frame when it
//    is first touched, which is why the client writes to its pages before asking).
// The request is METHOD_BUFFERED: the range arrives as a copy in SystemBuffer, and the
// answer (one VIRT2PHYS_PAGE per page) goes back through the same buffer.
// A real driver must not hand physical addresses to any app that asks: it is a sample.
#include <ntddk.h>

#include "virt2phys_public.h"

namespace {

NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

// Pages touched by [start, start + length): the WDK's own arithmetic.
ULONG PagesSpanned(ULONG_PTR start, ULONG length)
{
    return (ULONG)ADDRESS_AND_SIZE_TO_SPAN_PAGES(start, length);
}

// Fills `pages` with the translation of every page of the range, in the current context.
void Translate(ULONG_PTR start, ULONG count, VIRT2PHYS_PAGE* pages)
{
    for (ULONG i = 0; i < count; i++) {
        // The first entry keeps the byte offset into its page; the rest start their page.
        ULONG_PTR va = i == 0 ? start : (ULONG_PTR)PAGE_ALIGN(start) + (ULONG_PTR)i * PAGE_SIZE;
        PHYSICAL_ADDRESS pa = MmGetPhysicalAddress((PVOID)va);
        pages[i].VirtualAddress = va;
        pages[i].PhysicalAddress = (ULONGLONG)pa.QuadPart;
        DbgPrint("virt2phys: page %lu: virtual %p -> physical %016I64X\n", i, (PVOID)va, pa.QuadPart);
    }
}

}  // namespace

extern "C" DRIVER_UNLOAD Virt2PhysUnload;
extern "C" _Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH Virt2PhysCreateClose;
extern "C" _Dispatch_type_(IRP_MJ_DEVICE_CONTROL) DRIVER_DISPATCH Virt2PhysControl;

extern "C" NTSTATUS Virt2PhysCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

extern "C" NTSTATUS Virt2PhysControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    if (stack->Parameters.DeviceIoControl.IoControlCode != IOCTL_VIRT2PHYS_QUERY)
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);

    ULONG inLength = stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    if (inLength < sizeof(VIRT2PHYS_REQUEST))
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);

    // METHOD_BUFFERED: the input is a copy, read it out before writing the answer over it.
    VIRT2PHYS_REQUEST request = *(VIRT2PHYS_REQUEST*)Irp->AssociatedIrp.SystemBuffer;
    ULONG_PTR start = (ULONG_PTR)request.VirtualAddress;
    if (request.Length == 0 || start + request.Length < start)
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
    ULONG count = PagesSpanned(start, request.Length);
    if (count > VIRT2PHYS_MAX_PAGES)
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
    if (outLength < count * sizeof(VIRT2PHYS_PAGE))
        return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);

    DbgPrint("virt2phys: %lu byte(s) at %p, %lu page(s), in the context of process %p\n", request.Length,
             (PVOID)start, count, PsGetCurrentProcessId());
    Translate(start, count, (VIRT2PHYS_PAGE*)Irp->AssociatedIrp.SystemBuffer);
    return Complete(Irp, STATUS_SUCCESS, count * sizeof(VIRT2PHYS_PAGE));
}

extern "C" VOID Virt2PhysUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimVirtToPhys");
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimVirtToPhys");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimVirtToPhys");
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE,
                                     &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = Virt2PhysCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = Virt2PhysCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = Virt2PhysControl;
    DriverObject->DriverUnload = Virt2PhysUnload;
    return STATUS_SUCCESS;
}
