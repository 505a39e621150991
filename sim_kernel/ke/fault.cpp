// fault.cpp - host signals in simulated code: structured exceptions, or bug check reports.
//
// Rules (see fault.h for what each fault becomes):
//  - The handler runs on a per-thread alternate stack, so even a stack overflow can be
//    reported.
//  - The handler itself does little: it reads the registers, checks thread-local state
//    and the module list, and rewrites the interrupted context so that, when it returns,
//    the faulting thread enters fault_entry (a few lines of assembly) on its own stack.
//    fault_entry's unwind information says "the frame below me is the faulting one, and
//    here are its registers" (a signal frame, as the kernel's own sigreturn frame is), so
//    a C++ exception thrown above it unwinds through the driver's frames exactly as if
//    the faulting instruction had thrown (C frames have asynchronous unwind tables;
//    C++ modules are built with -fnon-call-exceptions so their cleanups cover it).
//    fault_entry calls fault_trampoline, which decides (special pool, the memory
//    manager's classify, which may allocate) and either raises the structured exception
//    (seh::raise_fault: an ordinary longjmp on the thread's stack, the signal mask already
//    restored by the kernel) or throws the bug check (iosim::BugCheck), which reaches the
//    session or test like any other bug check.
//  - What still ends the process with the report (exit code 3): a stack overflow (no
//    stack to unwind on) and an app's own fault outside __try (user mode: on Windows the
//    process dies, the machine does not).
//  - In the handler itself, only: a fault in iosim's own code with no frame active (an
//    internal error, passed on to the handler installed before ours, e.g. a sanitizer's),
//    and a stack overflow (there is no stack to go back to).
//  - A report is built where it is not async-signal-safe in the strict sense (it formats
//    and symbolizes); the process ends right after.
// NT counterparts: KiPageFault / MmAccessFault (user address from kernel mode: an
// exception; system address: bug check), KiDivideErrorFault, KiInvalidOpcodeFault.
#include "ke/fault.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "ex/special_pool.h"
#include "ke/bugcheck.h"
#include "ke/seh.h"
#include "ldr/module.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim {

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
constexpr size_t kAltStackBytes = 256 * 1024;  // symbolizing (libdw) and sanitizers need room
constexpr uintptr_t kStackOverflowWindow = 64 * 1024;

struct sigaction g_previous[NSIG];
std::once_flag g_installed;

// What the handler learned, for the trampoline.
struct PendingFault {
    int signal = 0;
    int code = 0;  // si_code
    void* pc = nullptr;
    ULONG_PTR address = 0;
    bool write = false;
};

thread_local bool t_in_handler = false;
thread_local bool t_in_trampoline = false;
thread_local PendingFault t_fault;

// The calling thread's signal stack, unmapped when the thread ends.
struct AltStack {
    void* base = nullptr;  // including one guard page at the bottom
    size_t bytes = 0;
    ~AltStack()
    {
        if (base == nullptr)
            return;
        stack_t current{};
        if (sigaltstack(nullptr, &current) == 0 && current.ss_sp == static_cast<char*>(base) + mm::kPageSize) {
            stack_t off{};
            off.ss_flags = SS_DISABLE;
            sigaltstack(&off, nullptr);
        }
        munmap(base, bytes);
    }
};
thread_local AltStack t_alt_stack;

void write_all(const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

[[noreturn]] void handle_fault(const PendingFault& fault);

// The interrupted thread's registers, as fault_entry's unwind information reads them (the
// offsets below are the .cfi_escape expressions' operands). The block sits at the top of
// fault_entry's frame, below the faulting frame's red zone.
struct FaultFrame {
    uint64_t rip;  // +0   the faulting instruction
    uint64_t rsp;  // +8   the faulting frame's stack pointer (fault_entry's CFA)
    uint64_t rbp;  // +16
    uint64_t rbx;  // +24
    uint64_t r12;  // +32
    uint64_t r13;  // +40
    uint64_t r14;  // +48
    uint64_t r15;  // +56
};
static_assert(sizeof(FaultFrame) == 64);

}  // namespace
}  // namespace iosim

// Runs on the faulting thread's stack after the handler returned (fault_entry calls it).
extern "C" [[noreturn]] __attribute__((noinline, used, visibility("hidden"))) void iosim_fault_trampoline()
{
    iosim::t_in_trampoline = true;
    iosim::PendingFault fault = iosim::t_fault;
    iosim::handle_fault(fault);
}

