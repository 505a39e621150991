// assert.cpp - RtlAssert: what a failed ASSERT/NT_ASSERT does in a checked (DBG=1) build.
//
// On Windows a failed assertion prints "*** Assertion failed" and breaks into the kernel
// debugger; with no debugger attached the breakpoint exception is unhandled and the machine
// stops with KMODE_EXCEPTION_NOT_HANDLED (0x1E), parameter 1 = STATUS_BREAKPOINT. iosim has
// no debugger to break into, so a failed assertion always stops the simulated machine,
// with a report naming the expression and the driver line that asserted it.
// Drivers built by iosim_add_driver have DBG=1, so their ASSERTs are live (km_rtl.h).
// NT counterparts: RtlAssert, DbgBreakPoint, KiDispatchException.
#include <string>

#include "ke/bugcheck.h"
#include "wdm_impl.h"

namespace {

// "C:\src\drv\driver.c" or "/home/x/drv/driver.c" -> "driver.c".
std::string base_name(const char* path)
{
    std::string s = path != nullptr ? path : "?";
    auto slash = s.find_last_of("/\\");
    return slash == std::string::npos ? s : s.substr(slash + 1);
}

}  // namespace

extern "C" void RtlAssert(PVOID VoidFailedAssertion, PVOID VoidFileName, ULONG LineNumber, PCHAR MutableMessage)
{
    const char* expression = VoidFailedAssertion != nullptr ? static_cast<const char*>(VoidFailedAssertion) : "?";
    std::string reason = "ASSERT(" + std::string(expression) + ") failed at " +
                         base_name(static_cast<const char*>(VoidFileName)) + ":" + std::to_string(LineNumber) + ": ";
    if (MutableMessage != nullptr && MutableMessage[0] != '\0')
        reason += "\"" + std::string(MutableMessage) + "\". ";
    reason +=
        "the driver's own check says this condition must be true here, and it was false. A checked build stops "
        "at a failed assertion (a breakpoint no debugger handled), so look at what the driver did just before "
        "this line.";
    iosim::bugcheck(KMODE_EXCEPTION_NOT_HANDLED, static_cast<ULONG_PTR>(static_cast<ULONG>(STATUS_BREAKPOINT)), 0, 0,
                    0, __builtin_return_address(0), nullptr, std::move(reason));
}
