// ob_exports.cpp - the object manager routines drivers call.
// NT counterparts: ObfReferenceObject, ObfDereferenceObject, ObReferenceObjectByPointer,
// ObReferenceObjectByHandle, ObOpenObjectByPointer, ObMakeTemporaryObject.
#include "ob/kernel_handle.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

ob::ObjectType* as_type(POBJECT_TYPE type) { return reinterpret_cast<ob::ObjectType*>(type); }

}  // namespace

extern "C" {

LONG_PTR ObfReferenceObject(PVOID Object) { return ob::reference(Object); }

LONG_PTR ObfDereferenceObject(PVOID Object) { return ob::dereference(Object); }

NTSTATUS ObReferenceObjectByPointer(PVOID Object, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                    KPROCESSOR_MODE AccessMode)
{
    if (!ob::is_object(Object))
        return STATUS_INVALID_PARAMETER;
    if (ObjectType != nullptr && ob::header_of(Object)->type != as_type(ObjectType))
        return STATUS_OBJECT_TYPE_MISMATCH;
    ob::reference(Object);
    return STATUS_SUCCESS;
}

NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID* Object,
                                   POBJECT_HANDLE_INFORMATION HandleInformation)
{
    // A kernel handle (OBJ_KERNEL_HANDLE) is looked up in the System process's table, and
    // only for a kernel-mode caller; any other handle in the current process's table.
    void* body = nullptr;
    ACCESS_MASK granted = 0;
    NTSTATUS status = ob::reference_by_handle(Handle, AccessMode, ObjectType != nullptr ? as_type(ObjectType) : nullptr,
                                              &body, &granted);
    if (status < 0)
        return status;
    if (AccessMode == UserMode && (granted & DesiredAccess) != DesiredAccess) {
        ob::dereference(body);
        return STATUS_ACCESS_DENIED;
    }
    *Object = body;
    if (HandleInformation != nullptr) {
        HandleInformation->GrantedAccess = granted;
        HandleInformation->HandleAttributes = 0;
    }
    return STATUS_SUCCESS;
}

// A handle to an object the caller holds a pointer to: a kernel handle with
// OBJ_KERNEL_HANDLE (usable only from kernel mode), else one in the current process's
// table. The handle grants DesiredAccess (no access state or security descriptor is
// evaluated: iosim objects have none).
NTSTATUS ObOpenObjectByPointer(PVOID Object, ULONG HandleAttributes, PVOID PassedAccessState,
                               ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                               PHANDLE Handle)
{
    if (!ob::is_object(Object))
        return STATUS_INVALID_PARAMETER;
    if (ObjectType != nullptr && ob::header_of(Object)->type != as_type(ObjectType))
        return STATUS_OBJECT_TYPE_MISMATCH;
    if ((HandleAttributes & OBJ_KERNEL_HANDLE) != 0 && AccessMode == KernelMode) {
        *Handle = ob::insert_kernel_handle(Object, DesiredAccess);
        return STATUS_SUCCESS;
    }
    Process* process = current_process();
    if (process == nullptr)
        return STATUS_INVALID_PARAMETER;
    *Handle = process->handles().insert(Object, DesiredAccess);
    return STATUS_SUCCESS;
}

void ObMakeTemporaryObject(PVOID Object)
{
    if (System* sys = System::current())
        sys->ns().make_temporary(Object);
}

}  // extern "C"
