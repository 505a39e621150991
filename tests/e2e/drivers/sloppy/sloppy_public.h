/*
 * sloppy_public.h - the control codes of the e2e_sloppy error-case driver.
 */
#ifndef SLOPPY_PUBLIC_H
#define SLOPPY_PUBLIC_H

/* Echoes the input but sets Information to the INPUT length, more than a smaller output buffer. */
#define IOCTL_SLOPPY_TOO_MUCH CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Returns STATUS_SUCCESS without calling IoCompleteRequest. */
#define IOCTL_SLOPPY_NOT_COMPLETED CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Fills the output with 'E', sets Information to the output length, and fails with
 * STATUS_INVALID_PARAMETER: the I/O manager must copy nothing back. */
#define IOCTL_SLOPPY_ERROR_WITH_DATA CTL_CODE(FILE_DEVICE_UNKNOWN, 0x902, METHOD_BUFFERED, FILE_ANY_ACCESS)

#endif /* SLOPPY_PUBLIC_H */
