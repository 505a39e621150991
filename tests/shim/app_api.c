/*
 * app_api.c - shim compile test: a C console app written against the generic (TCHAR)
 * Win32 API, built once with UNICODE/_UNICODE and once ANSI. It only has to compile and
 * link as a module; it is never run.
 */
#include <windows.h>
#include <winioctl.h>
#include <strsafe.h>
#include <tchar.h>

#define IOCTL_SHIM_TEST CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)

static DWORD WINAPI worker(LPVOID param)
{
    HANDLE port = (HANDLE)param;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED ov = NULL;
    GetQueuedCompletionStatus(port, &bytes, &key, &ov, INFINITE);
    return bytes;
}

static void WINAPI on_done(DWORD error, DWORD bytes, LPOVERLAPPED ov)
{
    (void)error;
    (void)bytes;
    (void)ov;
}

static void NTAPI on_apc(ULONG_PTR data) { (void)data; }

static int use_files(void)
{
    TCHAR name[MAX_PATH];
    TCHAR *part = NULL;
    BYTE buf[64];
    DWORD got = 0, high = 0;
    LARGE_INTEGER size, pos;
    OVERLAPPED ov;
    HANDLE h, ev;

    StringCchCopy(name, ARRAYSIZE(name), TEXT("\\\\.\\ShimTest"));
    h = CreateFile(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                   FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        _tprintf(_T("open failed: %lu\n"), GetLastError());
        MessageBox(NULL, TEXT("open failed"), TEXT("shim"), MB_OK | MB_ICONERROR);
        return 1;
    }
    ev = CreateEvent(NULL, TRUE, FALSE, NULL);
    ZeroMemory(&ov, sizeof(ov));
    ov.hEvent = ev;
    ov.Offset = 0;
    ov.OffsetHigh = 0;
    if (!ReadFile(h, buf, sizeof(buf), &got, &ov) && GetLastError() == ERROR_IO_PENDING) {
        switch (WaitForSingleObject(ev, 1000)) {
        case WAIT_OBJECT_0:
            GetOverlappedResult(h, &ov, &got, FALSE);
            break;
        case WAIT_TIMEOUT:
            CancelIoEx(h, &ov);
            GetOverlappedResultEx(h, &ov, &got, INFINITE, TRUE);
            break;
        case WAIT_FAILED:
        default:
            break;
        }
    }
    if (HasOverlappedIoCompleted(&ov))
        WriteFile(h, buf, got, &got, &ov);
    ReadFileEx(h, buf, sizeof(buf), &ov, on_done);
    WriteFileEx(h, buf, sizeof(buf), &ov, on_done);
    SleepEx(0, TRUE);
    DeviceIoControl(h, IOCTL_SHIM_TEST, buf, sizeof(buf), buf, sizeof(buf), &got, &ov);
    DeviceIoControl(h, IOCTL_DISK_GET_DRIVE_GEOMETRY, NULL, 0, buf, sizeof(buf), &got, NULL);
    (void)GetFileSize(h, &high);
    GetFileSizeEx(h, &size);
    pos.QuadPart = 0;
    SetFilePointerEx(h, pos, NULL, FILE_BEGIN);
    if (SetFilePointer(h, 0, NULL, FILE_END) == INVALID_SET_FILE_POINTER)
        SetLastError(ERROR_SUCCESS);
    FlushFileBuffers(h);
    CancelIo(h);
    GetFullPathName(TEXT("driver.sys"), MAX_PATH, name, &part);
    GetModuleFileName(GetModuleHandle(NULL), name, MAX_PATH);
    OutputDebugString(name);
    CloseHandle(ev);
    return CloseHandle(h) ? 0 : 1;
}

