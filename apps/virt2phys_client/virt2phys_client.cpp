// virt2phys_client.cpp - sample app: where do my pages live in physical memory?
//
// Lesson (seed 001, "VirtToPhys", the app side): the app asks the virt2phys driver for
// the physical address behind each page of two of its buffers and prints them side by
// side with the virtual addresses:
//  - a 4-page VirtualAlloc region: virtually one block of 16 KiB, physically four frames
//    wherever the memory manager found them;
//  - a 3-page array on its own stack, which spans 4 pages because it does not start on a
//    page boundary (the first entry keeps that byte offset in both addresses).
// For each page after the first it says whether the frame follows the previous page's
// frame. Each page is written before the question: on Windows a committed page gets its
// frame when it is first touched. The request is METHOD_BUFFERED, so the driver never
// touches these buffers; it only translates their addresses, in this process's context.
// UNICODE build (CreateFileW through the CreateFile macro).
#include <windows.h>
#include <winioctl.h>
#include <stdio.h>
#include <string.h>

#include "../../drivers/virt2phys/virt2phys_public.h"

#define PAGE 4096

// Asks for the pages of [buffer, buffer + length) and prints them; returns FALSE on failure.
static BOOL ShowPages(HANDLE device, const char* what, void* buffer, DWORD length)
{
    VIRT2PHYS_REQUEST request = {0};
    VIRT2PHYS_PAGE pages[VIRT2PHYS_MAX_PAGES];
    DWORD returned = 0;
    request.VirtualAddress = (ULONGLONG)(ULONG_PTR)buffer;
    request.Length = length;
    if (!DeviceIoControl(device, IOCTL_VIRT2PHYS_QUERY, &request, sizeof(request), pages, sizeof(pages), &returned,
                         NULL)) {
        printf("%s: DeviceIoControl failed, GetLastError() = %lu\n", what, GetLastError());
        return FALSE;
    }
    DWORD count = returned / sizeof(VIRT2PHYS_PAGE);
    DWORD consecutive = 0;
    printf("%s: %lu bytes at %p, %lu pages\n", what, length, buffer, count);
    for (DWORD i = 0; i < count; i++) {
        printf("  page %lu  virtual %p  physical %016llX", i, (void*)(ULONG_PTR)pages[i].VirtualAddress,
               pages[i].PhysicalAddress);
        if (i > 0) {
            // Compare frames, not addresses: the first entry carries a byte offset.
            ULONGLONG previous = pages[i - 1].PhysicalAddress & ~(ULONGLONG)(PAGE - 1);
            BOOL follows = pages[i].PhysicalAddress == previous + PAGE;
            consecutive += follows ? 1 : 0;
            printf("  %s page %lu", follows ? "physically follows" : "does not follow", i - 1);
        }
        printf("\n");
    }
    printf("  %lu of %lu neighbouring pages are neighbours in physical memory too\n", consecutive,
           count > 0 ? count - 1 : 0);
    return TRUE;
}

int main(void)
{
    HANDLE device = CreateFile(TEXT(VIRT2PHYS_WIN32_NAME), GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        printf("CreateFile(%s) failed, GetLastError() = %lu\n", VIRT2PHYS_WIN32_NAME, GetLastError());
        return 1;
    }

    // Four pages in one VirtualAlloc region, each written once so it has its frame.
    char* region = (char*)VirtualAlloc(NULL, 4 * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (region == NULL) {
        printf("VirtualAlloc failed, GetLastError() = %lu\n", GetLastError());
        CloseHandle(device);
        return 1;
    }
    for (int i = 0; i < 4; i++)
        region[i * PAGE] = (char)('A' + i);
    BOOL ok = ShowPages(device, "VirtualAlloc region", region, 4 * PAGE);

    // Three pages' worth of stack: the array starts wherever the stack pointer left it.
    char onStack[3 * PAGE];
    memset(onStack, 0x5A, sizeof(onStack));
    ok = ShowPages(device, "stack array", onStack, sizeof(onStack)) && ok;

    VirtualFree(region, 0, MEM_RELEASE);
    CloseHandle(device);
    return ok ? 0 : 1;
}
