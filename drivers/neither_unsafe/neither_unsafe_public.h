/*
 * neither_unsafe_public.h - what the neither_unsafe driver and its client share.
 *
 * Lesson: the hazard of METHOD_NEITHER. IOCTL_UNSAFE_REMEMBER hands the driver a raw user
 * address, and the driver keeps it. IOCTL_UNSAFE_USE_REMEMBERED reads through it later,
 * from whatever context that request runs in; with IOCTL_UNSAFE_TOUCH_AT_UNLOAD the
 * driver also reads through it in DriverUnload, which runs in the System process. From
 * the process that gave the pointer it works; from any other context the address means
 * nothing and the driver's unprotected read is a bug check, PAGE_FAULT_IN_NONPAGED_AREA
 * (0x50).
 *
 * Included by drivers/neither_unsafe/neither_unsafe.c and
 * apps/neither_unsafe_client/neither_unsafe_client.c.
 */
#ifndef NEITHER_UNSAFE_PUBLIC_H
#define NEITHER_UNSAFE_PUBLIC_H

/* "\\.\IosimNeitherUnsafe" -> \??\IosimNeitherUnsafe -> \Device\IosimNeitherUnsafe */
#define NEITHER_UNSAFE_WIN32_NAME "\\\\.\\IosimNeitherUnsafe"

/* Input (METHOD_NEITHER): any bytes; the driver keeps their address and length, not the
 * bytes. No output. */
#define IOCTL_UNSAFE_REMEMBER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x910, METHOD_NEITHER, FILE_ANY_ACCESS)

/* Output (METHOD_BUFFERED): the bytes found now at the remembered address (at most the
 * output length); Information = their count. Nothing remembered: STATUS_INVALID_DEVICE_STATE. */
#define IOCTL_UNSAFE_USE_REMEMBERED CTL_CODE(FILE_DEVICE_UNKNOWN, 0x911, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* No buffers: DriverUnload will read the remembered bytes too (in the System process). */
#define IOCTL_UNSAFE_TOUCH_AT_UNLOAD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x912, METHOD_BUFFERED, FILE_ANY_ACCESS)

#endif /* NEITHER_UNSAFE_PUBLIC_H */
