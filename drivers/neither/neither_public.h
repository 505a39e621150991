/*
 * neither_public.h - what the neither driver and its client share: the device's
 * user-mode name and the METHOD_NEITHER control codes.
 *
 * Lesson: with METHOD_NEITHER the I/O manager copies nothing and checks nothing. The
 * driver receives the caller's own addresses: the input buffer in
 * Parameters.DeviceIoControl.Type3InputBuffer and the output buffer in Irp->UserBuffer.
 * They are valid only in the caller's process, only while the request runs, and only if
 * the caller did not lie: the driver must probe them (ProbeForRead / ProbeForWrite) and
 * touch them only inside __try/__except. A bad buffer then fails the request with the
 * exception's code (STATUS_ACCESS_VIOLATION, STATUS_DATATYPE_MISALIGNMENT), which the app
 * sees as ERROR_NOACCESS (998), and nothing crashes.
 *
 * Included by drivers/neither/neither.c (kernel) and apps/neither_client/neither_client.c.
 */
#ifndef NEITHER_PUBLIC_H
#define NEITHER_PUBLIC_H

/* "\\.\IosimNeither" -> \??\IosimNeither -> \Device\IosimNeither */
#define NEITHER_WIN32_NAME "\\\\.\\IosimNeither"

/* Input: text. Output: the same text upper-cased (at least as long as the input);
 * Information = the input length. */
#define IOCTL_NEITHER_UPPER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_NEITHER, FILE_ANY_ACCESS)

/* Input: an array of ULONGs, 4-byte aligned. Output: one ULONG, 4-byte aligned, their
 * sum; Information = 4. A misaligned buffer fails with STATUS_DATATYPE_MISALIGNMENT. */
#define IOCTL_NEITHER_SUM CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_NEITHER, FILE_ANY_ACCESS)

#endif /* NEITHER_PUBLIC_H */
