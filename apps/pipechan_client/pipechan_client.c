/*
 * pipechan_client.c - sample app: the pipe server the pipechan driver talks to.
 *
 * Lesson (seed 002's PIPE channel, docs/pipes.md): the app creates a message-type named
 * pipe (CreateNamedPipe "\\.\pipe\iosim_pipechan"), asks the driver to start its session
 * (DeviceIoControl, which returns at once: the driver works in its own system thread),
 * waits for the driver to connect (ConnectNamedPipe; ERROR_PIPE_CONNECTED if it already
 * has), then reads the driver's greeting, writes a reply the driver reads, reads the
 * driver's acknowledgement, and sees ERROR_BROKEN_PIPE once the driver has closed its end.
 * Exit code 0 when every step went as it should.
 * Built ANSI (CreateFileA, CreateNamedPipeA, main).
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "pipechan_public.h"

static const char Reply[] = "reply: hello driver, from the app";

int main(void)
{
    HANDLE device;
    HANDLE pipe;
    char buffer[128];
    DWORD bytes = 0;
    PIPECHAN_RESULT result;
    int failures = 0;

    pipe = CreateNamedPipeA(PIPECHAN_PIPE_WIN32_NAME, PIPE_ACCESS_DUPLEX,
                            PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 512, 512, 0, NULL);
    if (pipe == INVALID_HANDLE_VALUE) {
        printf("CreateNamedPipe failed: GetLastError() = %lu\n", GetLastError());
        return 1;
    }
    device = CreateFileA(IOSIM_PIPECHAN_WIN32_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("cannot open %s: GetLastError() = %lu\n", IOSIM_PIPECHAN_WIN32_NAME, GetLastError());
        CloseHandle(pipe);
        return 1;
    }
    if (!DeviceIoControl(device, IOCTL_PIPECHAN_START, NULL, 0, NULL, 0, &bytes, NULL)) {
        printf("IOCTL_PIPECHAN_START failed: GetLastError() = %lu\n", GetLastError());
        failures++;
    }
    /* The driver's thread runs while this one waits for it to connect. */
    if (ConnectNamedPipe(pipe, NULL) || GetLastError() == ERROR_PIPE_CONNECTED) {
        printf("the driver connected to %s\n", PIPECHAN_PIPE_WIN32_NAME);
    } else {
        printf("ConnectNamedPipe failed: GetLastError() = %lu\n", GetLastError());
        failures++;
    }
    /* Driver -> app. */
    if (ReadFile(pipe, buffer, sizeof(buffer) - 1, &bytes, NULL)) {
        buffer[bytes] = 0;
        printf("from the driver: \"%s\"\n", buffer);
    } else {
        printf("ReadFile failed: GetLastError() = %lu\n", GetLastError());
        failures++;
    }
    /* App -> driver. */
    if (WriteFile(pipe, Reply, (DWORD)strlen(Reply), &bytes, NULL)) {
        printf("to the driver: \"%s\" (%lu bytes)\n", Reply, bytes);
    } else {
        printf("WriteFile failed: GetLastError() = %lu\n", GetLastError());
        failures++;
    }
    if (ReadFile(pipe, buffer, sizeof(buffer) - 1, &bytes, NULL)) {
        buffer[bytes] = 0;
        printf("from the driver: \"%s\"\n", buffer);
    } else {
        printf("ReadFile failed: GetLastError() = %lu\n", GetLastError());
        failures++;
    }
    /* The driver closed its end: nothing more will come. */
    if (!ReadFile(pipe, buffer, sizeof(buffer) - 1, &bytes, NULL) && GetLastError() == ERROR_BROKEN_PIPE) {
        printf("the driver closed the pipe: ReadFile fails with ERROR_BROKEN_PIPE\n");
    } else {
        printf("expected ERROR_BROKEN_PIPE, got GetLastError() = %lu\n", GetLastError());
        failures++;
    }
    if (DeviceIoControl(device, IOCTL_PIPECHAN_RESULT, NULL, 0, &result, sizeof(result), &bytes, NULL)) {
        printf("the driver read \"%s\" (%lu bytes; open 0x%08lX, write 0x%08lX, read 0x%08lX)\n", result.Reply,
               result.ReplyLength, (unsigned long)result.OpenStatus, (unsigned long)result.WriteStatus,
               (unsigned long)result.ReadStatus);
        if (result.ReplyLength != strlen(Reply) || strcmp(result.Reply, Reply) != 0)
            failures++;
    } else {
        printf("IOCTL_PIPECHAN_RESULT failed: GetLastError() = %lu\n", GetLastError());
        failures++;
    }
    DisconnectNamedPipe(pipe);
    CloseHandle(pipe);
    CloseHandle(device);
    printf("%s\n", failures == 0 ? "pipe channel: both directions work" : "pipe channel: FAILED");
    return failures == 0 ? 0 : 1;
}
