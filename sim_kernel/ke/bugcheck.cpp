// bugcheck.cpp - building the bug check report and stopping the machine.
// NT counterparts: KeBugCheckEx, KiDisplayBlueScreen.
#include "ke/bugcheck.h"

#include <fmt/format.h>

#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim {

namespace {

IrpHistoryFormatter g_irp_formatter = nullptr;

struct BugCheckName {
    ULONG code;
    const char* name;
};

constexpr BugCheckName kNames[] = {
    {0x01, "APC_INDEX_MISMATCH"},
    {0x05, "INVALID_PROCESS_ATTACH_ATTEMPT"},
    {0x06, "INVALID_PROCESS_DETACH_ATTEMPT"},
    {0x0A, "IRQL_NOT_LESS_OR_EQUAL"},
    {0x0C, "MAXIMUM_WAIT_OBJECTS_EXCEEDED"},
    {0x0F, "SPIN_LOCK_ALREADY_OWNED"},
    {0x10, "SPIN_LOCK_NOT_OWNED"},
    {0x11, "THREAD_NOT_MUTEX_OWNER"},
    {0x1E, "KMODE_EXCEPTION_NOT_HANDLED"},
    {0x20, "KERNEL_APC_PENDING_DURING_EXIT"},
    {0x35, "NO_MORE_IRP_STACK_LOCATIONS"},
    {0x3B, "SYSTEM_SERVICE_EXCEPTION"},
    {0x3F, "NO_MORE_SYSTEM_PTES"},
    {0x40, "TARGET_MDL_TOO_SMALL"},
    {0x44, "MULTIPLE_IRP_COMPLETE_REQUESTS"},
    {0x50, "PAGE_FAULT_IN_NONPAGED_AREA"},
    {0x76, "PROCESS_HAS_LOCKED_PAGES"},
    {0x7E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"},
    {0xC1, "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION"},
    {0xC2, "BAD_POOL_CALLER"},
    {0xC4, "DRIVER_VERIFIER_DETECTED_VIOLATION"},
    {0xC5, "DRIVER_CORRUPTED_EXPOOL"},
    {0xC9, "DRIVER_VERIFIER_IOMANAGER_VIOLATION"},
    {0xCA, "PNP_DETECTED_FATAL_ERROR"},
    {0xCB, "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS"},
    {0xCC, "PAGE_FAULT_IN_FREED_SPECIAL_POOL"},
    {0xCD, "PAGE_FAULT_BEYOND_END_OF_ALLOCATION"},
    {0xCE, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS"},
    {0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL"},
    {0xD5, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL"},
    {0xD6, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION"},
    {0xE1, "WORKER_THREAD_RETURNED_AT_BAD_IRQL"},
    {0xE2, "MANUALLY_INITIATED_CRASH"},
    {0xE3, "RESOURCE_NOT_OWNED"},
    {0xE4, "WORKER_INVALID"},
    {0xE9, "ACTIVE_EX_WORKER_THREAD_TERMINATION"},
    {0x12E, "INVALID_MDL_RANGE"},
    {0x133, "DPC_WATCHDOG_VIOLATION"},
    {0x139, "KERNEL_SECURITY_CHECK_FAILURE"},
};

}  // namespace

const char* bugcheck_name(ULONG code)
{
    for (const auto& entry : kNames)
        if (entry.code == code)
            return entry.name;
    return "UNKNOWN_BUGCHECK";
}

void set_irp_history_formatter(IrpHistoryFormatter formatter) { g_irp_formatter = formatter; }

std::vector<std::string> irp_history(void* irp)
{
    if (irp == nullptr || g_irp_formatter == nullptr)
        return {};
    return g_irp_formatter(irp);
}

BugCheckInfo make_bugcheck_report(ULONG code, const ULONG_PTR (&parameters)[4], const void* caller,
                                  bool where_is_return_address, void* irp, std::string reason)
{
    BugCheckInfo info;
    info.code = code;
    for (int i = 0; i < 4; ++i)
        info.parameters[i] = parameters[i];
    ULONG_PTR p1 = parameters[0], p2 = parameters[1], p3 = parameters[2], p4 = parameters[3];
    info.name = bugcheck_name(code);
    info.reason = std::move(reason);

    Thread* thread = current_thread();
    if (caller != nullptr) {
        ldr::SourceLocation where =
            where_is_return_address ? ldr::symbolize_return_address(caller) : ldr::symbolize(caller);
        info.driver = where.module;
        info.location = where_is_return_address ? ldr::describe_call_site(caller)
                                                : ldr::describe_call_site(static_cast<const char*>(caller) + 1);
    }
    if (info.driver.empty() && thread != nullptr && !thread->driver_calls.empty()) {
        const DriverCall& call = thread->driver_calls.back();
        if (ldr::Module* module = ldr::module_for_address(call.routine))
            info.driver = module->name;
        if (info.location.empty())
            info.location = "inside " + ldr::describe_function(call.routine);
    }
    if (irp == nullptr && thread != nullptr && !thread->driver_calls.empty())
        irp = thread->driver_calls.back().irp;
    info.irp_history = irp_history(irp);

    std::string report = fmt::format("*** STOP: 0x{:08X} (0x{:016X},0x{:016X},0x{:016X},0x{:016X})\n", code, p1, p2, p3, p4);
    report += fmt::format("{} (bug check 0x{:X})\n", info.name, code);
    report += "  Why:    " + info.reason + "\n";
    if (!info.location.empty())
        report += "  Where:  " + info.location + "\n";
    if (!info.driver.empty())
        report += "  Driver: " + info.driver + "\n";
    if (thread != nullptr) {
        Process* process = thread->process();
        report += fmt::format("  Thread: t{} of process {} ({}), IRQL {}\n", thread->tid(),
                              process != nullptr ? process->pid() : 0, process != nullptr ? process->image_name() : "?",
                              static_cast<int>(thread->irql));
        for (auto it = thread->driver_calls.rbegin(); it != thread->driver_calls.rend(); ++it)
            report += fmt::format("          in {} {}\n", it->what, ldr::describe_function(it->routine));
    }
    if (!info.irp_history.empty()) {
        report += "  IRP history:\n";
        for (const auto& line : info.irp_history)
            report += "    " + line + "\n";
    }
    info.report = std::move(report);
    return info;
}

void bugcheck(ULONG code, ULONG_PTR p1, ULONG_PTR p2, ULONG_PTR p3, ULONG_PTR p4, const void* caller, void* irp,
              std::string reason)
{
    const ULONG_PTR parameters[4] = {p1, p2, p3, p4};
    raise_bugcheck(make_bugcheck_report(code, parameters, caller, true, irp, std::move(reason)));
}

void raise_bugcheck(BugCheckInfo info)
{
    if (System* sys = System::current()) {
        sys->trace().record(trace::Kind::Finding, 0, fmt::format("BUGCHECK 0x{:X} {}", info.code, info.name));
        sys->mark_dead();
    }
    throw BugCheck(std::move(info));
}

}  // namespace iosim

extern "C" {

void KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4)
{
    iosim::bugcheck(BugCheckCode, P1, P2, P3, P4, __builtin_return_address(0), nullptr,
                    "The driver called KeBugCheckEx itself: it decided the system cannot continue.");
}

void KeBugCheck(ULONG BugCheckCode)
{
    iosim::bugcheck(BugCheckCode, 0, 0, 0, 0, __builtin_return_address(0), nullptr,
                    "The driver called KeBugCheck itself: it decided the system cannot continue.");
}

}  // extern "C"
