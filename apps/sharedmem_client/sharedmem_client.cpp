// sharedmem_client.cpp - sample app: talking to a driver through memory both of them map.
//
// Lesson (seed 002's shared-memory channel, the app side): after IOCTL_SHAREDMEM_MAP the
// driver's buffer is also at an address in this process. The app:
//  1. asks for the mapping and prints its address (the driver's kernel address is a
//     different number: the driver prints it);
//  2. asks the driver to post a message (the request carries no data) and reads the
//     message straight from the mapping, with no further copy;
//  3. writes a reply into the mapping and asks the driver what it sees (the driver reads
//     its own kernel address);
//  4. asks for a second message: the same bytes of the mapping now hold the new text;
//  5. asks the driver to unmap (in this process, where the mapping is) before closing,
//     and does not touch the old address afterwards.
// UNICODE build (CreateFileW through the CreateFile macro).
#include <windows.h>
#include <winioctl.h>
#include <stdio.h>
#include <string.h>

#include "../../drivers/sharedmem/sharedmem_public.h"

static BOOL Control(HANDLE device, DWORD code, const char* what, void* output, DWORD outLength, DWORD* returned)
{
    *returned = 0;
    if (DeviceIoControl(device, code, NULL, 0, output, outLength, returned, NULL))
        return TRUE;
    printf("%s failed, GetLastError() = %lu\n", what, GetLastError());
    return FALSE;
}

int main(void)
{
    HANDLE device = CreateFile(TEXT(SHAREDMEM_WIN32_NAME), GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile(%s) failed, GetLastError() = %lu\n", SHAREDMEM_WIN32_NAME, GetLastError());
        return 1;
    }
    DWORD returned = 0;
    SHAREDMEM_MAPPING mapping = {0};
    if (!Control(device, IOCTL_SHAREDMEM_MAP, "IOCTL_SHAREDMEM_MAP", &mapping, sizeof(mapping), &returned)) {
        CloseHandle(device);
        return 1;
    }
    char* shared = (char*)(ULONG_PTR)mapping.UserAddress;
    printf("1: the driver's buffer is mapped at %p in this process (%lu bytes)\n", shared, mapping.Size);

    Control(device, IOCTL_SHAREDMEM_POST_MESSAGE, "IOCTL_SHAREDMEM_POST_MESSAGE", NULL, 0, &returned);
    printf("2: read through the mapping: \"%s\"\n", shared + SHAREDMEM_MESSAGE_OFFSET);

    strcpy(shared + SHAREDMEM_REPLY_OFFSET, "reply from the app, written in place");
    char seen[SHAREDMEM_TEXT_MAX] = {0};
    if (Control(device, IOCTL_SHAREDMEM_READ_REPLY, "IOCTL_SHAREDMEM_READ_REPLY", seen, sizeof(seen) - 1, &returned))
        printf("3: the driver sees %lu bytes at its own address: \"%s\"\n", returned, seen);

    Control(device, IOCTL_SHAREDMEM_POST_MESSAGE, "IOCTL_SHAREDMEM_POST_MESSAGE", NULL, 0, &returned);
    printf("4: the same address now reads: \"%s\"\n", shared + SHAREDMEM_MESSAGE_OFFSET);

    if (Control(device, IOCTL_SHAREDMEM_UNMAP, "IOCTL_SHAREDMEM_UNMAP", NULL, 0, &returned))
        printf("5: unmapped; %p is no longer this process's memory\n", shared);
    CloseHandle(device);
    return 0;
}