// fault_entry: CFA = the saved rsp; rip, rbp, rbx, r12-r15 at their FaultFrame offsets;
// a signal frame, so the unwinder looks the faulting instruction itself up (not the byte
// before it, as it does for a return address). DWARF: 0x0f = DW_CFA_def_cfa_expression,
// 0x10 = DW_CFA_expression, 0x77 = DW_OP_breg7 (rsp), 0x06 = DW_OP_deref; registers
// 16 = rip, 6 = rbp, 3 = rbx, 12-15 = r12-r15.
asm(R"(
    .text
    .p2align 4
    .type iosim_fault_entry, @function
iosim_fault_entry:
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_escape 0x0f, 0x03, 0x77, 0x08, 0x06
    .cfi_escape 0x10, 0x10, 0x02, 0x77, 0x00
    .cfi_escape 0x10, 0x06, 0x02, 0x77, 0x10
    .cfi_escape 0x10, 0x03, 0x02, 0x77, 0x18
    .cfi_escape 0x10, 0x0c, 0x02, 0x77, 0x20
    .cfi_escape 0x10, 0x0d, 0x02, 0x77, 0x28
    .cfi_escape 0x10, 0x0e, 0x02, 0x77, 0x30
    .cfi_escape 0x10, 0x0f, 0x02, 0x77, 0x38
    call iosim_fault_trampoline
    ud2
    .cfi_endproc
    .size iosim_fault_entry, .-iosim_fault_entry
)");
extern "C" void iosim_fault_entry();

