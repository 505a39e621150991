/*
 * neither_client.c - sample app: good and bad buffers sent to a careful METHOD_NEITHER driver.
 *
 * Lesson (the app side of drivers/neither): with METHOD_NEITHER the driver gets this
 * app's addresses as they are. Good buffers work as with any other method. Bad ones
 * (memory the app already freed, a pointer near NULL, a read-only page given as output,
 * a misaligned array) reach the driver unchecked; because the driver probes them and
 * touches them only inside __try/__except, each request just fails with ERROR_NOACCESS
 * (998), and the next good request works again. Nothing crashes, neither the app nor the
 * system.
 * Built ANSI (CreateFileA).
 */
#include <windows.h>
#include <winioctl.h>
#include <stdio.h>
#include <string.h>

#include "../../drivers/neither/neither_public.h"

#define PAGE 4096

static int g_step;

/* Sends IOCTL_NEITHER_UPPER and prints the outcome. */
static void Upper(HANDLE device, const char *what, const void *input, DWORD inLength, void *output, DWORD outLength)
{
    DWORD returned = 0;
    BOOL ok = DeviceIoControl(device, IOCTL_NEITHER_UPPER, (LPVOID)input, inLength, output, outLength, &returned, NULL);
    printf("%d: upper-case, %s: ", ++g_step, what);
    if (ok)
        printf("ok, %lu bytes: \"%.*s\"\n", returned, (int)returned, (const char *)output);
    else
        printf("failed, GetLastError() = %lu\n", GetLastError());
}

/* Sends IOCTL_NEITHER_SUM and prints the outcome. */
static void Sum(HANDLE device, const char *what, const void *input, DWORD inLength, ULONG *output)
{
    DWORD returned = 0;
    BOOL ok = DeviceIoControl(device, IOCTL_NEITHER_SUM, (LPVOID)input, inLength, output, sizeof(ULONG), &returned,
                              NULL);
    printf("%d: sum, %s: ", ++g_step, what);
    if (ok)
        printf("ok, %lu bytes: %lu\n", returned, *output);
    else
        printf("failed, GetLastError() = %lu\n", GetLastError());
}

int main(void)
{
    const char text[] = "hello, neither";
    char out[64];
    ULONG numbers[5] = {1, 2, 3, 4, 0};
    ULONG sum = 0;
    char *freed, *readOnly;
    DWORD oldProtect = 0;
    HANDLE device = CreateFileA(NEITHER_WIN32_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile(%s) failed, GetLastError() = %lu\n", NEITHER_WIN32_NAME, GetLastError());
        return 1;
    }

    /* Good buffers: the driver reads and writes them in place. */
    memset(out, 0, sizeof(out));
    Upper(device, "good buffers", text, (DWORD)strlen(text), out, sizeof(out));

    /* A range this app has just given back: the address is no longer memory at all. */
    freed = (char *)VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    strcpy(freed, "already freed");
    VirtualFree(freed, 0, MEM_RELEASE);
    Upper(device, "input freed with VirtualFree", freed, 13, out, sizeof(out));

    /* An output pointer near NULL. */
    Upper(device, "output at 0x10", text, (DWORD)strlen(text), (void *)0x10, sizeof(out));

    /* A read-only page as output: ProbeForWrite finds it is not writable. */
    readOnly = (char *)VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    VirtualProtect(readOnly, PAGE, PAGE_READONLY, &oldProtect);
    Upper(device, "read-only output page", text, (DWORD)strlen(text), readOnly, 64);
    VirtualFree(readOnly, 0, MEM_RELEASE);

    /* ULONGs: aligned works; one byte off is a misaligned array. */
    Sum(device, "aligned array", numbers, 4 * sizeof(ULONG), &sum);
    Sum(device, "array one byte off", (const char *)numbers + 1, 4 * sizeof(ULONG), &sum);

    /* The driver (and the system) are fine: a good request works again. */
    memset(out, 0, sizeof(out));
    Upper(device, "good buffers again", "still here", 10, out, sizeof(out));
    CloseHandle(device);
    return 0;
}
