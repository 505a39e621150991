/*
 * buggy_client.c - sends the buggy driver the request it mishandles.
 *   buggy_client double-complete
 */
#include <windows.h>
#include <stdio.h>
#include "buggy_public.h"

int main(int argc, char* argv[])
{
    HANDLE device;
    DWORD bytes = 0;
    if (argc < 2 || strcmp(argv[1], "double-complete") != 0) {
        printf("usage: buggy_client double-complete\n");
        return 2;
    }
    device = CreateFileA("\\\\.\\IosimBuggy", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("cannot open \\\\.\\IosimBuggy: error %lu\n", GetLastError());
        return 1;
    }
    printf("sending IOCTL_BUGGY_DOUBLE_COMPLETE\n");
    DeviceIoControl(device, IOCTL_BUGGY_DOUBLE_COMPLETE, NULL, 0, NULL, 0, &bytes, NULL);
    CloseHandle(device);
    return 0;
}
