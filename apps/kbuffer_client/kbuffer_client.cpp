// kbuffer_client.cpp - sample app: WriteFile, ReadFile and GetFileSize on the kbuffer device.
//
// Lesson (seed 000 section 10, the app side of the direct I/O example, here against the
// buffered kbuffer driver: an app cannot tell buffered from direct I/O):
//  1. Writing 1000 bytes into a 512-byte device fails: ERROR_FILE_INVALID (1006).
//  2. WriteFile with an OVERLAPPED whose Offset is 5 writes at byte 5, even though the
//     handle is synchronous (no FILE_FLAG_OVERLAPPED).
//  3. ReadFile without an OVERLAPPED uses the file object's CurrentByteOffset, which the
//     I/O manager does not advance after the write: the read starts at byte 0 and shows
//     the 5 zero bytes before "hello, driver".
//  4. GetFileSize asks the driver (IRP_MJ_QUERY_INFORMATION, FileStandardInformation):
//     5 + 13 = 18.
// UNICODE build (CreateFileW through the CreateFile macro, wmain through _tmain).
#include <windows.h>
#include <stdio.h>
#include <string.h>

int _tmain(int argc, _TCHAR* argv[])
{
    HANDLE device = CreateFile(TEXT("\\\\.\\IosimKbuffer"), GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile failed, GetLastError() = %lu\n", GetLastError());
        return 1;
    }
    DWORD length = 0;

    // 1: more than the driver's buffer holds. The buffer really is 1000 bytes: with
    // buffered I/O the I/O manager copies all of them into the kernel before the driver
    // even looks at the length.
    static unsigned char big[1000];
    if (!WriteFile(device, big, sizeof(big), &length, NULL))
        printf("1: WriteFile of %u bytes failed, GetLastError() = %lu\n", (unsigned)sizeof(big), GetLastError());
    else
        printf("1: WriteFile of %u bytes wrote %lu\n", (unsigned)sizeof(big), length);

    // 2: "hello, driver" at offset 5, given by an OVERLAPPED on a synchronous handle.
    const char* text = "hello, driver";
    OVERLAPPED ol = {0};
    ol.Offset = 5;
    if (WriteFile(device, text, (DWORD)strlen(text), &length, &ol))
        printf("2: wrote %lu bytes at offset %lu\n", length, ol.Offset);
    else
        printf("2: WriteFile failed, GetLastError() = %lu\n", GetLastError());

    // 3: 32 bytes with no OVERLAPPED: from CurrentByteOffset, still 0.
    unsigned char data[32] = {0};
    if (ReadFile(device, data, sizeof(data), &length, NULL)) {
        printf("3: read %lu bytes:", length);
        for (DWORD i = 0; i < length; i++)
            printf(" %02X", data[i]);
        printf("\n");
    } else {
        printf("3: ReadFile failed, GetLastError() = %lu\n", GetLastError());
    }

    // 4: the driver's idea of the file length.
    DWORD size = GetFileSize(device, NULL);
    if (size == INVALID_FILE_SIZE && GetLastError() != NO_ERROR)
        printf("4: GetFileSize failed, GetLastError() = %lu\n", GetLastError());
    else
        printf("4: GetFileSize = %lu\n", size);

    CloseHandle(device);
    return 0;
}