namespace iosim {
namespace {

// Makes the interrupted thread continue in fault_entry: below the faulting frame's red
// zone, a FaultFrame with its registers, 16-byte aligned (so the call in fault_entry
// enters the trampoline with the ABI's alignment).
void redirect_to_trampoline(ucontext_t* uc)
{
    seh::record_fault_context(uc);
    auto& g = uc->uc_mcontext.gregs;
    uintptr_t sp = (static_cast<uintptr_t>(g[REG_RSP]) - 128 - sizeof(FaultFrame)) & ~uintptr_t{15};
    auto* frame = reinterpret_cast<FaultFrame*>(sp);
    frame->rip = static_cast<uint64_t>(g[REG_RIP]);
    frame->rsp = static_cast<uint64_t>(g[REG_RSP]);
    frame->rbp = static_cast<uint64_t>(g[REG_RBP]);
    frame->rbx = static_cast<uint64_t>(g[REG_RBX]);
    frame->r12 = static_cast<uint64_t>(g[REG_R12]);
    frame->r13 = static_cast<uint64_t>(g[REG_R13]);
    frame->r14 = static_cast<uint64_t>(g[REG_R14]);
    frame->r15 = static_cast<uint64_t>(g[REG_R15]);
    g[REG_RSP] = static_cast<greg_t>(sp);
    g[REG_RIP] = reinterpret_cast<greg_t>(&iosim_fault_entry);
}

std::string describe_process(const Process* process)
{
    if (process == nullptr)
        return "no process";
    System* system = System::current();
    if (system != nullptr && process == system->system_process())
        return "the System process";
    return fmt::format("process {} ({})", process->pid(), process->image_name());
}

// One plain explanation of a page fault nothing caught, by whose address it was.
std::string page_fault_reason(ULONG_PTR address, bool write, const mm::AddressInfo& where, bool stack_overflow,
                              bool frame_active)
{
    const char* verb = write ? "wrote to" : "read from";
    if (stack_overflow)
        return fmt::format("The driver {} address 0x{:X}, just below its stack pointer: the thread ran out of "
                           "stack (deep recursion, or a large local array). Kernel stacks are small; keep big "
                           "buffers in pool.",
                           verb, address);
    Process* current = current_process();
    switch (where.region) {
    case mm::Region::NullPage:
        return fmt::format("The driver {} address 0x{:X}, which is not valid memory (it is near NULL: a NULL pointer "
                           "plus an offset). On Windows this is a page fault in kernel mode that nothing can resolve; "
                           "check the pointer (was it NULL, freed, or never set?).",
                           verb, address);
    case mm::Region::User:
    case mm::Region::AppImage: {
        if (where.owner != nullptr && where.owner != current)
            return fmt::format("The driver {} address 0x{:X}, which belongs to {}, while running in the context of "
                               "{}. A user address means something only in its own process: the driver kept a user "
                               "pointer and used it from another process or a system thread. Use the buffer in the "
                               "requester's context, or describe it with an MDL and map it into system space.",
                               verb, address, describe_process(where.owner), describe_process(current));
        std::string what;
        if (!where.page.reserved)
            what = "that is not allocated (freed, or never allocated)";
        else if (!where.page.committed)
            what = fmt::format("inside a \"{}\" reservation whose page is not committed (freed or decommitted)",
                               where.page.vad.purpose);
        else if (write)
            what = "whose page does not allow writing";
        else
            what = "whose page is not accessible";
        return fmt::format("The driver {} address 0x{:X}, a user address of {} {}. Outside __try/__except nothing "
                           "catches the access violation, and Windows stops. Probe user buffers (ProbeForRead, "
                           "ProbeForWrite) and touch them only inside __try/__except.",
                           verb, address, describe_process(where.owner != nullptr ? where.owner : current), what);
    }
    case mm::Region::System: {
        std::string what = where.page.reserved
                               ? fmt::format("inside a \"{}\" reservation whose page is not {}", where.page.vad.purpose,
                                             where.page.committed ? "writable" : "committed (freed memory?)")
                               : std::string("where nothing is allocated (a stale or corrupted pointer)");
        return fmt::format("The driver {} address 0x{:X}, a system-space address {}. A bad system address is never an "
                           "exception a driver can catch{}; check the pointer (freed pool? a block's end?).",
                           verb, address, what,
                           frame_active ? " (a __try/__except was active, and Windows does not catch this either)"
                                        : "");
    }
    case mm::Region::DriverImage:
        return fmt::format("The driver {} address 0x{:X}, inside a driver's image (its code or read-only data). "
                           "Check the pointer: a string literal or a function is not writable memory.",
                           verb, address);
    case mm::Region::Unknown:
        break;
    }
    return fmt::format("The driver {} address 0x{:X}, which is not valid memory. On Windows this is a page fault in "
                       "kernel mode that nothing can resolve; check the pointer (was it NULL, freed, or never set?).",
                       verb, address);
}

void say_internal_error(int signal, const void* pc, const void* address)
{
    write_all(fmt::format("iosim: internal error: signal {} ({}) at 0x{:x}, address 0x{:x}. This is a bug in iosim "
                          "itself, not in a driver.\n",
                          signal, strsignal(signal), reinterpret_cast<uintptr_t>(pc),
                          reinterpret_cast<uintptr_t>(address)));
}

// A fault in iosim's own code, in the handler: say so, then let the previous handler (a
// sanitizer's) have it, or end with exit code 4.
void internal_error(int signal, const void* pc, const void* address)
{
    say_internal_error(signal, pc, address);
    const struct sigaction& previous = g_previous[signal];
    bool has_handler = (previous.sa_flags & SA_SIGINFO) != 0
                           ? previous.sa_sigaction != nullptr
                           : (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN);
    if (!has_handler)
        _exit(4);
    sigaction(signal, &previous, nullptr);  // the instruction faults again, into that handler
}

bool in_driver_code(const void* pc, bool* in_app)
{
    Thread* thread = current_thread();
    ldr::Module* module = ldr::module_for_address(pc);
    bool in_driver_call = thread != nullptr && !thread->driver_calls.empty();
    // App code (user mode) touching system space: an access violation there too.
    *in_app = module != nullptr && module->kind == ldr::ModuleKind::App && !in_driver_call;
    return (module != nullptr && module->kind == ldr::ModuleKind::Driver) || in_driver_call;
}

[[noreturn]] void report_and_exit(BugCheckInfo report)
{
    write_all(report.report);
    _exit(3);
}

// A fault nothing catches. In kernel code the machine stops: the bug check is thrown from
// the trampoline and unwinds through the driver (see fault_entry). An app's own fault is
// not a bug check on Windows; without a way to end just that process from here, the
// report ends the run.
[[noreturn]] void stop(BugCheckInfo report, bool in_app)
{
    if (in_app)
        report_and_exit(std::move(report));
    t_in_trampoline = false;
    raise_bugcheck(std::move(report));
}

// Decides, on the faulting thread's own stack (not in the signal handler: the memory
// manager and the special pool may allocate), what the fault becomes: the exception to
// raise, or (not returning) the report. Returns before the raise, so that nothing it
// owns is skipped by the jump to the handler.
seh::ExceptionRecord decide(const PendingFault& fault)
{
    bool in_app = false;
    bool in_driver = in_driver_code(fault.pc, &in_app);
    bool frame_active = seh::frame_active();
    if (fault.signal == SIGSEGV || fault.signal == SIGBUS) {
        if (std::optional<BugCheckInfo> report = ex::describe_special_pool_fault(fault.address, fault.write, fault.pc))
            stop(std::move(*report), in_app);
        mm::AddressInfo where;
        if (mm::MemoryManager* memory = mm::current())
            where = memory->classify(reinterpret_cast<const void*>(fault.address));
        bool system_address = where.region == mm::Region::System || where.region == mm::Region::DriverImage;
        if (frame_active && (!system_address || in_app))
            return {STATUS_ACCESS_VIOLATION, fault.pc, fault.address, fault.write};
        if (!in_driver && !in_app) {  // iosim's own code, with a frame active, on a system address
            say_internal_error(fault.signal, fault.pc, reinterpret_cast<const void*>(fault.address));
            _exit(4);
        }
        const ULONG_PTR parameters[4] = {fault.address, fault.write ? 1u : 0u, reinterpret_cast<ULONG_PTR>(fault.pc),
                                         0};
        stop(make_bugcheck_report(PAGE_FAULT_IN_NONPAGED_AREA, parameters, fault.pc, false, nullptr,
                                  page_fault_reason(fault.address, fault.write, where, false, frame_active)),
             in_app);
    }
    NTSTATUS status = STATUS_ILLEGAL_INSTRUCTION;
    if (fault.signal == SIGFPE)
        status = fault.code == FPE_INTOVF ? STATUS_INTEGER_OVERFLOW : STATUS_INTEGER_DIVIDE_BY_ZERO;
    if (frame_active)
        return {status, fault.pc, 0, false};
    const ULONG_PTR parameters[4] = {static_cast<ULONG_PTR>(static_cast<ULONG>(status)),
                                     reinterpret_cast<ULONG_PTR>(fault.pc), 0, 0};
    std::string why = fault.signal == SIGFPE
                          ? "The driver divided an integer by zero, an exception nothing in kernel mode handled."
                          : "The driver executed an invalid instruction (a corrupted function pointer?), an "
                            "exception nothing in kernel mode handled.";
    stop(make_bugcheck_report(KMODE_EXCEPTION_NOT_HANDLED, parameters, fault.pc, false, nullptr, std::move(why)),
         in_app);
}

[[noreturn]] void handle_fault(const PendingFault& fault)
{
    seh::ExceptionRecord exception = decide(fault);
    t_in_trampoline = false;
    seh::raise_fault(exception);
}

// The signal handler does only what is safe there (thread-local state, the module list)
// and leaves the rest to handle_fault, on the thread's own stack. Exceptions to that: a
// stack overflow (there is no stack to go back to) and a fault while a fault was being
// handled.
void on_fault(int signal, siginfo_t* info, void* context)
{
    if (t_in_handler || t_in_trampoline) {
        static const char message[] = "iosim: internal error: a fault while handling a fault\n";
        ssize_t ignored = write(STDOUT_FILENO, message, sizeof message - 1);
        (void)ignored;
        _exit(4);
    }
    t_in_handler = true;
    auto* uc = static_cast<ucontext_t*>(context);
    PendingFault fault;
    fault.signal = signal;
    fault.code = info->si_code;
    fault.pc = reinterpret_cast<void*>(uc->uc_mcontext.gregs[REG_RIP]);
    fault.write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    fault.address = reinterpret_cast<ULONG_PTR>(info->si_addr);
    auto sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);

