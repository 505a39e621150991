/*
 * buggy_client.c - sends the buggy driver a request it mishandles.
 *   buggy_client double-complete | null-pointer | irql-leak
 */
#include <windows.h>
#include <stdio.h>
#include "buggy_public.h"

int main(int argc, char* argv[])
{
    HANDLE device;
    DWORD bytes = 0;
    DWORD code;
    if (argc >= 2 && strcmp(argv[1], "double-complete") == 0)
        code = IOCTL_BUGGY_DOUBLE_COMPLETE;
    else if (argc >= 2 && strcmp(argv[1], "null-pointer") == 0)
        code = IOCTL_BUGGY_NULL_POINTER;
    else if (argc >= 2 && strcmp(argv[1], "irql-leak") == 0)
        code = IOCTL_BUGGY_IRQL_LEAK;
    else {
        printf("usage: buggy_client double-complete | null-pointer | irql-leak\n");
        return 2;
    }
    device = CreateFileA("\\\\.\\IosimBuggy", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("cannot open \\\\.\\IosimBuggy: error %lu\n", GetLastError());
        return 1;
    }
    printf("sending %s\n", argv[1]);
    DeviceIoControl(device, code, NULL, 0, NULL, 0, &bytes, NULL);
    CloseHandle(device);
    return 0;
}
