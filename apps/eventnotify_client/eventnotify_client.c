/* eventnotify_client.c - the driver calls back: eventnotify.sys (drivers/eventnotify) tells
 * this app when its timer ticks, first through an event, then through the inverted call.
 *
 *  1. Event: CreateEvent (auto-reset), pass the HANDLE in IOCTL_EVENTNOTIFY_REGISTER, start
 *     three notifications 100 ms apart, and WaitForSingleObject on the event three times;
 *     after each wake-up ask the driver what happened (IOCTL_EVENTNOTIFY_GET_LAST).
 *  2. The driver's view of handles: IOCTL_EVENTNOTIFY_CHECK_RULES reports what
 *     ObReferenceObjectByHandle says for this event handle as an event, as a file object (the
 *     wrong type), and for a kernel handle from user mode and from kernel mode.
 *  3. Inverted call: on an overlapped handle, four IOCTL_EVENTNOTIFY_WAIT requests are kept
 *     pending; four notifications 50 ms apart each complete one of them, in order, with
 *     the notification's data. Nothing polls.
 * Exit code 0 when all went as expected. Run it: iosim exec -d eventnotify.sys eventnotify_client.exe */
#include <windows.h>
#include <winioctl.h>
#include <stdio.h>
#include <string.h>

#include "eventnotify_public.h"

static int Control(HANDLE h, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size)
{
    DWORD bytes = 0;
    if (!DeviceIoControl(h, code, in, in_size, out, out_size, &bytes, NULL)) {
        printf("DeviceIoControl 0x%lx failed: %lu\n", code, GetLastError());
        return 0;
    }
    return 1;
}

int main(void)
{
    HANDLE h, ho, event;
    EVENTNOTIFY_REGISTER reg;
    EVENTNOTIFY_START start;
    EVENTNOTIFY_RULES rules;
    OVERLAPPED ov[4];
    EVENTNOTIFY_INFO infos[4];
    int i, failures = 0;

    h = CreateFileA("\\\\.\\EventNotify", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed: %lu\n", GetLastError());
        return 1;
    }

    /* 1. An event the driver sets. */
    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    reg.Event = event;
    failures += !Control(h, IOCTL_EVENTNOTIFY_REGISTER, &reg, sizeof(reg), NULL, 0);
    start.PeriodMs = 100;
    start.Count = 3;
    failures += !Control(h, IOCTL_EVENTNOTIFY_START, &start, sizeof(start), NULL, 0);
    for (i = 0; i < 3; ++i) {
        EVENTNOTIFY_INFO last;
        if (WaitForSingleObject(event, 5000) != WAIT_OBJECT_0) {
            printf("the event was not set\n");
            failures++;
            break;
        }
        failures += !Control(h, IOCTL_EVENTNOTIFY_GET_LAST, NULL, 0, &last, sizeof(last));
        printf("[%llu ms] event set by the driver: notification %lu (at %lu ms)\n", GetTickCount64(), last.Sequence,
               last.TimeMs);
    }
    reg.Event = NULL;
    failures += !Control(h, IOCTL_EVENTNOTIFY_REGISTER, &reg, sizeof(reg), NULL, 0);

    /* 2. What ObReferenceObjectByHandle accepts. */
    reg.Event = event;
    if (Control(h, IOCTL_EVENTNOTIFY_CHECK_RULES, &reg, sizeof(reg), &rules, sizeof(rules))) {
        printf("ObReferenceObjectByHandle(app's event handle, *ExEventObjectType, UserMode): 0x%08lX\n",
               (unsigned long)rules.AsEventUserMode);
        printf("ObReferenceObjectByHandle(app's event handle, *IoFileObjectType, UserMode): 0x%08lX "
               "(STATUS_OBJECT_TYPE_MISMATCH)\n",
               (unsigned long)rules.AsFileUserMode);
        printf("ObReferenceObjectByHandle(kernel handle, UserMode): 0x%08lX (STATUS_INVALID_HANDLE)\n",
               (unsigned long)rules.KernelHandleUserMode);
        printf("ObReferenceObjectByHandle(kernel handle, KernelMode): 0x%08lX\n",
               (unsigned long)rules.KernelHandleKernelMode);
        if (rules.AsEventUserMode != 0 || rules.AsFileUserMode != (LONG)0xC0000024 ||
            rules.KernelHandleUserMode != (LONG)0xC0000008 || rules.KernelHandleKernelMode != 0)
            failures++;
    } else {
        failures++;
    }
    CloseHandle(event);

    /* 3. The inverted call: requests kept pending, completed one per notification. */
    ho = CreateFileA("\\\\.\\EventNotify", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED,
                     NULL);
    if (ho == INVALID_HANDLE_VALUE) {
        printf("CreateFile (overlapped) failed: %lu\n", GetLastError());
        return 1;
    }
    for (i = 0; i < 4; ++i) {
        memset(&ov[i], 0, sizeof(ov[i]));
        ov[i].hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
        if (DeviceIoControl(ho, IOCTL_EVENTNOTIFY_WAIT, NULL, 0, &infos[i], sizeof(infos[i]), NULL, &ov[i]) ||
            GetLastError() != ERROR_IO_PENDING) {
            printf("IOCTL_EVENTNOTIFY_WAIT %d did not pend: %lu\n", i, GetLastError());
            failures++;
        }
    }
    printf("4 IOCTL_EVENTNOTIFY_WAIT requests pending\n");
    start.PeriodMs = 50;
    start.Count = 4;
    failures += !Control(h, IOCTL_EVENTNOTIFY_START, &start, sizeof(start), NULL, 0);
    for (i = 0; i < 4; ++i) {
        DWORD bytes = 0;
        if (!GetOverlappedResult(ho, &ov[i], &bytes, TRUE) || bytes != sizeof(EVENTNOTIFY_INFO)) {
            printf("request %d failed: %lu\n", i, GetLastError());
            failures++;
        } else {
            printf("[%llu ms] request %d completed by the driver: notification %lu (at %lu ms), %lu dropped\n",
                   GetTickCount64(), i, infos[i].Sequence, infos[i].TimeMs, infos[i].Dropped);
        }
        CloseHandle(ov[i].hEvent);
    }
    CloseHandle(ho);
    CloseHandle(h);
    printf("%s\n", failures == 0 ? "the driver called back every time" : "something went wrong");
    return failures == 0 ? 0 : 1;
}
