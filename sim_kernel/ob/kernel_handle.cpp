// kernel_handle.cpp - the kernel handle table (the System process's) and handle routing.
// NT counterparts: ObpKernelHandleTable, ObKernelHandleToHandle, ObReferenceObjectByHandle,
// ObCloseHandle.
#include "ob/kernel_handle.h"

#include <cstdint>

#include "ob/handle_table.h"
#include "ps/process.h"
#include "system.h"

namespace iosim::ob {

namespace {

// KERNEL_HANDLE_MASK on 64-bit Windows: kernel handles are sign-extended 32-bit values
// with bit 31 set.
constexpr uintptr_t kKernelHandleMask = 0xFFFFFFFF80000000ull;
const HANDLE kCurrentProcess = reinterpret_cast<HANDLE>(static_cast<intptr_t>(-1));
const HANDLE kCurrentThread = reinterpret_cast<HANDLE>(static_cast<intptr_t>(-2));

}  // namespace

bool is_kernel_handle(HANDLE handle)
{
    return reinterpret_cast<intptr_t>(handle) < 0 && handle != kCurrentProcess && handle != kCurrentThread;
}

HANDLE insert_kernel_handle(void* object, ACCESS_MASK granted)
{
    Process* system = System::current()->system_process();
    HANDLE local = system->handles().insert(object, granted);
    return reinterpret_cast<HANDLE>(reinterpret_cast<uintptr_t>(local) | kKernelHandleMask);
}

HandleTable* table_for(HANDLE handle, KPROCESSOR_MODE mode, Process** owner, HANDLE* local)
{
    if (is_kernel_handle(handle)) {
        // Only kernel-mode callers may use kernel handles; user mode gets "invalid".
        if (mode != KernelMode)
            return nullptr;
        Process* system = System::current()->system_process();
        *owner = system;
        *local = reinterpret_cast<HANDLE>(reinterpret_cast<uintptr_t>(handle) & ~kKernelHandleMask);
        return &system->handles();
    }
    Process* process = current_process();
    if (process == nullptr)
        return nullptr;
    *owner = process;
    *local = handle;
    return &process->handles();
}

NTSTATUS reference_by_handle(HANDLE handle, KPROCESSOR_MODE mode, const ObjectType* type, void** object,
                             ACCESS_MASK* granted)
{
    Process* owner = nullptr;
    HANDLE local = nullptr;
    HandleTable* table = table_for(handle, mode, &owner, &local);
    if (table == nullptr)
        return STATUS_INVALID_HANDLE;
    return table->reference(local, type, object, granted);
}

NTSTATUS close_by_handle(HANDLE handle, KPROCESSOR_MODE mode)
{
    Process* owner = nullptr;
    HANDLE local = nullptr;
    HandleTable* table = table_for(handle, mode, &owner, &local);
    if (table == nullptr)
        return STATUS_INVALID_HANDLE;
    return table->close(owner, local);
}

}  // namespace iosim::ob