    bool in_app = false;
    bool in_driver = in_driver_code(fault.pc, &in_app);
    if (!in_driver && !in_app && !seh::frame_active()) {
        internal_error(signal, fault.pc, info->si_addr);
        t_in_handler = false;
        return;
    }
    bool stack_overflow = (signal == SIGSEGV || signal == SIGBUS) && fault.address < sp + 256 &&
                          fault.address + kStackOverflowWindow >= sp;
    if (stack_overflow) {
        const ULONG_PTR parameters[4] = {fault.address, fault.write ? 1u : 0u, reinterpret_cast<ULONG_PTR>(fault.pc),
                                         0};
        report_and_exit(make_bugcheck_report(PAGE_FAULT_IN_NONPAGED_AREA, parameters, fault.pc, false, nullptr,
                                             page_fault_reason(fault.address, fault.write, {}, true, false)));
    }
    t_fault = fault;
    redirect_to_trampoline(uc);
    t_in_handler = false;
}

}  // namespace

void install_fault_stack()
{
    if (t_alt_stack.base != nullptr)
        return;
    size_t bytes = kAltStackBytes + mm::kPageSize;
    void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return;
    mprotect(base, mm::kPageSize, PROT_NONE);  // overflowing the signal stack faults, not corrupts
    stack_t stack{};
    stack.ss_sp = static_cast<char*>(base) + mm::kPageSize;
    stack.ss_size = kAltStackBytes;
    if (sigaltstack(&stack, nullptr) != 0) {
        munmap(base, bytes);
        return;
    }
    t_alt_stack.base = base;
    t_alt_stack.bytes = bytes;
}

void install_fault_reports()
{
    std::call_once(g_installed, [] {
        struct sigaction action {};
        action.sa_sigaction = &on_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        for (int signal : kSignals)
            sigaction(signal, &action, &g_previous[signal]);
    });
    install_fault_stack();
}

}  // namespace iosim
