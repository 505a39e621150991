// probe.cpp - ProbeForRead and ProbeForWrite: is a user buffer where a user buffer must be?
//
// Rules (the wdm.h documentation of both routines):
//  - Length 0: nothing is checked and nothing is raised, not even for a misaligned or a
//    kernel address.
//  - Alignment is 1, 2, 4, 8 or 16 (Windows' checked kernel asserts it; iosim reports the
//    finding PROBE_BAD_ALIGNMENT and goes on with the value given, as a free build does).
//  - Address not a multiple of Alignment: STATUS_DATATYPE_MISALIGNMENT.
//  - The range wraps around the top of the address space, or reaches kernel memory:
//    STATUS_ACCESS_VIOLATION. iosim's user spaces and system space are not split by one
//    MmUserProbeAddress line, so "kernel memory" is asked of the memory manager: any part
//    of the range in system space, or its first or last byte in a driver image.
//  - ProbeForRead does not touch the buffer: a freed or foreign user page passes, and the
//    later access faults (inside the driver's __try). ProbeForWrite touches the first byte
//    and one byte of every following page for write: a page that is not writable now
//    raises STATUS_ACCESS_VIOLATION for that address.
//  - Exceptions are raised at the driver's call: its __except sees them; with none, the
//    bug check report names the driver's line.
// NT counterparts: ProbeForRead, ProbeForWrite.
#include <fmt/format.h>

#include "ke/seh.h"
#include "ldr/symbolize.h"
#include "mm/memory_manager.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim::mm {

namespace {

bool valid_alignment(ULONG alignment)
{
    return alignment == 1 || alignment == 2 || alignment == 4 || alignment == 8 || alignment == 16;
}

bool is_kernel(Region region) { return region == Region::System || region == Region::DriverImage; }

// The checks both probes share; raises at `caller` (the driver's call).
void check_range(const char* routine, const volatile void* address, SIZE_T length, ULONG alignment,
                 const void* caller)
{
    if (!valid_alignment(alignment))
        if (System* system = System::current())
            system->report(Finding{"PROBE_BAD_ALIGNMENT",
                                   fmt::format("{} was called with Alignment {}; it must be 1, 2, 4, 8 or 16 (the "
                                               "size of the buffer's base data type). Windows' checked kernel "
                                               "asserts this.",
                                               routine, alignment),
                                   ldr::describe_call_site(caller),
                                   {}});
    auto start = reinterpret_cast<ULONG_PTR>(address);
    if ((start & (alignment - 1)) != 0)
        seh::raise(STATUS_DATATYPE_MISALIGNMENT, caller);
    ULONG_PTR end = start + length;  // one past the last byte
    if (end < start)
        seh::raise_access_violation(const_cast<const void*>(address), false, caller);
    MemoryManager* memory = current();
    if (memory == nullptr)
        return;
    AddressSpace& system_space = memory->system_space();
    if (start < system_space.base() + system_space.size() && end > system_space.base())
        seh::raise_access_violation(const_cast<const void*>(address), false, caller);
    if (is_kernel(memory->classify(const_cast<const void*>(address)).region) ||
        is_kernel(memory->classify(reinterpret_cast<const void*>(end - 1)).region))
        seh::raise_access_violation(const_cast<const void*>(address), false, caller);
}

struct Touch {
    volatile char* first;
    ULONG_PTR last;  // address of the last byte
};

// A null or unmapped first byte is the point of the probe (it faults, and the fault is
// raised as STATUS_ACCESS_VIOLATION), so UBSan's null check must not stop it first.
__attribute__((no_sanitize("null"))) void touch_for_write(void* context)
{
    auto* t = static_cast<Touch*>(context);
    // The first byte, then the first byte of every following page of the range.
    char value = *t->first;
    *t->first = value;
    for (ULONG_PTR page = page_down(reinterpret_cast<ULONG_PTR>(t->first)) + kPageSize; page <= t->last;
         page += kPageSize) {
        auto* p = reinterpret_cast<volatile char*>(page);
        value = *p;
        *p = value;
    }
}

}  // namespace

}  // namespace iosim::mm

using namespace iosim;

extern "C" {

void ProbeForRead(const volatile void* Address, SIZE_T Length, ULONG Alignment)
{
    if (Length == 0)
        return;
    mm::check_range("ProbeForRead", Address, Length, Alignment, __builtin_return_address(0));
}

void ProbeForWrite(volatile void* Address, SIZE_T Length, ULONG Alignment)
{
    if (Length == 0)
        return;
    const void* caller = __builtin_return_address(0);
    mm::check_range("ProbeForWrite", Address, Length, Alignment, caller);
    mm::Touch touch{static_cast<volatile char*>(Address), reinterpret_cast<ULONG_PTR>(Address) + Length - 1};
    seh::ExceptionRecord record;
    if (seh::capture(&mm::touch_for_write, &touch, &record) != STATUS_SUCCESS)
        seh::raise_access_violation(reinterpret_cast<const void*>(record.fault_address), true, caller);
}

}  // extern "C"
