// fault.cpp - signal handlers that print a bug check report for faults in driver code.
//
// The handler runs on its own stack (so a stack overflow can be reported too), builds the
// same report as iosim::bugcheck, writes it to standard output and ends the process. It
// is not async-signal-safe in the strict sense (it formats and symbolizes); the process is
// about to end and no other thread runs simulated code meanwhile, which makes that
// acceptable here.
#include "ke/fault.h"

#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "ke/bugcheck.h"
#include "ldr/module.h"
#include "ps/process.h"
#include "wdm_impl.h"

namespace iosim {

namespace {

std::atomic<bool> g_in_handler{false};

void write_all(const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void on_fault(int signal, siginfo_t* info, void* context)
{
    if (g_in_handler.exchange(true))
        _exit(4);
    auto* uc = static_cast<ucontext_t*>(context);
    void* pc = reinterpret_cast<void*>(uc->uc_mcontext.gregs[REG_RIP]);
    bool write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    Thread* thread = current_thread();
    bool in_driver = ldr::module_for_address(pc) != nullptr ||
                     (thread != nullptr && !thread->driver_calls.empty());
    if (!in_driver) {
        write_all(fmt::format("iosim: internal error: signal {} ({}) at 0x{:x}, address 0x{:x}. This is a bug in "
                              "iosim itself, not in a driver.\n",
                              signal, strsignal(signal), reinterpret_cast<uintptr_t>(pc),
                              reinterpret_cast<uintptr_t>(info->si_addr)));
        _exit(4);
    }
    auto address = reinterpret_cast<ULONG_PTR>(info->si_addr);
    BugCheckInfo report;
    if (signal == SIGSEGV || signal == SIGBUS) {
        const ULONG_PTR parameters[4] = {address, write ? 1u : 0u, reinterpret_cast<ULONG_PTR>(pc), 0};
        std::string why = fmt::format(
            "The driver {} address 0x{:X}, which is not valid memory{}. On Windows this is a page fault in kernel "
            "mode that nothing can resolve; check the pointer (was it NULL, freed, or never set?).",
            write ? "wrote to" : "read from", address,
            address < 0x10000 ? " (it is near NULL: a NULL pointer plus an offset)" : "");
        report = make_bugcheck_report(PAGE_FAULT_IN_NONPAGED_AREA, parameters, pc, false, nullptr, std::move(why));
    } else {
        NTSTATUS status = signal == SIGFPE ? STATUS_INTEGER_DIVIDE_BY_ZERO : STATUS_ILLEGAL_INSTRUCTION;
        const ULONG_PTR parameters[4] = {static_cast<ULONG_PTR>(static_cast<ULONG>(status)),
                                         reinterpret_cast<ULONG_PTR>(pc), 0, 0};
        std::string why = signal == SIGFPE
                              ? "The driver divided an integer by zero, an exception nothing in kernel mode handled."
                              : "The driver executed an invalid instruction (a corrupted function pointer?), an "
                                "exception nothing in kernel mode handled.";
        report = make_bugcheck_report(KMODE_EXCEPTION_NOT_HANDLED, parameters, pc, false, nullptr, std::move(why));
    }
    write_all(report.report);
    _exit(3);
}

}  // namespace

void install_fault_reports()
{
    static char alternate_stack[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alternate_stack;
    ss.ss_size = sizeof(alternate_stack);
    sigaltstack(&ss, nullptr);
    struct sigaction action {};
    action.sa_sigaction = &on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL})
        sigaction(signal, &action, nullptr);
}

}  // namespace iosim
