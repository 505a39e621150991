// ioctl_client.cpp - sample app: talking to the ioctl_buffered driver with DeviceIoControl.
//
// Lesson (seed 000 section 7 "处理设备I/O控制函数DeviceIoControl", the app side):
//  - The control codes come from the header the driver uses too
//    (drivers/ioctl_buffered/ioctl_buffered_public.h), so both agree on every bit. This app
//    is C++ and the driver C: CodeName's switch proves the codes, including one with a
//    vendor device type (bit 31 set), are valid case labels in C++ as well.
//  - DeviceIoControl returns TRUE or FALSE; on FALSE, GetLastError() is the driver's
//    NTSTATUS translated: STATUS_BUFFER_TOO_SMALL -> ERROR_INSUFFICIENT_BUFFER (122) with
//    0 bytes returned, STATUS_BUFFER_OVERFLOW -> ERROR_MORE_DATA (234) with the bytes that
//    fit, STATUS_INVALID_DEVICE_REQUEST -> ERROR_INVALID_FUNCTION (1).
//  - A code that needs FILE_WRITE_ACCESS fails with ERROR_ACCESS_DENIED (5) on a handle
//    opened with GENERIC_READ only: the I/O manager refuses it, the driver never sees it.
// Built ANSI (CreateFileA, main) to show the A side of the API.
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "../../drivers/ioctl_buffered/ioctl_buffered_public.h"

// Not a code the driver knows: it fails the request.
#define IOCTL_IOSIM_UNKNOWN CTL_CODE(FILE_DEVICE_UNKNOWN, 0x8FF, METHOD_BUFFERED, FILE_ANY_ACCESS)

static const char* CodeName(DWORD code)
{
    switch (code) {
    case IOCTL_IOSIM_ECHO: return "IOCTL_IOSIM_ECHO";
    case IOCTL_IOSIM_FILL: return "IOCTL_IOSIM_FILL";
    case IOCTL_IOSIM_WRITE_ONLY: return "IOCTL_IOSIM_WRITE_ONLY";
    case IOCTL_IOSIM_SMALL: return "IOCTL_IOSIM_SMALL";
    default: return "IOCTL_IOSIM_UNKNOWN";
    }
}

// Sends one request and prints what went out and what came back.
static BOOL Call(HANDLE device, DWORD code, const char* input, void* output, DWORD outputLength, DWORD* returned)
{
    DWORD inputLength = input != NULL ? (DWORD)strlen(input) : 0;
    if (input != NULL)
        printf("%s (0x%08lX): sending %lu byte(s) \"%s\", output buffer %lu byte(s)\n", CodeName(code), code,
               inputLength, input, outputLength);
    else
        printf("%s (0x%08lX): sending nothing, output buffer %lu byte(s)\n", CodeName(code), code, outputLength);
    *returned = 0;
    BOOL ok = DeviceIoControl(device, code, (LPVOID)input, inputLength, output, outputLength, returned, NULL);
    DWORD error = ok ? ERROR_SUCCESS : GetLastError();
    if (ok)
        printf("  ok, %lu byte(s) returned\n", *returned);
    else
        printf("  failed, GetLastError() = %lu, %lu byte(s) returned\n", error, *returned);
    return ok;
}

static void PrintText(const char* data, DWORD count) { printf("  received \"%.*s\"\n", (int)count, data); }

static void PrintHex(const unsigned char* data, DWORD count)
{
    printf("  received");
    for (DWORD i = 0; i < count; i++)
        printf(" %02X", data[i]);
    printf("\n");
}

int main(void)
{
    char output[64];
    DWORD returned = 0;

    HANDLE device = CreateFileA(IOSIM_IOCTL_WIN32_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile(%s) failed, GetLastError() = %lu\n", IOSIM_IOCTL_WIN32_NAME, GetLastError());
        return 1;
    }
    printf("opened %s for reading and writing\n", IOSIM_IOCTL_WIN32_NAME);

    if (Call(device, IOCTL_IOSIM_ECHO, "hello, driver", output, sizeof(output), &returned))
        PrintText(output, returned);

    if (Call(device, IOCTL_IOSIM_FILL, "fill, please", output, 8, &returned))
        PrintHex((const unsigned char*)output, returned);

    Call(device, IOCTL_IOSIM_WRITE_ONLY, NULL, NULL, 0, &returned);

    // The same request with a buffer too small, big enough for the header, and big enough.
    Call(device, IOCTL_IOSIM_SMALL, NULL, output, 8, &returned);
    // ERROR_MORE_DATA is a failure that still returns data: look at the byte count.
    Call(device, IOCTL_IOSIM_SMALL, NULL, output, 20, &returned);
    if (returned != 0)
        PrintText(output, returned);
    if (Call(device, IOCTL_IOSIM_SMALL, NULL, output, IOSIM_SMALL_FULL, &returned))
        PrintText(output, returned);

    Call(device, IOCTL_IOSIM_UNKNOWN, NULL, output, sizeof(output), &returned);
    CloseHandle(device);
    printf("closed\n");

    // Read access only: a code that needs write access is refused before the driver.
    device = CreateFileA(IOSIM_IOCTL_WIN32_NAME, GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile(%s) failed, GetLastError() = %lu\n", IOSIM_IOCTL_WIN32_NAME, GetLastError());
        return 1;
    }
    printf("opened %s for reading only\n", IOSIM_IOCTL_WIN32_NAME);
    Call(device, IOCTL_IOSIM_WRITE_ONLY, NULL, NULL, 0, &returned);
    if (Call(device, IOCTL_IOSIM_ECHO, "any access", output, sizeof(output), &returned))
        PrintText(output, returned);
    CloseHandle(device);
    printf("closed\n");
    return 0;
}
