/*
 * stack_public.h - what the four drivers of the device-stack sample share (seed 004).
 *
 * The sample builds, the legacy way, the stack a PnP device gets:
 *
 *     upperfilter.sys     upper filter   (loaded last)
 *     stack_function.sys  function driver
 *     lowerfilter.sys     lower filter
 *     stack_bottom.sys    the bottom device, as a bus driver's PDO (loaded first)
 *
 * The bottom driver names its device \Device\IosimStack (link \??\IosimStack, so an app
 * opens \\.\IosimStack); every other layer attaches to the top of that stack by name with
 * IoAttachDevice, so the load order *is* the layering order, exactly as PnP loads lower
 * filters, then the function driver, then upper filters. A request to the name reaches the
 * top first and travels down; completion travels back up.
 *
 * IOCTL_STACK_PATH makes the journey visible: the app passes an empty string ("", one
 * byte) as input and a text buffer as output; each layer appends its name to the
 * (METHOD_BUFFERED) SystemBuffer on the way down, the bottom completes the request, and
 * each completion routine appends "<name" on the way back up. The app gets
 *     "upper function lower bottom <lower <function <upper"
 */
#ifndef IOSIM_STACK_PUBLIC_H
#define IOSIM_STACK_PUBLIC_H

#define STACK_WIN32_NAME "\\\\.\\IosimStack"
#define IOCTL_STACK_PATH CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* Kernel-side helpers (the drivers include <ntddk.h> first). */
#include <ntstrsafe.h>

#define STACK_DEVICE_NAME L"\\Device\\IosimStack"

/* Appends `word` to the NUL-terminated text in a STACK_PATH request's SystemBuffer, as seen
   from the caller's stack location, and counts it in IoStatus.Information. */
static __inline void StackAppendPath(PIRP Irp, PCSTR word)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PCHAR text = (PCHAR)Irp->AssociatedIrp.SystemBuffer;
    ULONG size = stack->Parameters.DeviceIoControl.OutputBufferLength;
    size_t length = 0;
    if (text == NULL || size == 0)
        return;
    if (text[0] != '\0')
        RtlStringCbCatA(text, size, " ");
    RtlStringCbCatA(text, size, word);
    RtlStringCbLengthA(text, size, &length);
    Irp->IoStatus.Information = length + 1;
}

static __inline BOOLEAN StackIsPathRequest(PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    return stack->MajorFunction == IRP_MJ_DEVICE_CONTROL &&
           stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_STACK_PATH;
}

#endif /* IOSIM_STACK_PUBLIC_H */
