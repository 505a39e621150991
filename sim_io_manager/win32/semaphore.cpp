// semaphore.cpp - Win32 semaphores: CreateSemaphore, OpenSemaphore, ReleaseSemaphore.
//
// A semaphore is a kernel Semaphore object (*ExSemaphoreObjectType, ke/semaphore_object.cpp)
// whose body is a KSEMAPHORE, in the process's handle table: WaitForSingleObject takes one
// unit of its count (win32/wait.cpp), and a driver given the handle can
// ObReferenceObjectByHandle(..., *ExSemaphoreObjectType, ...) it and KeReleaseSemaphore it.
// Named semaphores live in \BaseNamedObjects, as events do (sync.cpp).
// Rules kept (Win32 documentation, NtCreateSemaphore, NtReleaseSemaphore):
//  - CreateSemaphore: lMaximumCount > 0 and 0 <= lInitialCount <= lMaximumCount, otherwise
//    NULL with ERROR_INVALID_PARAMETER. An existing name of a semaphore opens it (its count
//    and limit stay), with ERROR_ALREADY_EXISTS; a name of another kind of object: NULL,
//    ERROR_INVALID_HANDLE. The handle has SEMAPHORE_ALL_ACCESS.
//  - OpenSemaphore: the access asked for; an unknown name is ERROR_FILE_NOT_FOUND.
//  - ReleaseSemaphore: lReleaseCount <= 0 is ERROR_INVALID_PARAMETER; a release that would
//    take the count past the maximum fails with ERROR_TOO_MANY_POSTS and leaves the count
//    as it was; a handle without SEMAPHORE_MODIFY_STATE is ERROR_ACCESS_DENIED, a handle to
//    another kind of object ERROR_INVALID_HANDLE. *lpPreviousCount gets the count before.
// NT counterparts: kernel32!CreateSemaphoreW -> NtCreateSemaphore, NtOpenSemaphore,
// NtReleaseSemaphore.
#include "ob/object.h"
#include "ps/process.h"
#include "system.h"
#include "win32/named_object.h"
#include "win32/win32.h"
#include "wdm_impl.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

constexpr ACCESS_MASK kSemaphoreAllAccess = 0x1F0003;  // SEMAPHORE_ALL_ACCESS
constexpr ACCESS_MASK kSemaphoreModifyState = 0x0002;  // SEMAPHORE_MODIFY_STATE

ob::ObjectType& semaphore_type() { return *reinterpret_cast<ob::ObjectType*>(*ExSemaphoreObjectType); }

HANDLE create_semaphore(const char16_t* name, LONG initial, LONG maximum, bool open_only, ACCESS_MASK access)
{
    if (!open_only && (maximum <= 0 || initial < 0 || initial > maximum)) {
        set_last_error(ERROR_INVALID_PARAMETER);  // NtCreateSemaphore: STATUS_INVALID_PARAMETER
        return nullptr;
    }
    return create_or_open_named(name, semaphore_type(), access, open_only, ERROR_INVALID_PARAMETER, [&]() -> void* {
        auto* semaphore = static_cast<KSEMAPHORE*>(ob::create_object(semaphore_type(), sizeof(KSEMAPHORE)));
        KeInitializeSemaphore(semaphore, initial, maximum);
        return semaphore;
    });
}

}  // namespace

extern "C" {

HANDLE WINAPI CreateSemaphoreW(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount, LONG lMaximumCount,
                               LPCWSTR lpName)
{
    return create_semaphore(reinterpret_cast<const char16_t*>(lpName), lInitialCount, lMaximumCount, false,
                            kSemaphoreAllAccess);
}

HANDLE WINAPI CreateSemaphoreA(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount, LONG lMaximumCount,
                               LPCSTR lpName)
{
    std::u16string name = widen(lpName);
    return create_semaphore(lpName != nullptr ? name.c_str() : nullptr, lInitialCount, lMaximumCount, false,
                            kSemaphoreAllAccess);
}

HANDLE WINAPI OpenSemaphoreW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName)
{
    return create_semaphore(reinterpret_cast<const char16_t*>(lpName), 0, 0, true, dwDesiredAccess);
}

HANDLE WINAPI OpenSemaphoreA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName)
{
    std::u16string name = widen(lpName);
    return create_semaphore(lpName != nullptr ? name.c_str() : nullptr, 0, 0, true, dwDesiredAccess);
}

BOOL WINAPI ReleaseSemaphore(HANDLE hSemaphore, LONG lReleaseCount, LPLONG lpPreviousCount)
{
    if (lReleaseCount <= 0) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    auto* semaphore = static_cast<KSEMAPHORE*>(reference_by_handle(hSemaphore, semaphore_type(), kSemaphoreModifyState));
    if (semaphore == nullptr)
        return FALSE;
    LONG previous = semaphore->Header.SignalState;
    if (previous > semaphore->Limit - lReleaseCount) {
        ob::dereference(semaphore);
        set_last_nt_error(STATUS_SEMAPHORE_LIMIT_EXCEEDED);  // ERROR_TOO_MANY_POSTS
        return FALSE;
    }
    KeReleaseSemaphore(semaphore, SEMAPHORE_INCREMENT, lReleaseCount, FALSE);  // wakes the waits it satisfies
    ob::dereference(semaphore);
    if (lpPreviousCount != nullptr)
        *lpPreviousCount = previous;
    set_last_error(ERROR_SUCCESS);
    return TRUE;
}

}  // extern "C"
