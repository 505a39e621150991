/*
 * seh_public.h - what the SEH test drivers (seh_c.sys, seh_cpp.sys) and their callers share.
 *
 * Both drivers create \Device\<name> with the link \??\<name> (SehC, SehCpp) and answer:
 *  IOCTL_SEH_SUM_NEITHER      METHOD_NEITHER: ProbeForRead the Type3InputBuffer, sum its
 *                             bytes into the ULONG at UserBuffer (ProbeForWrite), all inside
 *                             __try/__except; a bad buffer completes the IRP with the
 *                             exception code (STATUS_ACCESS_VIOLATION -> ERROR_NOACCESS).
 *  IOCTL_SEH_TOUCH_NEITHER    reads the first byte of Type3InputBuffer with no __try (a bad
 *                             buffer is a bug check report).
 *  IOCTL_SEH_TOUCH_IN_TRY     reads the byte whose address is the ULONG_PTR at
 *                             Type3InputBuffer inside __try/__except (a system-space address
 *                             must not be caught).
 */
#ifndef SEH_PUBLIC_H
#define SEH_PUBLIC_H

#define IOCTL_SEH_SUM_NEITHER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_NEITHER, FILE_ANY_ACCESS)
#define IOCTL_SEH_TOUCH_NEITHER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_NEITHER, FILE_ANY_ACCESS)
#define IOCTL_SEH_TOUCH_IN_TRY CTL_CODE(FILE_DEVICE_UNKNOWN, 0x902, METHOD_NEITHER, FILE_ANY_ACCESS)

/* Size of the text log the case functions append to ("body finally:normal ..."). */
#define SEH_LOG_SIZE 256

#endif /* SEH_PUBLIC_H */
