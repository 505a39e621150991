/*
 * toy_public.h - what the toy bus, its children's function driver and the toy app share:
 * the device interface classes and the control codes.
 *
 * Include <initguid.h> before this header in exactly one file of a module to define the
 * GUIDs there (DEFINE_GUID only declares them otherwise), as on Windows.
 *
 *   GUID_DEVINTERFACE_TOYBUS    the bus itself: IOCTL_TOYBUS_PLUG_CHILD / _UNPLUG_CHILD
 *                               (input: the child's number, a ULONG from 1 to TOYBUS_MAX_CHILDREN)
 *   GUID_DEVINTERFACE_TOYCHILD  each child: IOCTL_TOYCHILD_WHO_ARE_YOU (output: TOY_CHILD_INFO),
 *                               IOCTL_TOYCHILD_HOLD (kept by the driver until the child goes away)
 */
#ifndef TOY_PUBLIC_H
#define TOY_PUBLIC_H

DEFINE_GUID(GUID_DEVINTERFACE_TOYBUS, 0x6c8d5e24, 0x3b1f, 0x4a52, 0x9e, 0x07, 0x1f, 0x5a, 0x2c, 0x3d, 0x4b, 0x61);
DEFINE_GUID(GUID_DEVINTERFACE_TOYCHILD, 0xa4f3b2c1, 0x7d6e, 0x4f80, 0x9a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71);

#define TOYBUS_MAX_CHILDREN 8

#define IOCTL_TOYBUS_PLUG_CHILD CTL_CODE(FILE_DEVICE_BUS_EXTENDER, 0x800, METHOD_BUFFERED, FILE_WRITE_ACCESS)
#define IOCTL_TOYBUS_UNPLUG_CHILD CTL_CODE(FILE_DEVICE_BUS_EXTENDER, 0x801, METHOD_BUFFERED, FILE_WRITE_ACCESS)
#define IOCTL_TOYCHILD_WHO_ARE_YOU CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_READ_ACCESS)
#define IOCTL_TOYCHILD_HOLD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _TOY_CHILD_INFO {
    ULONG Number;   /* which child of the bus: 1, 2, ... */
    ULONG Requests; /* IOCTL_TOYCHILD_WHO_ARE_YOU requests this child has answered, this one included */
} TOY_CHILD_INFO, *PTOY_CHILD_INFO;

#endif /* TOY_PUBLIC_H */
