/*
 * drv_api.c - shim compile test: a C WDM driver using ntddk.h and ntstrsafe.h (the
 * RtlString* and RtlUnicodeString* families). It only has to compile and link as a
 * module; it is never loaded.
 */
#include <ntddk.h>
#include <ntstrsafe.h>

#define IOCTL_SHIM_TEST CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)

static NTSTATUS format_names(ULONG id)
{
    WCHAR name[64];
    CHAR narrow[32];
    WCHAR storage[32];
    UNICODE_STRING us, src;
    size_t len = 0;
    NTSTATUS status;

    status = RtlStringCchPrintfW(name, RTL_NUMBER_OF(name), L"\\Device\\Shim%u", id);
    if (!NT_SUCCESS(status))
        return status;
    RtlStringCbCopyW(name, sizeof(name), L"\\Device\\Shim");
    RtlStringCbCatW(name, sizeof(name), L"0");
    RtlStringCchCopyW(name, RTL_NUMBER_OF(name), L"x");
    RtlStringCchCatW(name, RTL_NUMBER_OF(name), L"y");
    RtlStringCbCopyNW(name, sizeof(name), L"abc", 2 * sizeof(WCHAR));
    RtlStringCchLengthW(name, RTL_NUMBER_OF(name), &len);
    RtlStringCbLengthW(name, sizeof(name), &len);
    RtlStringCbPrintfA(narrow, sizeof(narrow), "%s-%d", "id", (int)id);
    RtlStringCbCopyA(narrow, sizeof(narrow), "a");
    RtlStringCbCatA(narrow, sizeof(narrow), "b");
    RtlStringCchCopyA(narrow, RTL_NUMBER_OF(narrow), "c");
    RtlStringCchCatA(narrow, RTL_NUMBER_OF(narrow), "d");
    RtlStringCbCopyNA(narrow, sizeof(narrow), "efg", 2);
    RtlStringCchPrintfA(narrow, RTL_NUMBER_OF(narrow), "%lu", (ULONG)len);
    RtlStringCchLengthA(narrow, RTL_NUMBER_OF(narrow), &len);
    RtlStringCbLengthA(narrow, sizeof(narrow), &len);

    us.Buffer = storage;
    us.Length = 0;
    us.MaximumLength = sizeof(storage);
    RtlUnicodeStringCopyString(&us, L"\\??\\Shim");
    RtlInitUnicodeString(&src, L"Link");
    RtlUnicodeStringCat(&us, &src);
    RtlUnicodeStringCatString(&us, L"0");
    RtlUnicodeStringCopy(&us, &src);
    status = RtlUnicodeStringPrintf(&us, L"%wZ-%lu", &src, id);
    DbgPrint("shim: %ws %s %wZ 0x%08X\n", name, narrow, &us, status);
    return status;
}

static NTSTATUS dispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    if (stack->MajorFunction == IRP_MJ_DEVICE_CONTROL &&
        stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_SHIM_TEST)
        Irp->IoStatus.Status = format_names(1);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static void unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); }

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    ULONG i;
    UNREFERENCED_PARAMETER(RegistryPath);
    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = dispatch;
    DriverObject->DriverUnload = unload;
    return format_names(0);
}
