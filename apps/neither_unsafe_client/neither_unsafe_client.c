/*
 * neither_unsafe_client.c - sample app: hands the neither_unsafe driver a pointer it keeps.
 *
 * Lesson (the app side of drivers/neither_unsafe): the driver keeps this app's raw
 * address instead of copying the data. Without arguments (or with "twin") the app shows
 * the right-context case: it gives the driver a heap buffer (IOCTL_UNSAFE_REMEMBER),
 * changes the buffer, then asks the driver to read it back (IOCTL_UNSAFE_USE_REMEMBERED):
 * the driver returns the changed text, because it reads this process's live memory, not
 * a copy, and it works because this process is the one whose context the read runs in.
 *
 * The wrong-context case needs a second process that is alive at the same time; the
 * steps are separate commands for that (tests/samples_mm, scenarios/neither_hazard.iosim):
 *     neither_unsafe_client remember TEXT    remember a heap buffer holding TEXT
 *     neither_unsafe_client use              ask the driver to read what it remembered
 *     neither_unsafe_client touch-at-unload  make DriverUnload read it too
 * Built ANSI (CreateFileA, main).
 */
#include <windows.h>
#include <winioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/neither_unsafe/neither_unsafe_public.h"

#define BUFFER_SIZE 32

static BOOL Remember(HANDLE device, char *buffer)
{
    DWORD returned = 0;
    if (!DeviceIoControl(device, IOCTL_UNSAFE_REMEMBER, buffer, BUFFER_SIZE, NULL, 0, &returned, NULL)) {
        printf("IOCTL_UNSAFE_REMEMBER failed, GetLastError() = %lu\n", GetLastError());
        return FALSE;
    }
    printf("the driver remembers %d bytes at %p (\"%s\")\n", BUFFER_SIZE, (void *)buffer, buffer);
    return TRUE;
}

static BOOL Use(HANDLE device)
{
    char out[BUFFER_SIZE + 1];
    DWORD returned = 0;
    memset(out, 0, sizeof(out));
    if (!DeviceIoControl(device, IOCTL_UNSAFE_USE_REMEMBERED, NULL, 0, out, BUFFER_SIZE, &returned, NULL)) {
        printf("IOCTL_UNSAFE_USE_REMEMBERED failed, GetLastError() = %lu\n", GetLastError());
        return FALSE;
    }
    printf("the driver read %lu bytes through the remembered pointer: \"%s\"\n", returned, out);
    return TRUE;
}

int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "twin";
    BOOL ok = FALSE;
    char *buffer;
    DWORD returned = 0;
    HANDLE device = CreateFileA(NEITHER_UNSAFE_WIN32_NAME, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile(%s) failed, GetLastError() = %lu\n", NEITHER_UNSAFE_WIN32_NAME, GetLastError());
        return 1;
    }

    if (strcmp(mode, "twin") == 0) {
        buffer = (char *)calloc(1, BUFFER_SIZE);
        strcpy(buffer, "first words");
        ok = Remember(device, buffer);
        /* The driver kept the address, not the bytes: what it reads later is what is there then. */
        strcpy(buffer, "changed afterwards");
        printf("the app changed its buffer to \"%s\"\n", buffer);
        ok = ok && Use(device);
        free(buffer);
    } else if (strcmp(mode, "remember") == 0 && argc > 2) {
        buffer = (char *)calloc(1, BUFFER_SIZE);
        strncpy(buffer, argv[2], BUFFER_SIZE - 1);
        ok = Remember(device, buffer);
        /* Not freed: the buffer stays until the process ends, and the driver keeps its address. */
    } else if (strcmp(mode, "use") == 0) {
        ok = Use(device);
    } else if (strcmp(mode, "touch-at-unload") == 0) {
        ok = DeviceIoControl(device, IOCTL_UNSAFE_TOUCH_AT_UNLOAD, NULL, 0, NULL, 0, &returned, NULL);
        printf(ok ? "DriverUnload will read the remembered pointer\n"
                  : "IOCTL_UNSAFE_TOUCH_AT_UNLOAD failed\n");
    } else {
        printf("usage: neither_unsafe_client [twin | remember TEXT | use | touch-at-unload]\n");
    }
    CloseHandle(device);
    return ok ? 0 : 1;
}
