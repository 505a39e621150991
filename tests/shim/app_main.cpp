// app_main.cpp - shim compile test: the other common shape of a Win32 client, with
// lower-case <windows.h>, <stdio.h>, <winioctl.h>, a plain main() and a wide literal
// passed to the generic CreateFile (so it needs UNICODE, as Visual Studio's default).
#include <windows.h>
#include <stdio.h>
#include <winioctl.h>

int main()
{
    HANDLE hDevice = CreateFile(L"\\\\.\\My_Device", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, NULL);
    if (hDevice == INVALID_HANDLE_VALUE) {
        printf("open failed: %d\n", (int)GetLastError());
        getchar();
        return -1;
    }
    UCHAR buffer[10] = { 0 };
    ULONG ulRead;
    ReadFile(hDevice, buffer, 10, &ulRead, 0);
    for (int i = 0; i < (int)ulRead; i++)
        printf("%02x", buffer[i]);
    CloseHandle(hDevice);
    system("pause");
    return 0;
}
