/*
 * attachfilter_public.h - what the attachfilter driver and its clients share.
 *
 * The driver's control device is \\.\IosimAttachFilter. Its control codes take a device
 * name in the NT namespace as input, as WCHARs without a terminating NUL (for example
 * L"\\Device\\IosimHello"):
 *   IOCTL_ATTACHFILTER_ATTACH  put a new filter device on top of that device's stack
 *   IOCTL_ATTACHFILTER_DETACH  take it off again (refused while something sits above it)
 *   IOCTL_ATTACHFILTER_COUNT   output: a ULONG, how many IRPs the filter has passed down
 */
#ifndef IOSIM_ATTACHFILTER_PUBLIC_H
#define IOSIM_ATTACHFILTER_PUBLIC_H

#define ATTACHFILTER_WIN32_NAME "\\\\.\\IosimAttachFilter"

#define IOCTL_ATTACHFILTER_ATTACH CTL_CODE(FILE_DEVICE_UNKNOWN, 0x910, METHOD_BUFFERED, FILE_WRITE_ACCESS)
#define IOCTL_ATTACHFILTER_DETACH CTL_CODE(FILE_DEVICE_UNKNOWN, 0x911, METHOD_BUFFERED, FILE_WRITE_ACCESS)
#define IOCTL_ATTACHFILTER_COUNT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x912, METHOD_BUFFERED, FILE_READ_ACCESS)

#endif /* IOSIM_ATTACHFILTER_PUBLIC_H */
