// seh.cpp - structured exception handling: the frame stack, raising, dispatching, capture.
//
// Rules:
//  - One stack of frames per host thread (t_top), linked through the frames themselves,
//    which live on the stacks of the functions that have a __try (shim/common/iosim_seh.h)
//    or call capture(). Frames of the host thread, not of the simulated thread: a frame
//    belongs to the code that runs on this stack, whichever thread object is current.
//  - An exception goes to the innermost frame: it is unlinked, the record is copied into
//    it, the simulated thread's bookkeeping (current thread, driver-call depth) is put back
//    as it was when the frame was pushed (the longjmp skips DriverCallScope destructors),
//    and control jumps to it. The frame's own code then runs the filter and handler, or
//    the __finally block, and may continue the search outward (continue_search).
//  - With no frame that can handle it (an __except, or a capture) the exception is a bug
//    check at once, with the stack intact (as Windows stops before unwinding):
//    KMODE_EXCEPTION_NOT_HANDLED (0x1E) naming the raise. If every filter declines after
//    the search began, the same bug check comes from the outermost frame reached.
//  - Frames use __sigsetjmp(jb, 0), so a __try costs no system call: raises happen in
//    ordinary code, and a fault reaches here only after the signal handler has returned
//    (ke/fault.cpp), with the signal mask already restored by the kernel.
// NT counterparts: RtlRaiseStatus, RtlDispatchException, RtlUnwindEx, __C_specific_handler,
// ExRaiseStatus, ExRaiseAccessViolation, ExRaiseDatatypeMisalignment.
#include "ke/seh.h"

#include <setjmp.h>
#include <ucontext.h>

#include <cstddef>
#include <cstring>
#include <exception>

#include <fmt/format.h>

#include "ke/bugcheck.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "system.h"
#include "wdm_impl.h"

// The WDK's x64 layouts: drivers may read these structures by offset.
static_assert(sizeof(EXCEPTION_RECORD) == 152 && offsetof(EXCEPTION_RECORD, ExceptionInformation) == 32);
static_assert(sizeof(CONTEXT) == 1232 && offsetof(CONTEXT, Rax) == 0x78 && offsetof(CONTEXT, Rip) == 0xF8 &&
              offsetof(CONTEXT, VectorRegister) == 0x300 && offsetof(CONTEXT, LastExceptionFromRip) == 0x4C8);

