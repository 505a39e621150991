/*
 * pipechan_public.h - what the pipechan driver and its client share: the device's name,
 * the pipe's name, the control codes and the result the driver reports.
 *
 * Lesson (seed 002's PIPE channel): an app creates a named pipe and a driver opens it as a
 * client with ZwCreateFile("\??\pipe\name"), then both sides talk through it with
 * ReadFile/WriteFile (app) and ZwReadFile/ZwWriteFile (driver), in both directions.
 *
 * Included by drivers/pipechan/pipechan.c (kernel) and apps/pipechan_client/pipechan_client.c.
 */
#ifndef PIPECHAN_PUBLIC_H
#define PIPECHAN_PUBLIC_H

#define IOSIM_PIPECHAN_WIN32_NAME "\\\\.\\IosimPipeChan"
/* The pipe: the app's name for it, and the driver's (\??\pipe is \Device\NamedPipe). */
#define PIPECHAN_PIPE_WIN32_NAME "\\\\.\\pipe\\iosim_pipechan"
#define PIPECHAN_PIPE_NT_NAME L"\\??\\pipe\\iosim_pipechan"

/* Starts the driver's pipe session: its system thread opens the pipe, writes a greeting,
 * reads the app's reply, writes an acknowledgement and closes. Returns at once. */
#define IOCTL_PIPECHAN_START CTL_CODE(FILE_DEVICE_UNKNOWN, 0x920, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Waits until the session is over and returns a PIPECHAN_RESULT. */
#define IOCTL_PIPECHAN_RESULT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x921, METHOD_BUFFERED, FILE_ANY_ACCESS)

#define PIPECHAN_REPLY_MAX 64

typedef struct _PIPECHAN_RESULT {
    LONG OpenStatus;   /* ZwCreateFile on the pipe */
    LONG WriteStatus;  /* the greeting's ZwWriteFile */
    LONG ReadStatus;   /* ZwReadFile of the app's reply */
    ULONG ReplyLength; /* bytes of the reply the driver read */
    char Reply[PIPECHAN_REPLY_MAX];
} PIPECHAN_RESULT;

#endif /* PIPECHAN_PUBLIC_H */
