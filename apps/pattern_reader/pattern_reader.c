/*
 * pattern_reader.c - sample app: reading generated data from the pattern driver.
 *
 * Lesson (seed 002 "通过ReadFile实现与内核通信", the app side): open the device, call
 * ReadFile with a buffer and a length, and the driver's bytes arrive in the buffer;
 * the byte count says how many. Two reads in a row without an OVERLAPPED both start at
 * offset 0: on a synchronous handle the I/O manager passes the file object's
 * CurrentByteOffset, and only file systems move it.
 * Written in C, UNICODE (_tmain is wmain).
 */
#include <windows.h>
#include <stdio.h>

static int ReadAndPrint(HANDLE device, DWORD count)
{
    char buffer[64];
    DWORD read = 0;

    if (count > sizeof(buffer))
        count = sizeof(buffer);
    if (!ReadFile(device, buffer, count, &read, NULL)) {
        printf("ReadFile of %lu byte(s) failed, GetLastError() = %lu\n", count, GetLastError());
        return 0;
    }
    printf("read %lu of %lu byte(s): %.*s\n", read, count, (int)read, buffer);
    return 1;
}

int _tmain(int argc, _TCHAR* argv[])
{
    HANDLE device = CreateFile(TEXT("\\\\.\\IosimPattern"), GENERIC_READ, 0, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
    int ok;

    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed, GetLastError() = %lu\n", GetLastError());
        return 1;
    }
    ok = ReadAndPrint(device, 10) && ReadAndPrint(device, 40);
    CloseHandle(device);
    return ok ? 0 : 1;
}
