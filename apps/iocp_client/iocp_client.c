/* iocp_client.c - several IOCTLs outstanding on an I/O completion port, against
 * eventnotify.sys's inverted call (drivers/eventnotify).
 *
 *  - The overlapped handle is associated with a completion port (CreateIoCompletionPort,
 *    completion key 7). Four IOCTL_EVENTNOTIFY_WAIT requests are kept outstanding: each
 *    completion arrives as a packet (GetQueuedCompletionStatus returns the key, the byte
 *    count and the request's OVERLAPPED) and the request is sent again at once.
 *  - After six notifications the app calls CancelIo: the four requests still out complete
 *    with STATUS_CANCELLED, and each still queues a packet: GetQueuedCompletionStatus
 *    returns FALSE with its OVERLAPPED and GetLastError() == ERROR_OPERATION_ABORTED.
 *  - A GetQueuedCompletionStatus with a 0 ms timeout on the empty port: FALSE, no OVERLAPPED,
 *    WAIT_TIMEOUT.
 * Exit code 0 when all went as expected. Run it: iosim exec -d eventnotify.sys iocp_client.exe */
#include <windows.h>
#include <winioctl.h>
#include <stdio.h>
#include <string.h>

#include "eventnotify_public.h"

#define OUTSTANDING 4
#define NOTIFICATIONS 6
#define KEY 7

typedef struct _REQUEST {
    OVERLAPPED Overlapped; /* first: the packet's OVERLAPPED pointer is the request */
    EVENTNOTIFY_INFO Info;
    int Index;
} REQUEST;

static int Send(HANDLE h, REQUEST *r)
{
    memset(&r->Overlapped, 0, sizeof(r->Overlapped));
    if (DeviceIoControl(h, IOCTL_EVENTNOTIFY_WAIT, NULL, 0, &r->Info, sizeof(r->Info), NULL, &r->Overlapped) ||
        GetLastError() != ERROR_IO_PENDING) {
        printf("request %d did not pend: %lu\n", r->Index, GetLastError());
        return 0;
    }
    return 1;
}

int main(void)
{
    REQUEST requests[OUTSTANDING];
    HANDLE h, port;
    EVENTNOTIFY_START start;
    DWORD bytes;
    ULONG_PTR key;
    LPOVERLAPPED ov;
    int i, received = 0, aborted = 0, failures = 0;

    h = CreateFileA("\\\\.\\EventNotify", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED,
                    NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed: %lu\n", GetLastError());
        return 1;
    }
    port = CreateIoCompletionPort(h, NULL, KEY, 0);
    if (port == NULL) {
        printf("CreateIoCompletionPort failed: %lu\n", GetLastError());
        return 1;
    }
    for (i = 0; i < OUTSTANDING; ++i) {
        requests[i].Index = i;
        failures += !Send(h, &requests[i]);
    }
    printf("%d requests outstanding on the completion port\n", OUTSTANDING);

    /* The START request goes through the same handle: with OVERLAPPED, and its packet too. */
    {
        OVERLAPPED sov;
        memset(&sov, 0, sizeof(sov));
        start.PeriodMs = 50;
        start.Count = NOTIFICATIONS;
        if (!DeviceIoControl(h, IOCTL_EVENTNOTIFY_START, &start, sizeof(start), NULL, 0, NULL, &sov)) {
            printf("IOCTL_EVENTNOTIFY_START failed: %lu\n", GetLastError());
            failures++;
        }
        /* It completed at once (TRUE) and still queued a packet: take it off the port. */
        if (!GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE) || ov != &sov) {
            printf("no packet for the START request\n");
            failures++;
        } else {
            printf("packet for IOCTL_EVENTNOTIFY_START (completed synchronously, still queued)\n");
        }
    }

    while (received < NOTIFICATIONS) {
        REQUEST *r;
        if (!GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE)) {
            printf("GetQueuedCompletionStatus failed: %lu\n", GetLastError());
            failures++;
            break;
        }
        r = (REQUEST *)ov;
        received++;
        printf("[%llu ms] packet: key %lu, %lu bytes, request %d: notification %lu\n", GetTickCount64(),
               (unsigned long)key, bytes, r->Index, r->Info.Sequence);
        if (key != KEY || bytes != sizeof(EVENTNOTIFY_INFO) || r->Info.Sequence != (ULONG)received)
            failures++;
        failures += !Send(h, r); /* keep four outstanding */
    }

    printf("[%llu ms] CancelIo with %d requests outstanding\n", GetTickCount64(), OUTSTANDING);
    if (!CancelIo(h))
        failures++;
    for (i = 0; i < OUTSTANDING; ++i) {
        if (GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE) || ov == NULL) {
            printf("expected a failed packet\n");
            failures++;
            continue;
        }
        if (GetLastError() == ERROR_OPERATION_ABORTED)
            aborted++;
        printf("packet: request %d failed with error %lu\n", ((REQUEST *)ov)->Index, GetLastError());
    }
    if (aborted != OUTSTANDING)
        failures++;
    if (GetQueuedCompletionStatus(port, &bytes, &key, &ov, 0) || ov != NULL || GetLastError() != WAIT_TIMEOUT) {
        printf("the port should be empty\n");
        failures++;
    } else {
        printf("the port is empty (WAIT_TIMEOUT)\n");
    }
    CloseHandle(h);
    CloseHandle(port);
    printf("%s\n", failures == 0 ? "every notification arrived through the port" : "something went wrong");
    return failures == 0 ? 0 : 1;
}
