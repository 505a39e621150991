// seh.h - structured exception handling inside iosim: raising, and catching in iosim's own code.
//
// Windows kernel code reports bad user buffers by raising a structured exception
// (ExRaiseStatus, ProbeForRead, MmProbeAndLockPages, or a page fault on a user address)
// which the nearest __try/__except catches. iosim keeps one stack of handler frames per
// host thread: driver __try blocks (shim/common/iosim_seh.h) and iosim's own capture()
// calls push frames; raise() and the fault handler (ke/fault.cpp) transfer control to the
// innermost one. With no frame, the exception is a bug check: KMODE_EXCEPTION_NOT_HANDLED
// (0x1E) for a raise, PAGE_FAULT_IN_NONPAGED_AREA (0x50) for a fault.
//
// capture() bodies must not own objects with destructors at the point an exception can
// happen: control leaves them with siglongjmp.
// NT counterparts: RtlRaiseStatus, RtlDispatchException, the kernel's try/except frames.
#pragma once

#include <string>
#include <type_traits>

#include "nt.h"

namespace iosim::seh {

// What the innermost handler receives (EXCEPTION_RECORD's essentials).
struct ExceptionRecord {
    NTSTATUS code = 0;
    const void* pc = nullptr;            // where it was raised, or the faulting instruction
    ULONG_PTR fault_address = 0;         // access violations: the address touched
    bool write = false;                  // access violations: a write
};

// Raises `code` on this thread: control goes to the innermost handler frame; with none,
// bug check 0x1E naming `pc` (the raising call's return address if nullptr).
[[noreturn]] void raise(NTSTATUS code, const void* pc = nullptr);
// Raises STATUS_ACCESS_VIOLATION for `address` (what a fault on a user address becomes).
[[noreturn]] void raise_access_violation(const void* address, bool write, const void* pc = nullptr);

// Runs body(context) with a handler frame: returns STATUS_SUCCESS, or the code of a
// structured exception raised inside (the record, if asked for).
NTSTATUS capture(void (*body)(void*), void* context, ExceptionRecord* record = nullptr);
template <class F>
NTSTATUS capture(F&& f, ExceptionRecord* record = nullptr)
{
    return capture([](void* c) { (*static_cast<std::remove_reference_t<F>*>(c))(); }, &f, record);
}

// Copies n bytes; STATUS_ACCESS_VIOLATION if either side faults (a bad user buffer).
NTSTATUS copy(void* to, const void* from, size_t n);

// True while this thread has a handler frame (the fault handler asks): an __except, or
// a capture(). A __finally alone handles nothing.
bool frame_active();

// The fault handler's side (ke/fault.cpp). In the signal handler: keep the faulting
// registers for GetExceptionInformation()->ContextRecord (copies only). Then, back on the
// faulting thread's own stack: raise the exception the fault became (record.pc is the
// faulting instruction, not a return address).
void record_fault_context(const void* ucontext);
[[noreturn]] void raise_fault(const ExceptionRecord& record);

// The innermost frame's source line ("seh_driver.c:42"), for reports; empty if none.
std::string innermost_frame_location();

}  // namespace iosim::seh
