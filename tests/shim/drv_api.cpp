// drv_api.cpp - shim compile test: a C++ driver that includes the kit headers by the
// spellings Windows sources use on a case-insensitive file system (<NTDDK.h>,
// <NtStrSafe.h>) and checks the data model and IOCTL layout at compile time.
extern "C" {
#include <NTDDK.h>
#include <NtStrSafe.h>
}

#define IOCTL_READ_MEM CTL_CODE(0x8000, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_WRITE_MEM CTL_CODE(0x8000, 0x801, METHOD_NEITHER, FILE_READ_ACCESS | FILE_WRITE_ACCESS)

C_ASSERT(sizeof(WCHAR) == 2);
C_ASSERT(sizeof(L"ab") == 6);
C_ASSERT(sizeof(ULONG) == 4);
C_ASSERT(sizeof(LONG) == 4);
C_ASSERT(sizeof(ULONG_PTR) == 8);
C_ASSERT(IRP_MJ_PNP == 0x1b);
C_ASSERT(IOCTL_READ_MEM > 0);
C_ASSERT(IOCTL_READ_MEM == 0x80002000U);
C_ASSERT(NTSTRSAFE_MAX_CCH == 2147483647);

static ULONG classify(ULONG code)
{
    switch (code) {
    case IOCTL_READ_MEM:
        return 1;
    case IOCTL_WRITE_MEM:
        return 2;
    default:
        return 0;
    }
}

extern "C" NTSTATUS DispatchControl(PDEVICE_OBJECT, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    WCHAR text[32];
    NTSTATUS status = RtlStringCchPrintfW(text, RTL_NUMBER_OF(text), L"kind %lu",
                                          classify(stack->Parameters.DeviceIoControl.IoControlCode));
    if (status == STATUS_BUFFER_OVERFLOW)
        status = STATUS_SUCCESS;
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

extern "C" void DriverUnload(PDRIVER_OBJECT) {}

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT pDriverObject, PUNICODE_STRING)
{
    DECLARE_UNICODE_STRING_SIZE(name, 64);
    NTSTATUS status = RtlUnicodeStringPrintf(&name, L"\\Device\\%ws", L"ShimCpp");
    if (!NT_SUCCESS(status))
        return status;
    pDriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = DispatchControl;
    pDriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