namespace iosim::seh {

namespace {

thread_local iosim_seh_frame* t_top = nullptr;
// The registers of the latest exception on this thread (GetExceptionInformation()->ContextRecord).
thread_local CONTEXT t_context;

bool is_handler(const iosim_seh_frame* frame)
{
    return frame->kind == IOSIM_SEH_KIND_EXCEPT || frame->kind == IOSIM_SEH_KIND_CAPTURE;
}

bool handler_on_stack()
{
    for (const iosim_seh_frame* frame = t_top; frame != nullptr; frame = frame->prev)
        if (is_handler(frame))
            return true;
    return false;
}

void push(iosim_seh_frame* frame)
{
    Thread* thread = current_thread();
    frame->thread = thread;
    frame->depth = thread != nullptr ? thread->driver_calls.size() : 0;
    frame->prev = t_top;
    t_top = frame;
}

// Removes `frame` and anything still above it (frames whose functions were left without
// their cleanup, which only a foreign longjmp can do).
void unlink(iosim_seh_frame* frame)
{
    for (const iosim_seh_frame* f = t_top; f != nullptr; f = f->prev)
        if (f == frame) {
            t_top = frame->prev;
            return;
        }
}

std::string base_name(const char* path)
{
    if (path == nullptr)
        return "?";
    const char* slash = std::strrchr(path, '/');
    return slash != nullptr ? slash + 1 : path;
}

std::string frame_location(const iosim_seh_frame* frame)
{
    if (frame->kind == IOSIM_SEH_KIND_CAPTURE)
        return "iosim's own buffer check";
    return fmt::format("the __try at {}:{}", base_name(frame->file), frame->line);
}

std::string where_raised(const EXCEPTION_RECORD& record, bool from_fault)
{
    return from_fault ? ldr::describe_call_site(static_cast<const char*>(record.ExceptionAddress) + 1)
                      : ldr::describe_call_site(record.ExceptionAddress);
}

std::string describe_exception(const EXCEPTION_RECORD& record)
{
    auto code = static_cast<NTSTATUS>(record.ExceptionCode);
    std::string text = status_text(code);
    if (code == STATUS_ACCESS_VIOLATION && record.NumberParameters >= 2)
        text += fmt::format(" {} address 0x{:X}", record.ExceptionInformation[0] != 0 ? "writing" : "reading",
                            record.ExceptionInformation[1]);
    return text;
}

void trace_dispatch(const EXCEPTION_RECORD& record, bool from_fault, const iosim_seh_frame* target)
{
    // iosim's own buffer checks report their outcome themselves (a failed request).
    System* system = System::current();
    if (system == nullptr || !system->trace().enabled() || target->kind == IOSIM_SEH_KIND_CAPTURE)
        return;
    system->trace().record(trace::Kind::Note, 0,
                           fmt::format("exception {} at {}: to {}", describe_exception(record),
                                       where_raised(record, from_fault), frame_location(target)));
}

[[noreturn]] void stop(BugCheckInfo info)
{
    if (System* system = System::current()) {
        system->trace().record(trace::Kind::Finding, 0, fmt::format("BUGCHECK 0x{:X} {}", info.code, info.name));
        system->mark_dead();
    }
    throw BugCheck(std::move(info));
}

// Nothing handles the exception: KMODE_EXCEPTION_NOT_HANDLED (0x1E). Parameters as
// Windows gives them: the code, the address of the exception, then the record's first two
// parameters (for an access violation: read/write and the address touched).
[[noreturn]] void unhandled(const EXCEPTION_RECORD& record, bool from_fault, bool searched)
{
    const ULONG_PTR parameters[4] = {
        static_cast<ULONG_PTR>(static_cast<ULONG>(record.ExceptionCode)),
        reinterpret_cast<ULONG_PTR>(record.ExceptionAddress),
        record.NumberParameters > 0 ? record.ExceptionInformation[0] : 0,
        record.NumberParameters > 1 ? record.ExceptionInformation[1] : 0,
    };
    std::string why = fmt::format("The exception {} was {} and {}; in kernel mode an exception nothing handles "
                                  "stops the system.",
                                  describe_exception(record), from_fault ? "raised by a fault" : "raised",
                                  searched ? "every __except filter on the way returned EXCEPTION_CONTINUE_SEARCH"
                                           : "no __try/__except was there to handle it");
    stop(make_bugcheck_report(KMODE_EXCEPTION_NOT_HANDLED, parameters, record.ExceptionAddress, !from_fault, nullptr,
                              std::move(why)));
}

[[noreturn]] void jump_to(iosim_seh_frame* target, const EXCEPTION_RECORD& record, bool from_fault)
{
    trace_dispatch(record, from_fault, target);
    t_top = target->prev;
    if (&target->record != &record)
        target->record = record;
    target->record.ExceptionRecord = nullptr;
    target->from_fault = from_fault ? 1 : 0;
    target->pointers.ExceptionRecord = &target->record;
    target->pointers.ContextRecord = &t_context;
    target->stage = IOSIM_SEH_STAGE_LANDED;
    if (auto* thread = static_cast<Thread*>(target->thread)) {
        if (current_thread() != thread)
            ps::set_current_thread(thread);
        if (thread->driver_calls.size() > target->depth)
            thread->driver_calls.resize(target->depth);
    }
    longjmp(target->jb, 1);
}

[[noreturn]] void dispatch(const EXCEPTION_RECORD& record, bool from_fault, bool searched)
{
    if (!handler_on_stack())
        unhandled(record, from_fault, searched);
    jump_to(t_top, record, from_fault);
}

// The frame (already off the stack) passes its exception on to the next outer frame.
[[noreturn]] void continue_search(iosim_seh_frame* frame)
{
    EXCEPTION_RECORD record = frame->record;
    dispatch(record, frame->from_fault != 0, true);
}

EXCEPTION_RECORD make_record(NTSTATUS code, ULONG flags, const void* pc)
{
    EXCEPTION_RECORD record{};
    record.ExceptionCode = code;
    record.ExceptionFlags = flags;
    record.ExceptionAddress = const_cast<void*>(pc);
    return record;
}

void context_for_raise(const void* pc)
{
    t_context = CONTEXT{};
    t_context.ContextFlags = CONTEXT_CONTROL;
    t_context.Rip = reinterpret_cast<DWORD64>(pc);
}

}  // namespace

void raise(NTSTATUS code, const void* pc)
{
    if (pc == nullptr)
        pc = __builtin_return_address(0);
    // RtlRaiseStatus raises a noncontinuable exception.
    EXCEPTION_RECORD record = make_record(code, EXCEPTION_NONCONTINUABLE, pc);
    context_for_raise(pc);
    dispatch(record, false, false);
}

void raise_access_violation(const void* address, bool write, const void* pc)
{
    if (pc == nullptr)
        pc = __builtin_return_address(0);
    EXCEPTION_RECORD record = make_record(STATUS_ACCESS_VIOLATION, 0, pc);
    record.NumberParameters = 2;
    record.ExceptionInformation[0] = write ? 1 : 0;
    record.ExceptionInformation[1] = reinterpret_cast<ULONG_PTR>(address);
    context_for_raise(pc);
    dispatch(record, false, false);
}

void record_fault_context(const void* ucontext)
{
    const auto& g = static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs;
    CONTEXT& c = t_context;
    std::memset(&c, 0, sizeof c);
    c.ContextFlags = CONTEXT_CONTROL | CONTEXT_INTEGER;
    c.Rax = g[REG_RAX];
    c.Rcx = g[REG_RCX];
    c.Rdx = g[REG_RDX];
    c.Rbx = g[REG_RBX];
    c.Rsp = g[REG_RSP];
    c.Rbp = g[REG_RBP];
    c.Rsi = g[REG_RSI];
    c.Rdi = g[REG_RDI];
    c.R8 = g[REG_R8];
    c.R9 = g[REG_R9];
    c.R10 = g[REG_R10];
    c.R11 = g[REG_R11];
    c.R12 = g[REG_R12];
    c.R13 = g[REG_R13];
    c.R14 = g[REG_R14];
    c.R15 = g[REG_R15];
    c.Rip = g[REG_RIP];
    c.EFlags = static_cast<DWORD>(g[REG_EFL]);
}

void raise_fault(const ExceptionRecord& fault)
{
    EXCEPTION_RECORD record = make_record(fault.code, 0, fault.pc);
    if (fault.code == STATUS_ACCESS_VIOLATION) {
        record.NumberParameters = 2;
        record.ExceptionInformation[0] = fault.write ? 1 : 0;
        record.ExceptionInformation[1] = fault.fault_address;
    }
    dispatch(record, true, false);
}

NTSTATUS capture(void (*body)(void*), void* context, ExceptionRecord* out)
{
    iosim_seh_frame frame{};
    frame.kind = IOSIM_SEH_KIND_CAPTURE;
    frame.file = __FILE__;
    frame.line = __LINE__;
    push(&frame);
    frame.stage = IOSIM_SEH_STAGE_BODY;
    // A C++ exception (a bug check) leaving body must not leave the frame linked.
    struct Unlink {
        iosim_seh_frame* frame;
        ~Unlink()
        {
            if (frame->stage == IOSIM_SEH_STAGE_BODY)
                unlink(frame);
        }
    } guard{&frame};
    if (__sigsetjmp(frame.jb, 0) == 0) {
        body(context);
        unlink(&frame);
        frame.stage = IOSIM_SEH_STAGE_DONE;
        return STATUS_SUCCESS;
    }
    frame.stage = IOSIM_SEH_STAGE_DONE;
    if (out != nullptr) {
        out->code = frame.record.ExceptionCode;
        out->pc = frame.record.ExceptionAddress;
        out->fault_address = frame.record.NumberParameters >= 2 ? frame.record.ExceptionInformation[1] : 0;
        out->write = frame.record.NumberParameters >= 1 && frame.record.ExceptionInformation[0] != 0;
    }
    return frame.record.ExceptionCode;
}

NTSTATUS copy(void* to, const void* from, size_t n)
{
    if (n == 0)
        return STATUS_SUCCESS;
    return capture([&] { std::memcpy(to, from, n); });
}

bool frame_active() { return handler_on_stack(); }

std::string innermost_frame_location()
{
    for (const iosim_seh_frame* frame = t_top; frame != nullptr; frame = frame->prev)
        if (is_handler(frame))
            return frame_location(frame);
    return {};
}

}  // namespace iosim::seh

