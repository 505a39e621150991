/*
 * seh_app.c - an app (seh_app.exe) that uses structured exception handling itself and
 * talks to an SEH test driver: seh_app.exe <device>, e.g. seh_app.exe \\.\SehC
 *   1. its own bad pointer inside __try/__except: "app caught 0xC0000005";
 *   2. IOCTL_SEH_SUM_NEITHER with a bad input pointer: the driver catches the access
 *      violation and fails the request, DeviceIoControl gives ERROR_NOACCESS (998);
 *   3. the same with a good buffer: the sum of its bytes.
 */
#include <windows.h>
#include <stdio.h>

#include "seh_public.h"

static int Filter(DWORD code)
{
    return code == EXCEPTION_ACCESS_VIOLATION ? EXCEPTION_EXECUTE_HANDLER : EXCEPTION_CONTINUE_SEARCH;
}

int main(int argc, char *argv[])
{
    HANDLE h;
    ULONG sum = 0;
    DWORD bytes = 0;
    BOOL ok;
    unsigned char data[4] = {1, 2, 3, 4};

    if (argc < 2) {
        printf("usage: seh_app <device>\n");
        return 2;
    }

    __try {
        *(volatile int *)(ULONG_PTR)0x10 = 1;
        printf("app: not caught\n");
    } __except (Filter(GetExceptionCode())) {
        printf("app caught 0x%08lX\n", (unsigned long)GetExceptionCode());
    }

    h = CreateFileA(argv[1], GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed, GetLastError() = %lu\n", GetLastError());
        return 1;
    }
    ok = DeviceIoControl(h, IOCTL_SEH_SUM_NEITHER, (void *)(ULONG_PTR)0x20, 8, &sum, sizeof(sum), &bytes, NULL);
    printf("bad buffer: %s, GetLastError() = %lu, %lu bytes\n", ok ? "TRUE" : "FALSE", ok ? 0 : GetLastError(), bytes);
    ok = DeviceIoControl(h, IOCTL_SEH_SUM_NEITHER, data, sizeof(data), &sum, sizeof(sum), &bytes, NULL);
    printf("good buffer: %s, sum %lu, %lu bytes\n", ok ? "TRUE" : "FALSE", sum, bytes);
    CloseHandle(h);
    return 0;
}
