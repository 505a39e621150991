// memory.cpp - kernel32's memory routines: the process heap, HeapCreate heaps,
// VirtualAlloc and friends, LocalAlloc/GlobalAlloc, and the C heap of app code.
//
// Everything an app allocates lives in its own process's user address space
// (sim_kernel/mm): the process heap (GetProcessHeap, malloc via the shim's iosim_malloc,
// LocalAlloc, GlobalAlloc), other heaps (HeapCreate) and VirtualAlloc regions, whose
// reservations are 64 KiB aligned as on Windows. So a driver reaches an app's buffer at
// the address the app sees, in the app's context only.
// HeapAlloc does not set the last error on failure (Windows does not either); the
// Virtual* routines do. LMEM_MOVEABLE / GMEM_MOVEABLE memory is handed out fixed: the
// handle is the pointer, and LocalLock / GlobalLock return it.
// NT counterparts: RtlAllocateHeap, NtAllocateVirtualMemory, NtFreeVirtualMemory,
// NtProtectVirtualMemory, NtQueryVirtualMemory.
#include <cstdlib>
#include <cstring>

#include "mm/memory_manager.h"
#include "ps/process.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;

namespace {

constexpr size_t kAllocationGranularity = 16;  // pages: 64 KiB

mm::ProcessMemory* process_memory()
{
    Process* process = current_process();
    return process != nullptr ? process->memory : nullptr;
}

mm::UserHeap* heap_from_handle(HANDLE heap)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr || heap == nullptr)
        return nullptr;
    if (heap == static_cast<HANDLE>(memory->heap.get()))
        return memory->heap.get();
    for (const auto& created : memory->created)
        if (heap == static_cast<HANDLE>(created.get()))
            return created.get();
    return nullptr;
}

// The heap of any process that owns `block` (free() may run after a context change).
mm::UserHeap* owning_heap(const void* block)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr)
        return nullptr;
    if (memory->heap->owns(block))
        return memory->heap.get();
    for (const auto& created : memory->created)
        if (created->owns(block))
            return created.get();
    return nullptr;
}

bool valid_protection(DWORD protect)
{
    switch (protect & 0xFF) {
    case PAGE_NOACCESS:
    case PAGE_READONLY:
    case PAGE_READWRITE:
    case PAGE_EXECUTE:
    case PAGE_EXECUTE_READ:
    case PAGE_EXECUTE_READWRITE:
        return true;
    default:
        return false;
    }
}

}  // namespace

extern "C" {

HANDLE WINAPI GetProcessHeap(void)
{
    mm::ProcessMemory* memory = process_memory();
    return memory != nullptr ? static_cast<HANDLE>(memory->heap.get()) : nullptr;
}

HANDLE WINAPI HeapCreate(DWORD flOptions, SIZE_T dwInitialSize, SIZE_T dwMaximumSize)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr) {
        win32::set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return nullptr;
    }
    size_t pages = dwMaximumSize != 0 ? std::max<size_t>(mm::pages_for(dwMaximumSize), 16) : size_t{1} << 14;
    memory->created.push_back(std::make_unique<mm::UserHeap>(*memory->space, pages));
    return static_cast<HANDLE>(memory->created.back().get());
}

BOOL WINAPI HeapDestroy(HANDLE hHeap)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory != nullptr) {
        for (auto it = memory->created.begin(); it != memory->created.end(); ++it) {
            if (static_cast<HANDLE>(it->get()) == hHeap) {
                // The heap's memory stays reserved until the process ends; its blocks are dead.
                memory->created.erase(it);
                return TRUE;
            }
        }
    }
    win32::set_last_error(ERROR_INVALID_HANDLE);
    return FALSE;
}

LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)
{
    mm::UserHeap* heap = heap_from_handle(hHeap);
    return heap != nullptr ? heap->allocate(dwBytes, (dwFlags & HEAP_ZERO_MEMORY) != 0) : nullptr;
}

LPVOID WINAPI HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes)
{
    mm::UserHeap* heap = heap_from_handle(hHeap);
    if (heap == nullptr || lpMem == nullptr)
        return nullptr;
    return heap->reallocate(lpMem, dwBytes, (dwFlags & HEAP_ZERO_MEMORY) != 0,
                            (dwFlags & HEAP_REALLOC_IN_PLACE_ONLY) != 0);
}

BOOL WINAPI HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)
{
    if (lpMem == nullptr)
        return TRUE;
    mm::UserHeap* heap = heap_from_handle(hHeap);
    if (heap == nullptr || !heap->free(lpMem)) {
        win32::set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    return TRUE;
}

SIZE_T WINAPI HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem)
{
    mm::UserHeap* heap = heap_from_handle(hHeap);
    return heap != nullptr ? heap->size_of(lpMem) : static_cast<SIZE_T>(-1);
}

