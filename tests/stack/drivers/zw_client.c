/* zw_client.c - a driver that uses other drivers' devices through the Zw file routines
 * (tests/stack/zw_file_test.cpp).
 *
 * In DriverEntry (System process context) it opens \Device\IosimKbuffer with
 * OBJ_KERNEL_HANDLE, writes, reads back and asks the file size, closes; opens
 * \??\IosimIoctl (through the symbolic link) and sends IOCTL_IOSIM_ECHO; and tries a name
 * that does not exist. Each step's status and data are kept in globals the test reads.
 * Its control device \Device\IosimZwClient answers IOCTL_ZWCLIENT_ECHO from an app by
 * doing the same ECHO round trip inside the dispatch routine, in the app's thread. */
#include <ntddk.h>

#define IOCTL_IOSIM_ECHO CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_ZWCLIENT_ECHO CTL_CODE(FILE_DEVICE_UNKNOWN, 0x920, METHOD_BUFFERED, FILE_ANY_ACCESS)

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD ZwClientUnload;
static DRIVER_DISPATCH ZwClientDispatch;

NTSTATUS ZwClientOpenStatus = -1;
HANDLE ZwClientHandle = NULL;
NTSTATUS ZwClientWriteStatus = -1;
ULONG_PTR ZwClientWritten = 0;
NTSTATUS ZwClientReadStatus = -1;
ULONG_PTR ZwClientRead = 0;
CHAR ZwClientReadData[32];
NTSTATUS ZwClientQueryStatus = -1;
LONGLONG ZwClientEndOfFile = -1;
NTSTATUS ZwClientCloseStatus = -1;
NTSTATUS ZwClientIoctlOpenStatus = -1;
NTSTATUS ZwClientIoctlStatus = -1;
CHAR ZwClientIoctlData[16];
NTSTATUS ZwClientMissingStatus = 0;

static UNICODE_STRING g_Link = RTL_CONSTANT_STRING(L"\\??\\IosimZwClient");

/* ECHO through \??\IosimIoctl: opens with a kernel handle, sends, closes. */
static NTSTATUS EchoThroughIoctlDriver(PVOID In, ULONG InLength, PVOID Out, ULONG OutLength, PULONG_PTR Returned,
                                       PNTSTATUS OpenStatus)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\??\\IosimIoctl");
    OBJECT_ATTRIBUTES attributes;
    IO_STATUS_BLOCK iosb;
    HANDLE handle;
    NTSTATUS status;

    InitializeObjectAttributes(&attributes, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    status = ZwOpenFile(&handle, GENERIC_READ | GENERIC_WRITE, &attributes, &iosb, 0, FILE_SYNCHRONOUS_IO_NONALERT);
    *OpenStatus = status;
    if (!NT_SUCCESS(status))
        return status;
    status = ZwDeviceIoControlFile(handle, NULL, NULL, NULL, &iosb, IOCTL_IOSIM_ECHO, In, InLength, Out, OutLength);
    *Returned = NT_SUCCESS(status) ? iosb.Information : 0;
    ZwClose(handle);
    return status;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING kbuffer = RTL_CONSTANT_STRING(L"\\Device\\IosimKbuffer");
    UNICODE_STRING missing = RTL_CONSTANT_STRING(L"\\Device\\IosimNoSuchDevice");
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimZwClient");
    OBJECT_ATTRIBUTES attributes;
    IO_STATUS_BLOCK iosb;
    LARGE_INTEGER offset;
    FILE_STANDARD_INFORMATION info;
    static CHAR message[] = "zw says hi";
    CHAR upper[16];
    ULONG_PTR returned = 0;
    PDEVICE_OBJECT device;
    HANDLE handle;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    InitializeObjectAttributes(&attributes, &kbuffer, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    ZwClientOpenStatus = ZwCreateFile(&ZwClientHandle, GENERIC_READ | GENERIC_WRITE, &attributes, &iosb, NULL,
                                      FILE_ATTRIBUTE_NORMAL, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
    if (NT_SUCCESS(ZwClientOpenStatus)) {
        offset.QuadPart = 0;
        ZwClientWriteStatus = ZwWriteFile(ZwClientHandle, NULL, NULL, NULL, &iosb, message, sizeof(message) - 1,
                                          &offset, NULL);
        ZwClientWritten = iosb.Information;
        RtlZeroMemory(ZwClientReadData, sizeof(ZwClientReadData));
        ZwClientReadStatus = ZwReadFile(ZwClientHandle, NULL, NULL, NULL, &iosb, ZwClientReadData,
                                        sizeof(message) - 1, &offset, NULL);
        ZwClientRead = iosb.Information;
        ZwClientQueryStatus = ZwQueryInformationFile(ZwClientHandle, &iosb, &info, sizeof(info),
                                                     FileStandardInformation);
        if (NT_SUCCESS(ZwClientQueryStatus))
            ZwClientEndOfFile = info.EndOfFile.QuadPart;
        ZwClientCloseStatus = ZwClose(ZwClientHandle);
    }

    RtlZeroMemory(upper, sizeof(upper));
    ZwClientIoctlStatus = EchoThroughIoctlDriver("abc", 3, upper, sizeof(upper), &returned, &ZwClientIoctlOpenStatus);
    RtlCopyMemory(ZwClientIoctlData, upper, sizeof(upper));

    InitializeObjectAttributes(&attributes, &missing, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    ZwClientMissingStatus = ZwOpenFile(&handle, GENERIC_READ, &attributes, &iosb, 0, FILE_SYNCHRONOUS_IO_NONALERT);

    status = IoCreateDevice(DriverObject, 0, &deviceName, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&g_Link, &deviceName);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = ZwClientDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = ZwClientDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = ZwClientDispatch;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = ZwClientDispatch;
    DriverObject->DriverUnload = ZwClientUnload;
    return STATUS_SUCCESS;
}

static VOID ZwClientUnload(PDRIVER_OBJECT DriverObject)
{
    IoDeleteSymbolicLink(&g_Link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

static NTSTATUS ZwClientDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = STATUS_SUCCESS;
    NTSTATUS openStatus;
    ULONG_PTR returned = 0;
    CHAR in[64];
    CHAR out[64];

    UNREFERENCED_PARAMETER(DeviceObject);
    if (stack->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
        ULONG inLength = stack->Parameters.DeviceIoControl.InputBufferLength;
        ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
        if (stack->Parameters.DeviceIoControl.IoControlCode != IOCTL_ZWCLIENT_ECHO || inLength > sizeof(in) ||
            outLength > sizeof(out)) {
            status = STATUS_INVALID_DEVICE_REQUEST;
        } else {
            /* The app's data is copied to kernel buffers first: the ECHO request is a
               kernel-mode request with kernel buffers. */
            RtlCopyMemory(in, Irp->AssociatedIrp.SystemBuffer, inLength);
            status = EchoThroughIoctlDriver(in, inLength, out, outLength, &returned, &openStatus);
            if (NT_SUCCESS(status))
                RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, out, returned);
        }
    }
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = NT_SUCCESS(status) ? returned : 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}
