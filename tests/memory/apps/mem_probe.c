/* mem_probe.c - an app that says what kind of memory its buffers are.
 *
 * For a stack array, a malloc block, a HeapAlloc block and a VirtualAlloc region it
 * prints one line "<what> <address> <state> <type> <allocation base>" from VirtualQuery,
 * so a test can check that each lives in the process's own user space (committed,
 * private memory). Then it exercises VirtualAlloc's reserve/commit/decommit/release and
 * VirtualProtect, printing the results the Windows documentation promises. Each call
 * is made before the printf that shows it (argument evaluation order is unspecified). */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static void show(const char *what, const void *p)
{
    MEMORY_BASIC_INFORMATION mbi;
    SIZE_T n = VirtualQuery(p, &mbi, sizeof(mbi));
    if (n == 0) {
        printf("%s %p none error=%lu\n", what, p, GetLastError());
        return;
    }
    printf("%s %p %s %s base=%p\n", what, p,
           mbi.State == MEM_COMMIT ? "commit" : mbi.State == MEM_RESERVE ? "reserve" : "free",
           mbi.Type == MEM_PRIVATE ? "private" : "other", mbi.AllocationBase);
}

int main(void)
{
    char stack_buffer[64];
    char *heap = (char *)malloc(100);
    void *h = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 5000);
    char *v = (char *)VirtualAlloc(NULL, 3 * 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    char *r;
    DWORD old = 0;
    BOOL ok;

    stack_buffer[0] = 1;
    show("stack", stack_buffer);
    show("malloc", heap);
    show("heapalloc", h);
    show("virtualalloc", v);
    printf("virtualalloc-aligned %d\n", ((ULONG_PTR)v & 0xFFFF) == 0);
    printf("heapalloc-zeroed %d\n", ((unsigned char *)h)[4999] == 0);

    /* Reserve without commit, then commit one page in the middle. */
    r = (char *)VirtualAlloc(NULL, 4 * 4096, MEM_RESERVE, PAGE_READWRITE);
    show("reserved", r + 4096);
    printf("commit-middle %d\n", VirtualAlloc(r + 4096 + 10, 1, MEM_COMMIT, PAGE_READWRITE) == r + 4096);
    show("committed", r + 4096);
    show("still-reserved", r + 2 * 4096);
    r[4096] = 42;
    ok = VirtualProtect(r + 4096, 1, PAGE_READONLY, &old);
    printf("protect %d old=%lu\n", ok, old);
    ok = VirtualFree(r, 4096, MEM_RELEASE);
    printf("release-with-size %d error=%lu\n", ok, GetLastError());
    ok = VirtualFree(r + 4096, 0, MEM_RELEASE);
    printf("release-not-base %d error=%lu\n", ok, GetLastError());
    printf("decommit %d\n", VirtualFree(r + 4096, 4096, MEM_DECOMMIT));
    show("decommitted", r + 4096);
    printf("release %d\n", VirtualFree(r, 0, MEM_RELEASE));
    show("released", r);

    heap = (char *)realloc(heap, 10000);
    heap[9999] = 7;
    show("realloc", heap);
    free(heap);
    HeapFree(GetProcessHeap(), 0, h);
    ok = HeapFree(GetProcessHeap(), 0, (void *)stack_buffer);
    printf("heapfree-bad %d error=%lu\n", ok, GetLastError());
    VirtualFree(v, 0, MEM_RELEASE);
    return 0;
}
