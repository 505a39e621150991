/*
 * direct_client.c - writes and reads the direct I/O sample device, printing the address of
 * its buffer so it can be compared with the MDL's virtual address the driver prints (the
 * same) and the system address the driver writes through (another address: a second
 * mapping of the same page frames).
 */
#include <windows.h>
#include <stdio.h>

int main(void)
{
    char out[32] = "through an MDL";
    char in[32] = {0};
    DWORD bytes = 0;
    OVERLAPPED at = {0};
    HANDLE h = CreateFileA("\\\\.\\IosimDirect", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("open failed: %lu\n", GetLastError());
        return 1;
    }
    printf("write buffer at %p\n", (void *)out);
    at.Offset = 16;
    if (!WriteFile(h, out, (DWORD)strlen(out), &bytes, &at))
        printf("write failed: %lu\n", GetLastError());
    else
        printf("wrote %lu bytes at offset 16\n", bytes);
    printf("read buffer at %p\n", (void *)in);
    if (!ReadFile(h, in, sizeof(in), &bytes, &at))
        printf("read failed: %lu\n", GetLastError());
    else
        printf("read %lu bytes at offset 16: \"%s\"\n", bytes, in);
    if (!WriteFile(h, out, 0, &bytes, NULL))
        printf("empty write failed: %lu\n", GetLastError());
    else
        printf("an empty write succeeds with %lu bytes\n", bytes);
    at.Offset = 250;
    if (!WriteFile(h, out, 16, &bytes, &at))
        printf("write past the end failed: GetLastError() = %lu\n", GetLastError());
    CloseHandle(h);
    return 0;
}