LPVOID WINAPI VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType, DWORD flProtect)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr) {
        win32::set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return nullptr;
    }
    bool reserve = (flAllocationType & MEM_RESERVE) != 0;
    bool commit = (flAllocationType & MEM_COMMIT) != 0;
    if ((!reserve && !commit) || dwSize == 0 || !valid_protection(flProtect)) {
        win32::set_last_error(ERROR_INVALID_PARAMETER);
        return nullptr;
    }
    mm::AddressSpace& space = *memory->space;
    uintptr_t address = mm::addr(lpAddress);
    if (reserve) {
        // A reservation starts on a 64 KiB boundary and covers whole pages.
        uintptr_t base = address & ~(kAllocationGranularity * mm::kPageSize - 1);
        size_t pages = mm::pages_for(address + dwSize - base);
        void* at = space.reserve(pages, "VirtualAlloc", flProtect, base, kAllocationGranularity);
        if (at == nullptr) {
            win32::set_last_error(lpAddress != nullptr ? ERROR_INVALID_ADDRESS : ERROR_NOT_ENOUGH_MEMORY);
            return nullptr;
        }
        if (commit && !NT_SUCCESS(space.commit(at, pages, flProtect))) {
            space.release(at);
            win32::set_last_error(ERROR_NOT_ENOUGH_MEMORY);
            return nullptr;
        }
        return at;
    }
    // MEM_COMMIT alone: pages inside an existing reservation.
    if (lpAddress == nullptr) {
        win32::set_last_error(ERROR_INVALID_ADDRESS);
        return nullptr;
    }
    uintptr_t first = mm::page_down(address);
    size_t pages = mm::pages_spanned(address, dwSize);
    if (!space.contains(lpAddress) || !NT_SUCCESS(space.commit(reinterpret_cast<void*>(first), pages, flProtect))) {
        win32::set_last_error(ERROR_INVALID_ADDRESS);
        return nullptr;
    }
    return reinterpret_cast<LPVOID>(first);
}

BOOL WINAPI VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr || lpAddress == nullptr || !memory->space->contains(lpAddress)) {
        win32::set_last_error(ERROR_INVALID_ADDRESS);
        return FALSE;
    }
    mm::AddressSpace& space = *memory->space;
    if (dwFreeType == MEM_RELEASE) {
        // Only a whole reservation, named by its base, with a size of 0.
        if (dwSize != 0) {
            win32::set_last_error(ERROR_INVALID_PARAMETER);
            return FALSE;
        }
        mm::PageInfo info = space.lookup(lpAddress);
        if (!info.reserved || info.vad.base != mm::addr(lpAddress) || info.vad.purpose != "VirtualAlloc") {
            win32::set_last_error(ERROR_INVALID_ADDRESS);
            return FALSE;
        }
        space.release(lpAddress);
        return TRUE;
    }
    if (dwFreeType == MEM_DECOMMIT) {
        mm::PageInfo info = space.lookup(lpAddress);
        if (!info.reserved || info.vad.purpose != "VirtualAlloc") {
            win32::set_last_error(ERROR_INVALID_ADDRESS);
            return FALSE;
        }
        uintptr_t address = mm::addr(lpAddress);
        uintptr_t first = mm::page_down(address);
        size_t pages = dwSize == 0 ? (info.vad.end() - first) / mm::kPageSize : mm::pages_spanned(address, dwSize);
        if (first + pages * mm::kPageSize > info.vad.end()) {
            win32::set_last_error(ERROR_INVALID_PARAMETER);
            return FALSE;
        }
        space.decommit(reinterpret_cast<void*>(first), pages);
        return TRUE;
    }
    win32::set_last_error(ERROR_INVALID_PARAMETER);
    return FALSE;
}

BOOL WINAPI VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect, PDWORD lpflOldProtect)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr || lpAddress == nullptr || !valid_protection(flNewProtect)) {
        win32::set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    ULONG old = 0;
    uintptr_t address = mm::addr(lpAddress);
    NTSTATUS status = memory->space->protect(reinterpret_cast<void*>(mm::page_down(address)),
                                             mm::pages_spanned(address, dwSize), flNewProtect, &old);
    if (!NT_SUCCESS(status)) {
        win32::set_last_error(ERROR_INVALID_ADDRESS);
        return FALSE;
    }
    if (lpflOldProtect != nullptr)
        *lpflOldProtect = old;
    return TRUE;
}

