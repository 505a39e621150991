/*
 * worker_client.c - sample app: asks the worker driver to do work in its system thread and
 * in a work item, and prints who did it.
 *
 * Lesson: the answers name a thread and process that are not the app's own - the driver's
 * system thread and a system worker thread, both in the System process (4) at
 * PASSIVE_LEVEL - while the request itself waited in the app's thread.
 * Built ANSI (CreateFileA, main).
 */
#include <windows.h>
#include <stdio.h>

#include "../../drivers/worker/worker_public.h"

static BOOL Ask(HANDLE device, DWORD code, const char* what)
{
    WORKER_RESULT result;
    DWORD returned = 0;
    if (!DeviceIoControl(device, code, NULL, 0, &result, sizeof(result), &returned, NULL)) {
        printf("%s: failed, GetLastError() = %lu\n", what, GetLastError());
        return FALSE;
    }
    printf("%s: round %lu done by thread %lu of process %lu at IRQL %lu\n", what, result.Rounds, result.ThreadId,
           result.ProcessId, result.Irql);
    return TRUE;
}

int main(void)
{
    HANDLE device = CreateFileA(IOSIM_WORKER_WIN32_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, NULL);
    int failures = 0;
    if (device == INVALID_HANDLE_VALUE) {
        printf("cannot open %s: GetLastError() = %lu\n", IOSIM_WORKER_WIN32_NAME, GetLastError());
        return 1;
    }
    printf("client is thread %lu of process %lu\n", GetCurrentThreadId(), GetCurrentProcessId());
    failures += !Ask(device, IOCTL_WORKER_KICK_THREAD, "system thread");
    failures += !Ask(device, IOCTL_WORKER_QUEUE_ITEM, "work item");
    failures += !Ask(device, IOCTL_WORKER_KICK_THREAD, "system thread");
    failures += !Ask(device, IOCTL_WORKER_QUEUE_ITEM, "work item");
    CloseHandle(device);
    return failures;
}