using namespace iosim;

extern "C" {

// ---- the C ABI of the __try/__except/__finally macros (iosim_seh.h) ----

// Advances the construct's loop: returns 1 to run one more pass of its body statement.
int iosim_seh_next(iosim_seh_frame* frame, const char* file, int line)
{
    switch (frame->stage) {
    case IOSIM_SEH_STAGE_START:
        frame->file = file;
        frame->line = line;
        frame->stage = IOSIM_SEH_STAGE_PROBE;
        return 1;
    case IOSIM_SEH_STAGE_PROBE:
        // The first pass declared the kind; libstdc++'s own __try/__catch declares none
        // and runs without a frame.
        if (frame->kind != IOSIM_SEH_KIND_NONE)
            seh::push(frame);
        frame->stage = IOSIM_SEH_STAGE_BODY;
        return 1;
    case IOSIM_SEH_STAGE_BODY:  // the body completed (or break, continue, __leave)
        if (frame->kind != IOSIM_SEH_KIND_NONE)
            seh::unlink(frame);
        if (frame->kind == IOSIM_SEH_KIND_FINALLY) {
            frame->abnormal = 0;
            frame->stage = IOSIM_SEH_STAGE_TERMINATION;
            return 1;
        }
        frame->stage = IOSIM_SEH_STAGE_DONE;
        return 0;
    case IOSIM_SEH_STAGE_LANDED:  // an exception came back to this frame
        if (frame->kind == IOSIM_SEH_KIND_EXCEPT) {
            frame->stage = IOSIM_SEH_STAGE_FILTER;
            return 1;
        }
        if (frame->kind == IOSIM_SEH_KIND_FINALLY) {
            frame->abnormal = 1;
            frame->stage = IOSIM_SEH_STAGE_TERMINATION;
            return 1;
        }
        frame->stage = IOSIM_SEH_STAGE_DONE;
        seh::continue_search(frame);
    case IOSIM_SEH_STAGE_TERMINATION:  // the __finally block ended
        frame->stage = IOSIM_SEH_STAGE_DONE;
        if (frame->abnormal)
            seh::continue_search(frame);
        return 0;
    default:  // the handler ended
        frame->stage = IOSIM_SEH_STAGE_DONE;
        return 0;
    }
}

// The __except clause: on the first pass declares the kind; after an exception, acts on
// the filter's value. Returns 1 to run the handler block.
// NT counterpart: __C_specific_handler's use of the filter result.
int iosim_seh_except(iosim_seh_frame* frame, int filter_result)
{
    if (frame->stage == IOSIM_SEH_STAGE_PROBE) {
        frame->kind = IOSIM_SEH_KIND_EXCEPT;
        return 0;
    }
    if (frame->stage != IOSIM_SEH_STAGE_FILTER)
        return 0;
    if (filter_result > 0) {  // EXCEPTION_EXECUTE_HANDLER
        frame->stage = IOSIM_SEH_STAGE_HANDLER;
        return 1;
    }
    frame->stage = IOSIM_SEH_STAGE_DONE;
    if (filter_result == 0)  // EXCEPTION_CONTINUE_SEARCH
        seh::continue_search(frame);
    bugcheck(KMODE_EXCEPTION_NOT_HANDLED, static_cast<ULONG>(STATUS_NONCONTINUABLE_EXCEPTION),
             reinterpret_cast<ULONG_PTR>(frame->record.ExceptionAddress),
             static_cast<ULONG>(frame->record.ExceptionCode), 0, __builtin_return_address(0), nullptr,
             fmt::format("The __except filter of the __try at {}:{} returned EXCEPTION_CONTINUE_EXECUTION for {}. "
                         "iosim cannot resume at the point of the exception: it has already left it. On Windows a "
                         "raised status cannot be continued either (STATUS_NONCONTINUABLE_EXCEPTION), and continuing "
                         "a faulting access just faults again; return EXCEPTION_EXECUTE_HANDLER and recover in the "
                         "__except block.",
                         seh::base_name(frame->file), frame->line, seh::describe_exception(frame->record)));
}

// The __finally clause: declares the kind on the first pass; 1 when its block is to run.
int iosim_seh_finally(iosim_seh_frame* frame)
{
    if (frame->stage == IOSIM_SEH_STAGE_PROBE) {
        frame->kind = IOSIM_SEH_KIND_FINALLY;
        return 0;
    }
    return frame->stage == IOSIM_SEH_STAGE_TERMINATION ? 1 : 0;
}

// The frame variable's scope ended. Still on the stack means the body was left by return,
// goto or a C++ exception: pop it. A __finally cannot run from here (it is a block in the
// caller), which is worth saying.
void iosim_seh_cleanup(iosim_seh_frame* frame)
{
    if (frame->stage != IOSIM_SEH_STAGE_BODY || frame->kind == IOSIM_SEH_KIND_NONE)
        return;
    seh::unlink(frame);
    frame->stage = IOSIM_SEH_STAGE_DONE;
    if (frame->kind != IOSIM_SEH_KIND_FINALLY || std::uncaught_exceptions() > 0)
        return;
    if (System* system = System::current())
        system->report(Finding{
            "FINALLY_SKIPPED",
            fmt::format("A return or goto left the __try body at {}:{} without running its __finally block. "
                        "iosim cannot run a __finally on such an exit (Windows runs it, with AbnormalTermination() "
                        "TRUE); leave the body with __leave, or let it end, so the __finally runs.",
                        seh::base_name(frame->file), frame->line),
            fmt::format("{}:{}", seh::base_name(frame->file), frame->line),
            {}});
}

// __leave in C++ built without exceptions: back to the frame's own sigsetjmp, as if the
// body had ended (the frame stays on the stack; iosim_seh_next pops it).
void iosim_seh_leave(iosim_seh_frame* frame) { longjmp(frame->jb, 2); }

// ---- kernel exports ----

// NT counterpart: ExRaiseStatus (RtlRaiseStatus): a noncontinuable exception with `Status`.
void ExRaiseStatus(NTSTATUS Status) { seh::raise(Status, __builtin_return_address(0)); }

void ExRaiseAccessViolation(void) { seh::raise(STATUS_ACCESS_VIOLATION, __builtin_return_address(0)); }

void ExRaiseDatatypeMisalignment(void) { seh::raise(STATUS_DATATYPE_MISALIGNMENT, __builtin_return_address(0)); }

}  // extern "C"
