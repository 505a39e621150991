// counter_client.cpp - an out-of-tree example app: asks the counter driver three times.
#include <windows.h>
#include <stdio.h>
#include "..\common\counter_ioctl.h"

int _tmain(int argc, _TCHAR* argv[])
{
    HANDLE h = CreateFile(_T("\\\\.\\Counter"), GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("open failed: %lu\n", GetLastError());
        return 1;
    }
    for (int i = 0; i < 3; ++i) {
        ULONG value = 0;
        DWORD bytes = 0;
        if (!DeviceIoControl(h, IOCTL_COUNTER_NEXT, NULL, 0, &value, sizeof(value), &bytes, NULL)) {
            printf("IOCTL failed: %lu\n", GetLastError());
            CloseHandle(h);
            return 1;
        }
        printf("counter: %lu (%lu bytes)\n", value, bytes);
    }
    CloseHandle(h);
    return 0;
}
