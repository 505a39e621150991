// process.cpp - !process, !thread and !irql: the simulated processes and threads.
//
//   !process [pid]   every process (or one): pid, image, handle count, its threads
//   !thread [tid]    the current thread (or one): process, IRQL, last error, and the
//                    driver routines it is inside, outermost first (Thread::driver_calls)
//   !irql            the current thread's IRQL
//
// Ids are decimal, as iosim's traces print them ("p20:t24"); hex with 0x is accepted.
// In iosim a driver routine runs in the thread that called it, so !thread on an app's
// thread shows the dispatch routine it is in ("dispatch  hello!HelloCreateClose  IRP#3").
// IRQL is per simulated thread (there are no processors): !irql takes no processor number.
// Threads are found in the object registry (type "Thread"), so threads of processes that
// have exited but are still referenced show too.
#include <fmt/format.h>

#include "inspect/commands.h"
#include "irp.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::inspect::detail {

namespace {

std::optional<uint32_t> parse_id(const Args& args)
{
    if (args.size() != 1)
        return std::nullopt;
    std::optional<uint64_t> value = parse_number(args[0]);
    if (!value || *value > UINT32_MAX)
        return std::nullopt;
    return static_cast<uint32_t>(*value);
}

void describe_process(Process* process, const std::vector<Thread*>& threads, std::string& out)
{
    out += fmt::format("PROCESS {}  pid {}  Image: {}{}\n", address(process), process->pid(), process->image_name(),
                       process == current_process() ? "  (current)" : "");
    out += fmt::format("    HandleCount: {}\n", process->handles().count());
    std::string ids;
    for (Thread* thread : threads)
        if (thread->process() == process)
            ids += (ids.empty() ? "" : ", ") + std::to_string(thread->tid());
    out += fmt::format("    Threads: {}\n", ids.empty() ? "none" : ids);
    if (process->exited())
        out += fmt::format("    Exited with code {}\n", process->exit_code());
}

void describe_thread(Thread* thread, std::string& out)
{
    out += fmt::format("THREAD {}  {}{}\n", address(thread), thread_text(thread),
                       thread == current_thread() ? "  (current)" : "");
    out += fmt::format("    IRQL: {}\n", irql_text(thread->irql));
    out += fmt::format("    LastError: {} ({})\n", thread->last_error, dos_error_name(thread->last_error));
    if (thread->driver_calls.empty()) {
        out += "    Not inside any driver routine\n";
        return;
    }
    out += "    Inside driver routines (outermost first):\n";
    for (const DriverCall& call : thread->driver_calls) {
        std::string irp;
        if (call.irp != nullptr)
            irp = readable_live_irp(call.irp)
                      ? fmt::format("  IRP#{} ({})", io::private_of(static_cast<IRP*>(call.irp))->id, address(call.irp))
                      : fmt::format("  IRP {} (no longer live)", address(call.irp));
        out += fmt::format("      {}  {}{}\n", call.what, routine(call.routine), irp);
    }
}

}  // namespace

bool process(const Args& args, std::string& out, std::string& error)
{
    std::optional<uint32_t> pid = parse_id(args);
    if (!args.empty() && !pid) {
        error = "!process: expected a process id (decimal, or hex with 0x) or nothing";
        return false;
    }
    System* sys = System::current();
    std::vector<Thread*> threads = all_threads();
    if (pid) {
        Process* p = sys->find_process(*pid);
        if (p == nullptr) {
            error = fmt::format("!process: no process with pid {}", *pid);
            return false;
        }
        describe_process(p, threads, out);
        return true;
    }
    for (Process* p : sys->processes())
        describe_process(p, threads, out);
    return true;
}

bool thread(const Args& args, std::string& out, std::string& error)
{
    std::optional<uint32_t> tid = parse_id(args);
    if (!args.empty() && !tid) {
        error = "!thread: expected a thread id (decimal, or hex with 0x) or nothing";
        return false;
    }
    if (!tid) {
        Thread* current = current_thread();
        if (current == nullptr) {
            error = "!thread: this host thread runs no simulated thread; give a thread id";
            return false;
        }
        describe_thread(current, out);
        return true;
    }
    for (Thread* t : all_threads()) {
        if (t->tid() == *tid) {
            describe_thread(t, out);
            return true;
        }
    }
    error = fmt::format("!thread: no thread with tid {}", *tid);
    return false;
}

bool irql(const Args& args, std::string& out, std::string& error)
{
    if (!args.empty()) {
        error = "!irql: expected no arguments (IRQL is per simulated thread; there are no processor numbers)";
        return false;
    }
    Thread* current = current_thread();
    if (current == nullptr) {
        error = "!irql: this host thread runs no simulated thread (see !thread <tid>)";
        return false;
    }
    out += fmt::format("Current IRQL -- {}  (thread {})\n", irql_text(current->irql), thread_text(current));
    return true;
}

}  // namespace iosim::inspect::detail
