// hello_open.cpp - sample app: open the hello driver's device through its symbolic link.
//
// "\\.\IosimHello" becomes \??\IosimHello, a link to \Device\IosimHello. Without the
// driver loaded the open fails with ERROR_FILE_NOT_FOUND; with it, the driver sees
// IRP_MJ_CREATE, and CloseHandle brings IRP_MJ_CLEANUP and IRP_MJ_CLOSE.
#include <windows.h>
#include <stdio.h>

int _tmain(int argc, _TCHAR* argv[])
{
    HANDLE device = CreateFile(TEXT("\\\\.\\IosimHello"), GENERIC_READ, 0, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed, GetLastError() = %lu\n", GetLastError());
        return 1;
    }
    printf("opened \\\\.\\IosimHello, handle %p\n", device);
    CloseHandle(device);
    printf("closed\n");
    return 0;
}