static int use_sync(void)
{
    CRITICAL_SECTION cs;
    HANDLE objs[3], port, thread, dup = NULL;
    DWORD tid = 0, code = 0;
    LONG prev = 0;
    volatile LONG counter = 0;
    LARGE_INTEGER freq, now;
    SYSTEMTIME st;
    FILETIME ft;

    InitializeCriticalSection(&cs);
    EnterCriticalSection(&cs);
    LeaveCriticalSection(&cs);
    DeleteCriticalSection(&cs);
    objs[0] = CreateEvent(NULL, FALSE, FALSE, TEXT("ShimEvent"));
    objs[1] = CreateMutex(NULL, FALSE, NULL);
    objs[2] = CreateSemaphore(NULL, 0, 10, NULL);
    SetEvent(objs[0]);
    ResetEvent(objs[0]);
    PulseEvent(objs[0]);
    CloseHandle(OpenEvent(EVENT_ALL_ACCESS, FALSE, TEXT("ShimEvent")));
    WaitForMultipleObjects(3, objs, FALSE, 10);
    WaitForMultipleObjectsEx(3, objs, TRUE, 10, TRUE);
    WaitForSingleObjectEx(objs[1], 0, FALSE);
    ReleaseMutex(objs[1]);
    ReleaseSemaphore(objs[2], 1, &prev);
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    PostQueuedCompletionStatus(port, 4, 1, NULL);
    thread = CreateThread(NULL, 0, worker, port, 0, &tid);
    QueueUserAPC(on_apc, thread, 0);
    WaitForSingleObject(thread, INFINITE);
    GetExitCodeThread(thread, &code);
    DuplicateHandle(GetCurrentProcess(), thread, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS);
    CancelSynchronousIo(GetCurrentThread());
    InterlockedIncrement(&counter);
    InterlockedCompareExchange(&counter, 5, 1);
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    GetLocalTime(&st);
    GetSystemTimeAsFileTime(&ft);
    Sleep(1);
    _tprintf(_T("tid %lu pid %lu tick %lu/%llu code %lu %d\n"), GetCurrentThreadId(), GetCurrentProcessId(),
             GetTickCount(), (unsigned long long)GetTickCount64(), code, max(1, 2));
    return (int)min(code, 1u);
}

static int use_memory_and_strings(void)
{
    char narrow[32];
    WCHAR wide[32];
    TCHAR text[32];
    size_t len = 0;
    void *p = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 64);
    void *v = VirtualAlloc(NULL, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    HLOCAL l = LocalAlloc(LPTR, 16);
    FillMemory(p, 64, 0x5A);
    CopyMemory(v, p, 64);
    MoveMemory(v, p, 8);
    HeapFree(GetProcessHeap(), 0, p);
    VirtualFree(v, 0, MEM_RELEASE);
    LocalFree(l);
    MultiByteToWideChar(CP_UTF8, 0, "abc", -1, wide, 32);
    WideCharToMultiByte(CP_ACP, 0, wide, -1, narrow, sizeof(narrow), NULL, NULL);
    lstrcpy(text, TEXT("ab"));
    lstrcat(text, TEXT("c"));
    StringCchPrintf(text, ARRAYSIZE(text), TEXT("%d-%s"), 42, TEXT("x"));
    StringCbCat(text, sizeof(text), TEXT("y"));
    StringCchLength(text, ARRAYSIZE(text), &len);
    StringCbCopyA(narrow, sizeof(narrow), "n");
    StringCbCopyW(wide, sizeof(wide), L"w");
    return lstrlen(text) + lstrcmp(text, TEXT("x")) + lstrcmpi(text, TEXT("X")) + (int)len +
           lstrlenA(narrow) + lstrlenW(wide) + (int)_tcslen(text);
}

static BOOL use_services(LPCTSTR name, LPCTSTR path)
{
    SERVICE_STATUS status;
    SERVICE_STATUS_PROCESS ssp;
    DWORD needed = 0;
    BOOL ok = FALSE;
    SC_HANDLE scm = OpenSCManager(NULL, SERVICES_ACTIVE_DATABASE, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE svc;
    if (scm == NULL)
        return FALSE;
    svc = CreateService(scm, name, name, SERVICE_ALL_ACCESS, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START,
                        SERVICE_ERROR_NORMAL, path, NULL, NULL, NULL, NULL, NULL);
    if (svc == NULL)
        svc = OpenService(scm, name, SERVICE_START | SERVICE_STOP | DELETE | SERVICE_QUERY_STATUS);
    if (svc != NULL) {
        ok = StartService(svc, 0, NULL);
        QueryServiceStatus(svc, &status);
        QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&ssp, sizeof(ssp), &needed);
        if (status.dwCurrentState == SERVICE_RUNNING && (status.dwControlsAccepted & SERVICE_ACCEPT_STOP))
            ControlService(svc, SERVICE_CONTROL_STOP, &status);
        DeleteService(svc);
        CloseServiceHandle(svc);
    }
    CloseServiceHandle(scm);
    return ok;
}

int _tmain(int argc, _TCHAR *argv[])
{
    int rc = use_files() + use_sync() + use_memory_and_strings();
    if (argc > 1)
        rc += use_services(argv[1], TEXT("C:\\shim.sys"));
    _puttchar(_T('\n'));
    if (_gettchar() == _TEOF)
        rc++;
    (void)getchar();
    ExitProcess((UINT)rc);
}
