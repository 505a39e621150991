// seh.cpp - structured exceptions before the SEH runtime: every raise is unhandled.
//
// Driver __try/__except frames do not exist yet (issue 3's SEH work replaces this file
// with the frame stack and the fault integration). Until then a raised exception
// (ExRaiseStatus-style: a semaphore released past its limit, ...) has no handler to reach,
// which on Windows is bug check KMODE_EXCEPTION_NOT_HANDLED (0x1E) naming the raise site;
// capture() runs its body without a frame, and copy() copies plainly.
#include "ke/seh.h"

#include <cstring>

#include "ke/bugcheck.h"
#include "wdm_impl.h"

namespace iosim::seh {

void raise(NTSTATUS code, const void* pc)
{
    const void* where = pc != nullptr ? pc : __builtin_return_address(0);
    bugcheck(KMODE_EXCEPTION_NOT_HANDLED, static_cast<ULONG>(code), reinterpret_cast<ULONG_PTR>(where), 0, 0, where,
             nullptr, "A structured exception was raised and no exception handler can catch it.");
}

void raise_access_violation(const void* address, bool write, const void* pc) { raise(STATUS_ACCESS_VIOLATION, pc); }

NTSTATUS capture(void (*body)(void*), void* context, ExceptionRecord* record)
{
    body(context);
    return STATUS_SUCCESS;
}

NTSTATUS copy(void* to, const void* from, size_t n)
{
    std::memcpy(to, from, n);
    return STATUS_SUCCESS;
}

bool frame_active() { return false; }

}  // namespace iosim::seh