SIZE_T WINAPI VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr || lpBuffer == nullptr || dwLength < sizeof(MEMORY_BASIC_INFORMATION) ||
        !memory->space->contains(lpAddress)) {
        win32::set_last_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    std::memset(lpBuffer, 0, sizeof(*lpBuffer));
    uintptr_t page = mm::page_down(mm::addr(lpAddress));
    mm::PageInfo info = memory->space->lookup(reinterpret_cast<void*>(page));
    lpBuffer->BaseAddress = reinterpret_cast<PVOID>(page);
    if (!info.reserved) {
        lpBuffer->State = MEM_FREE;
        lpBuffer->Protect = PAGE_NOACCESS;
        lpBuffer->RegionSize = mm::kPageSize;
        return sizeof(*lpBuffer);
    }
    lpBuffer->AllocationBase = reinterpret_cast<PVOID>(info.vad.base);
    lpBuffer->AllocationProtect = info.vad.protect;
    lpBuffer->Type = info.vad.purpose == "MDL mapping" ? MEM_MAPPED : MEM_PRIVATE;
    lpBuffer->State = info.committed ? MEM_COMMIT : MEM_RESERVE;
    lpBuffer->Protect = info.committed ? info.protect : 0;
    // The region: following pages in the same state and protection.
    size_t size = 0;
    for (uintptr_t p = page; p < info.vad.end(); p += mm::kPageSize) {
        mm::PageInfo next = memory->space->lookup(reinterpret_cast<void*>(p));
        if (next.committed != info.committed || (info.committed && next.protect != info.protect))
            break;
        size += mm::kPageSize;
    }
    lpBuffer->RegionSize = size;
    return sizeof(*lpBuffer);
}

HLOCAL WINAPI LocalAlloc(UINT uFlags, SIZE_T uBytes)
{
    mm::ProcessMemory* memory = process_memory();
    void* block = memory != nullptr ? memory->heap->allocate(uBytes, (uFlags & LMEM_ZEROINIT) != 0) : nullptr;
    if (block == nullptr)
        win32::set_last_error(ERROR_NOT_ENOUGH_MEMORY);
    return static_cast<HLOCAL>(block);
}

HLOCAL WINAPI LocalFree(HLOCAL hMem)
{
    if (hMem == nullptr)
        return nullptr;
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr || !memory->heap->free(hMem)) {
        win32::set_last_error(ERROR_INVALID_HANDLE);
        return hMem;
    }
    return nullptr;
}

HGLOBAL WINAPI GlobalAlloc(UINT uFlags, SIZE_T dwBytes) { return LocalAlloc(uFlags, dwBytes); }
HGLOBAL WINAPI GlobalFree(HGLOBAL hMem) { return LocalFree(hMem); }
LPVOID WINAPI LocalLock(HLOCAL hMem) { return hMem; }
BOOL WINAPI LocalUnlock(HLOCAL hMem) { return FALSE; }  // FALSE with no error: the lock count reached zero
LPVOID WINAPI GlobalLock(HGLOBAL hMem) { return hMem; }
BOOL WINAPI GlobalUnlock(HGLOBAL hMem) { return FALSE; }

// ---- the C heap of app code (shim/um/um_cxxcrt.h redirects malloc & co. here) ----

void* iosim_malloc(size_t size)
{
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr)
        return std::malloc(size);
    return memory->heap->allocate(size == 0 ? 1 : size, false);
}

void* iosim_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return nullptr;
    mm::ProcessMemory* memory = process_memory();
    if (memory == nullptr)
        return std::calloc(count, size);
    size_t bytes = count * size;
    return memory->heap->allocate(bytes == 0 ? 1 : bytes, true);
}

void iosim_free(void* block)
{
    if (block == nullptr)
        return;
    if (mm::UserHeap* heap = owning_heap(block)) {
        heap->free(block);
        return;
    }
    if (mm::MemoryManager* manager = mm::current(); manager != nullptr && manager->user_space_of(block) != nullptr)
        return;  // a user-space address that is not a live block: ignore, as the CRT would not crash here either
    std::free(block);  // a block glibc made (strdup, ...)
}

void* iosim_realloc(void* block, size_t size)
{
    if (block == nullptr)
        return iosim_malloc(size);
    if (mm::UserHeap* heap = owning_heap(block))
        return heap->reallocate(block, size == 0 ? 1 : size, false);
    return std::realloc(block, size);
}

size_t iosim_msize(void* block)
{
    mm::UserHeap* heap = owning_heap(block);
    return heap != nullptr ? heap->size_of(block) : static_cast<size_t>(-1);
}

}  // extern "C"
