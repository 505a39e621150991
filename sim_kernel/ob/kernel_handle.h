// kernel_handle.h - kernel handles (OBJ_KERNEL_HANDLE) and which handle table a handle
// belongs to.
//
// A handle opened with OBJ_KERNEL_HANDLE lives in the System process's handle table and is
// valid in any process context, so a driver may use it from DriverEntry, a dispatch
// routine running in an app's thread, or a system thread alike. As on 64-bit Windows its
// value has the top bits set (0xFFFFFFFF80000000 | table handle), so it can never be
// mistaken for an ordinary handle: looking it up in a process's own table fails, and a
// lookup on behalf of user mode refuses it (STATUS_INVALID_HANDLE).
// Any other handle belongs to the current process's table - which, for a driver running
// in an app's thread, is the app's table: the classic reason to use OBJ_KERNEL_HANDLE.
// NT counterparts: ObpKernelHandleTable, KERNEL_HANDLE_MASK, ObKernelHandleToHandle,
// IsKernelHandle, ObReferenceObjectByHandle, ObCloseHandle.
#pragma once

#include "nt.h"
#include "ob/object.h"

namespace iosim::ob {

class HandleTable;

// True for a kernel handle value (NtCurrentProcess() and NtCurrentThread(), -1 and -2,
// are pseudo-handles, not kernel handles).
bool is_kernel_handle(HANDLE handle);

// A handle for `object` in the System process's table, returned in its kernel form.
HANDLE insert_kernel_handle(void* object, ACCESS_MASK granted);

// The table `handle` refers to for a caller in `mode`, and the handle value inside that
// table; nullptr (STATUS_INVALID_HANDLE) for a kernel handle used from user mode.
HandleTable* table_for(HANDLE handle, KPROCESSOR_MODE mode, Process** owner, HANDLE* local);

// ObReferenceObjectByHandle's lookup: references the object behind `handle` as seen by a
// caller in `mode`. `type` may be null (any type).
NTSTATUS reference_by_handle(HANDLE handle, KPROCESSOR_MODE mode, const ObjectType* type, void** object,
                             ACCESS_MASK* granted);

// ObCloseHandle: closes `handle` as seen by a caller in `mode`.
NTSTATUS close_by_handle(HANDLE handle, KPROCESSOR_MODE mode);

}  // namespace iosim::ob
