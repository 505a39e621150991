/*
 * ioctl_buffered_public.h - what the ioctl_buffered driver and its clients share: the
 * device's user-mode name and the I/O control codes.
 *
 * Lesson (seed 000 section 7 "处理设备I/O控制函数DeviceIoControl"): a control code is
 * built with CTL_CODE(DeviceType, Function, Method, Access):
 *     (DeviceType << 16) | (Access << 14) | (Function << 2) | Method
 *  - Function 0x800-0xFFF belongs to vendors (Microsoft keeps 0-0x7FF).
 *  - Method METHOD_BUFFERED: the I/O manager allocates one SystemBuffer of
 *    max(input, output) bytes, copies the input in, and on completion copies
 *    IoStatus.Information bytes back to the caller's output buffer.
 *  - Access is checked by the I/O manager against the handle before the driver sees
 *    anything: FILE_WRITE_ACCESS needs a handle opened for writing.
 *  - DeviceType 0x8000-0xFFFF belongs to vendors. Such codes have bit 31 set, which is
 *    why CTL_CODE computes in ULONG: 'case IOCTL_IOSIM_SMALL:' in a switch on a ULONG
 *    must match (the driver is C, the client app C++, so both languages check it).
 *
 * Included by drivers/ioctl_buffered/ioctl_buffered.c (kernel) and
 * apps/ioctl_client/ioctl_client.cpp (user mode): only names both sides have (CTL_CODE
 * comes from wdm.h in the driver and from windows.h in the app).
 */
#ifndef IOCTL_BUFFERED_PUBLIC_H
#define IOCTL_BUFFERED_PUBLIC_H

/* What an app passes to CreateFile: "\\.\IosimIoctl" -> \??\IosimIoctl -> \Device\IosimIoctl. */
#define IOSIM_IOCTL_WIN32_NAME "\\\\.\\IosimIoctl"

/* A vendor device type (>= 0x8000): codes built with it have bit 31 set. */
#define FILE_DEVICE_IOSIM 0x8000

/* Input: any bytes. Output: the same bytes upper-cased; Information = bytes produced. */
#define IOCTL_IOSIM_ECHO CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* Input: a string the driver prints. Output: filled with 0xF1 (the seed's lesson). */
#define IOCTL_IOSIM_FILL CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOSIM_FILL_BYTE 0xF1

/* Changes the device (resets its request counter): needs a handle with write access. */
#define IOCTL_IOSIM_WRITE_ONLY CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_BUFFERED, FILE_WRITE_ACCESS)

/*
 * Returns a 32-byte answer: a 16-byte header, then 16 bytes of body.
 *   output <  16: STATUS_BUFFER_TOO_SMALL, nothing returned (ERROR_INSUFFICIENT_BUFFER, 0 bytes)
 *   output 16-31: STATUS_BUFFER_OVERFLOW, the header only (ERROR_MORE_DATA, 16 bytes)
 *   output >= 32: STATUS_SUCCESS, all 32 bytes
 */
#define IOCTL_IOSIM_SMALL CTL_CODE(FILE_DEVICE_IOSIM, 0x803, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOSIM_SMALL_HEADER "IosimSmallHeader"
#define IOSIM_SMALL_BODY "/the whole body/"
#define IOSIM_SMALL_MINIMUM 16
#define IOSIM_SMALL_FULL 32

#endif /* IOCTL_BUFFERED_PUBLIC_H */
