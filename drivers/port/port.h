/*
 * port.h - the interface between the sample port driver (port.sys) and its miniports.
 *
 * Lesson (seed 004, "driver pairs": port/miniport, class/miniclass): the general part of a
 * family of drivers lives once in a port driver; each device-specific miniport supplies
 * only callbacks. The miniport's DriverEntry fills a PORT_MINIPORT_CALLBACKS and calls
 * PortInitialize, a routine port.sys *exports* and the miniport *imports* (it is linked
 * against port.sys, which its import table names). From then on the port owns the device,
 * the symbolic link and every dispatch routine of the miniport's driver object; a request
 * reaches the miniport only through the callbacks. Because the miniport imports from it,
 * port.sys must be loaded first and cannot be unloaded while the miniport is loaded.
 */
#ifndef IOSIM_SAMPLE_PORT_H
#define IOSIM_SAMPLE_PORT_H

#include <ntddk.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The "hardware" callbacks a miniport gives the port. Context is the miniport's own
   per-device storage (ContextSize bytes of non-paged pool, zeroed, owned by the port). */
typedef NTSTATUS PORT_HW_INITIALIZE(PVOID Context);
typedef NTSTATUS PORT_HW_READ(PVOID Context, PUCHAR Buffer, ULONG Length, PULONG BytesRead);
typedef NTSTATUS PORT_HW_WRITE(PVOID Context, const UCHAR *Buffer, ULONG Length, PULONG BytesWritten);
typedef VOID PORT_HW_STOP(PVOID Context);

typedef struct _PORT_MINIPORT_CALLBACKS {
    ULONG Size;                 /* sizeof(PORT_MINIPORT_CALLBACKS): the interface version */
    PCWSTR DeviceName;          /* "IosimMini": the port creates \Device\IosimMini and \??\IosimMini */
    ULONG ContextSize;          /* bytes of per-device context the miniport needs */
    PORT_HW_INITIALIZE *HwInitialize;
    PORT_HW_READ *HwRead;
    PORT_HW_WRITE *HwWrite;
    PORT_HW_STOP *HwStop;
} PORT_MINIPORT_CALLBACKS, *PPORT_MINIPORT_CALLBACKS;

/* port.c defines PORT_EXPORTS: the routine is exported there and imported everywhere else. */
#ifdef PORT_EXPORTS
#define PORTAPI __declspec(dllexport)
#else
#define PORTAPI __declspec(dllimport)
#endif

/* Exported by port.sys. Called from the miniport's DriverEntry with its own driver object:
   creates the device, takes over the driver object's dispatch routines and DriverUnload,
   and calls HwInitialize. */
PORTAPI NTSTATUS PortInitialize(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath,
                                const PORT_MINIPORT_CALLBACKS *Callbacks);

#ifdef __cplusplus
}
#endif

#endif /* IOSIM_SAMPLE_PORT_H */
