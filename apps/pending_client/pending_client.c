/* pending_client.c - overlapped reads from pending_timer.sys (drivers/pending_timer).
 *
 * Opens \\.\PendingTimer with FILE_FLAG_OVERLAPPED, starts three reads at once (each with
 * its own OVERLAPPED and event; each ReadFile returns FALSE with ERROR_IO_PENDING), waits
 * for all three, and prints what each got (GetOverlappedResult). Then one ReadFileEx whose
 * completion routine runs when the thread waits alertably (SleepEx). Exit code 0 when all
 * went as expected. Run it: iosim exec -d pending_timer.sys pending_client.exe */
#include <windows.h>
#include <stdio.h>
#include <string.h>

static char g_ex_buffer[16];
static DWORD g_ex_bytes;
static int g_ex_called;

static VOID WINAPI ReadDone(DWORD error, DWORD bytes, LPOVERLAPPED overlapped)
{
    (void)overlapped;
    g_ex_called = 1;
    g_ex_bytes = bytes;
    printf("ReadFileEx completion routine: error %lu, %lu byte(s): \"%.*s\"\n", error, bytes, (int)bytes, g_ex_buffer);
}

int main(void)
{
    HANDLE h;
    OVERLAPPED ov[3];
    HANDLE events[3];
    char buffers[3][16];
    int i, failures = 0;
    OVERLAPPED ex;

    h = CreateFileA("\\\\.\\PendingTimer", GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed: %lu\n", GetLastError());
        return 1;
    }
    for (i = 0; i < 3; ++i) {
        memset(&ov[i], 0, sizeof(ov[i]));
        events[i] = CreateEventA(NULL, TRUE, FALSE, NULL);
        ov[i].hEvent = events[i];
        memset(buffers[i], 0, sizeof(buffers[i]));
        if (ReadFile(h, buffers[i], sizeof(buffers[i]), NULL, &ov[i]) || GetLastError() != ERROR_IO_PENDING) {
            printf("read %d did not pend (error %lu)\n", i, GetLastError());
            failures++;
        } else {
            printf("read %d pended (ERROR_IO_PENDING)\n", i);
        }
    }
    for (i = 0; i < 3; ++i) {
        DWORD bytes = 0;
        if (WaitForSingleObject(events[i], INFINITE) != WAIT_OBJECT_0)
            failures++;
        if (!GetOverlappedResult(h, &ov[i], &bytes, FALSE)) {
            printf("read %d failed: %lu\n", i, GetLastError());
            failures++;
        } else {
            printf("read %d completed after %llu ms: %lu byte(s): \"%.*s\"\n", i, GetTickCount64(), bytes, (int)bytes,
                   buffers[i]);
        }
        CloseHandle(events[i]);
    }

    memset(&ex, 0, sizeof(ex));
    if (!ReadFileEx(h, g_ex_buffer, sizeof(g_ex_buffer), &ex, ReadDone)) {
        printf("ReadFileEx failed: %lu\n", GetLastError());
        failures++;
    }
    while (!g_ex_called) {
        if (SleepEx(INFINITE, TRUE) != WAIT_IO_COMPLETION)
            failures++;
    }
    CloseHandle(h);
    printf("%s\n", failures == 0 ? "all reads completed" : "something went wrong");
    return failures == 0 ? 0 : 1;
}
