/* csq_client.c - two threads against csqread.sys (drivers/csqread): reads that a write
 * completes, and one that CancelIo ends.
 *
 *  - The main thread opens \\.\CsqRead with FILE_FLAG_OVERLAPPED and starts three
 *    ReadFileEx reads; each completion routine runs only while the main thread waits
 *    alertably (WaitForSingleObjectEx / SleepEx with bAlertable TRUE, which return
 *    WAIT_IO_COMPLETION after running it).
 *  - A second thread (CreateThread) writes two messages 100 ms apart on a handle of its own;
 *    the driver's system thread completes the two oldest reads with them.
 *  - The main thread then calls CancelIo: it cancels the requests *this* thread issued on
 *    the handle. The third read ends with ERROR_OPERATION_ABORTED (STATUS_CANCELLED from
 *    the cancel-safe queue's cancel routine).
 * Exit code 0 when all went as expected. Run it: iosim exec -d csqread.sys csq_client.exe */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define READS 3

static OVERLAPPED g_ov[READS];
static char g_buffers[READS][32];
static DWORD g_error[READS];
static DWORD g_bytes[READS];
static int g_done;

static VOID WINAPI ReadDone(DWORD error, DWORD bytes, LPOVERLAPPED overlapped)
{
    int i = (int)(overlapped - g_ov);
    g_error[i] = error;
    g_bytes[i] = bytes;
    g_done++;
    if (error == 0)
        printf("[%llu ms] read %d completed: %lu byte(s): \"%.*s\"\n", GetTickCount64(), i, bytes, (int)bytes,
               g_buffers[i]);
    else
        printf("[%llu ms] read %d ended with error %lu%s\n", GetTickCount64(), i, error,
               error == ERROR_OPERATION_ABORTED ? " (ERROR_OPERATION_ABORTED)" : "");
}

static DWORD WINAPI Writer(LPVOID param)
{
    static const char *messages[] = {"first message", "second message"};
    HANDLE h = CreateFileA("\\\\.\\CsqRead", GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    int i;
    (void)param;
    if (h == INVALID_HANDLE_VALUE)
        return 1;
    for (i = 0; i < 2; ++i) {
        DWORD written = 0;
        Sleep(100);
        if (!WriteFile(h, messages[i], (DWORD)strlen(messages[i]), &written, NULL)) {
            CloseHandle(h);
            return 1;
        }
        printf("[%llu ms] writer thread %lu wrote \"%s\"\n", GetTickCount64(), GetCurrentThreadId(), messages[i]);
    }
    CloseHandle(h);
    return 0;
}

int main(void)
{
    HANDLE h, writer;
    DWORD wait, writer_exit = 1;
    int i, failures = 0;

    h = CreateFileA("\\\\.\\CsqRead", GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed: %lu\n", GetLastError());
        return 1;
    }
    for (i = 0; i < READS; ++i) {
        if (!ReadFileEx(h, g_buffers[i], sizeof(g_buffers[i]), &g_ov[i], ReadDone)) {
            printf("ReadFileEx %d failed: %lu\n", i, GetLastError());
            failures++;
        }
    }
    printf("main thread %lu: %d reads queued in the driver\n", GetCurrentThreadId(), READS);

    writer = CreateThread(NULL, 0, Writer, NULL, 0, NULL);
    /* Alertable: each completion routine runs here and the wait returns WAIT_IO_COMPLETION. */
    while ((wait = WaitForSingleObjectEx(writer, INFINITE, TRUE)) == WAIT_IO_COMPLETION)
        ;
    if (wait != WAIT_OBJECT_0)
        failures++;
    GetExitCodeThread(writer, &writer_exit);
    CloseHandle(writer);
    while (g_done < 2)
        SleepEx(INFINITE, TRUE);

    printf("[%llu ms] main thread: CancelIo\n", GetTickCount64());
    if (!CancelIo(h)) {
        printf("CancelIo failed: %lu\n", GetLastError());
        failures++;
    }
    while (g_done < READS)
        SleepEx(INFINITE, TRUE);
    CloseHandle(h);

    if (writer_exit != 0 || g_error[0] != 0 || g_error[1] != 0 || g_error[2] != ERROR_OPERATION_ABORTED)
        failures++;
    printf("%s\n", failures == 0 ? "two reads completed, one cancelled" : "something went wrong");
    return failures == 0 ? 0 : 1;
}
