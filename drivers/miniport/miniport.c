/*
 * miniport.c - sample miniport: the device-specific half of a port/miniport pair (seed 004).
 *
 * Lesson: this driver has no dispatch routine, no IoCreateDevice and no DriverUnload of its
 * own. Its DriverEntry describes its "hardware" (a 64-byte register file in the context the
 * port allocates for it) with callbacks and calls PortInitialize, which it imports from
 * port.sys (built with IMPORTS_FROM port, the way a Windows miniport links against its
 * port driver's import library). The port creates \Device\IosimMini and \??\IosimMini and
 * calls back here for every read and write. Load port.sys first: without it this driver
 * does not load at all, and while it is loaded port.sys cannot be unloaded.
 */
#include "../port/port.h"

#define MINI_REGISTERS 64

typedef struct _MINI_CONTEXT {
    UCHAR Registers[MINI_REGISTERS];
    ULONG Valid;     /* bytes written so far */
    BOOLEAN Started;
} MINI_CONTEXT, *PMINI_CONTEXT;

DRIVER_INITIALIZE DriverEntry;
static PORT_HW_INITIALIZE MiniInitialize;
static PORT_HW_READ MiniRead;
static PORT_HW_WRITE MiniWrite;
static PORT_HW_STOP MiniStop;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PORT_MINIPORT_CALLBACKS callbacks;
    RtlZeroMemory(&callbacks, sizeof(callbacks));
    callbacks.Size = sizeof(callbacks);
    callbacks.DeviceName = L"IosimMini";
    callbacks.ContextSize = sizeof(MINI_CONTEXT);
    callbacks.HwInitialize = MiniInitialize;
    callbacks.HwRead = MiniRead;
    callbacks.HwWrite = MiniWrite;
    callbacks.HwStop = MiniStop;
    DbgPrint("miniport: DriverEntry, handing over to the port driver\n");
    return PortInitialize(DriverObject, RegistryPath, &callbacks);
}

static NTSTATUS MiniInitialize(PVOID Context)
{
    PMINI_CONTEXT mini = (PMINI_CONTEXT)Context;
    static const char hello[] = "miniport ready";
    RtlCopyMemory(mini->Registers, hello, sizeof(hello) - 1);
    mini->Valid = sizeof(hello) - 1;
    mini->Started = TRUE;
    DbgPrint("miniport: hardware initialized\n");
    return STATUS_SUCCESS;
}

static NTSTATUS MiniRead(PVOID Context, PUCHAR Buffer, ULONG Length, PULONG BytesRead)
{
    PMINI_CONTEXT mini = (PMINI_CONTEXT)Context;
    ULONG n = Length < mini->Valid ? Length : mini->Valid;
    if (!mini->Started)
        return STATUS_DEVICE_NOT_READY;
    RtlCopyMemory(Buffer, mini->Registers, n);
    *BytesRead = n;
    return STATUS_SUCCESS;
}

static NTSTATUS MiniWrite(PVOID Context, const UCHAR *Buffer, ULONG Length, PULONG BytesWritten)
{
    PMINI_CONTEXT mini = (PMINI_CONTEXT)Context;
    if (!mini->Started)
        return STATUS_DEVICE_NOT_READY;
    if (Length > MINI_REGISTERS)
        return STATUS_INVALID_BUFFER_SIZE;
    RtlCopyMemory(mini->Registers, Buffer, Length);
    mini->Valid = Length;
    *BytesWritten = Length;
    return STATUS_SUCCESS;
}

static VOID MiniStop(PVOID Context)
{
    PMINI_CONTEXT mini = (PMINI_CONTEXT)Context;
    mini->Started = FALSE;
    DbgPrint("miniport: hardware stopped\n");
}
