// machine.cpp - putting the simulated computer together, running apps, shutting down.
#include "machine.h"

#include <fmt/format.h>

#include <cstring>

#include "cancel.h"
#include "driver.h"
#include "io_api.h"
#include "io_manager.h"
#include "kd/debug_print.h"
#include "mdl.h"
#include "notify.h"
#include "npfs/npfs.h"
#include "pnp/pnp.h"
#include "ldr/module.h"
#include "ps/user_thread.h"
#include "request.h"
#include "win32/scm.h"
#include "win32/win32.h"

namespace iosim {

namespace {

std::u16string to_u16(const std::string& s) { return win32::widen(s.c_str()); }

using NarrowMain = int (*)(int, char**, char**);
// Called with (argc, argv, envp): an entry point declared with fewer parameters ignores
// the rest, as the x86-64 calling convention allows.
using WideMain = int (*)(int, char16_t**, char16_t**);

}  // namespace

Machine::Machine(Options options) : options_(std::move(options))
{
    system_ = std::make_unique<System>(System::Options{.trace = options_.trace, .cpus = options_.cpus, .seed = options_.seed});
    if (options_.free_running)
        system_->scheduler().set_free_running(true);
    io::initialize();
    if (!options_.module_path.empty())
        io::set_module_path(options_.module_path);
    win32::reset_services();
    if (options_.debug_output)
        kd::set_sink(options_.debug_output);
}

Machine::~Machine()
{
    if (!shut_down_) {
        try {
            shutdown();
        } catch (const BugCheck& stop) {
            // A driver bug-checked during unload at shutdown; nothing more to do.
            std::fputs(stop.info().report.c_str(), stderr);
        }
    }
    kd::reset_sink();
    win32::reset_services();
    system_.reset();
}

NTSTATUS Machine::load_driver(const std::string& service_name, const std::string& module, std::string* message)
{
    std::string path = io::find_module(module);
    if (path.empty() && module.find('.') == std::string::npos)
        path = io::find_module(module + ".sys");
    std::string local;
    std::string& text = message != nullptr ? *message : local;
    if (path.empty()) {
        text = "no driver module " + module + " in the module path";
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    return io::load_driver(to_u16(service_name), path, &text);
}

NTSTATUS Machine::unload_driver(const std::string& service_name, std::string* message)
{
    std::string local;
    return io::unload_driver(to_u16(service_name), message != nullptr ? message : &local);
}

Process* Machine::create_process(const std::string& image_name)
{
    Process* process = system_->create_process(image_name);
    system_->trace().record(trace::Kind::Process, 0, fmt::format("process {} ({}) created", process->pid(), image_name));
    return process;
}

void Machine::end_process(Process* process, uint32_t exit_code)
{
    {
        ThreadSwitch in_process(system_->main_thread(process));
        // As at ExitProcess: the threads it created stop first. Their stacks (and the host
        // threads' descriptors at the top of them) are its memory: visible from here.
        win32::terminate_process_threads(process);
        // Its requests still out are cancelled and waited for (IoCancelThreadIo, cancel.cpp).
        io::cancel_process_io(process);
        process->handles().close_all(process);
    }
    // Pages a driver still has locked stop the machine (0x76); MDL mappings into the
    // process go with it (mdl_irp.cpp).
    io::check_locked_pages_at_exit(process);
    process->set_exited(exit_code);
    win32::signal_process_exit(process);  // waits on its process handles end (OpenProcess)
    system_->trace().record(trace::Kind::Process, 0,
                            fmt::format("process {} ({}) exited with code {}", process->pid(), process->image_name(),
                                        exit_code));
    system_->reap_process(process);
}

Machine::AppResult Machine::run_app(const std::string& module, const std::vector<std::string>& args,
                                    const std::string& input)
{
    AppResult result;
    std::string path = io::find_module(module);
    if (path.empty() && module.find('.') == std::string::npos)
        path = io::find_module(module + ".exe");
    if (path.empty()) {
        result.error = "no app module " + module + " in the module path";
        return result;
    }
    ldr::LoadError error;
    ldr::Module* image = ldr::load(path, ldr::ModuleKind::App, &error);
    if (image == nullptr) {
        result.error = error.message;
        system_->report({"APP_LOAD_FAILED", error.message, "", {}});
        return result;
    }
    // wmain has C linkage when tchar.h declared it first; otherwise g++ mangles it, by
    // signature: (int, wchar_t**), (), (int, wchar_t**, wchar_t**).
    void* wide_entry = nullptr;
    for (const char* name : {"wmain", "_Z5wmainiPPw", "_Z5wmainv", "_Z5wmainiPPwS0_"})
        if (wide_entry == nullptr)
            wide_entry = ldr::symbol(image, name);
    void* narrow_entry = wide_entry == nullptr ? ldr::symbol(image, "main") : nullptr;
    if (wide_entry == nullptr && narrow_entry == nullptr) {
        result.error = image->name + " has no main or wmain";
        ldr::unload(image);
        return result;
    }

    Process* process = create_process(image->name);
    result.pid = process->pid();
    result.started = true;
    process->console().input = input;
    process->console().output = [this, &result, process](std::string_view text) {
        result.output.append(text);
        if (options_.app_output)
            options_.app_output(process->pid(), process->image_name(), text);
        else
            std::fwrite(text.data(), 1, text.size(), stdout);
    };

    std::vector<std::string> narrow_args{image->name};
    narrow_args.insert(narrow_args.end(), args.begin(), args.end());
    std::vector<std::u16string> wide_args;
    for (const auto& a : narrow_args)
        wide_args.push_back(to_u16(a));
    std::vector<char*> argv;
    std::vector<char16_t*> wargv;
    for (auto& a : narrow_args)
        argv.push_back(a.data());
    for (auto& a : wide_args)
        wargv.push_back(a.data());
    argv.push_back(nullptr);
    wargv.push_back(nullptr);

    char* envp = nullptr;  // an empty environment block
    char16_t* wenvp = nullptr;
    int code = 0;
    image->process = process;  // the image's globals and literals are this process's memory
    {
        // The app's main thread runs on a host thread whose stack is in the process's
        // user space (ps/user_thread.h): its stack arrays are user memory like its heap.
        Thread* main_thread = system_->main_thread(process);
        ThreadSwitch in_app(main_thread);
        try {
            run_on_user_stack(process, [&] {
                ThreadSwitch on_app_thread(main_thread);
                try {
                    if (wide_entry != nullptr)
                        code = reinterpret_cast<WideMain>(wide_entry)(static_cast<int>(wargv.size() - 1), wargv.data(),
                                                                      &wenvp);
                    else
                        code = reinterpret_cast<NarrowMain>(narrow_entry)(static_cast<int>(argv.size() - 1), argv.data(),
                                                                          &envp);
                } catch (const win32::AppExit& exit) {
                    code = static_cast<int>(exit.code);
                }
            });
        } catch (...) {
            // A bug check (the machine is now dead, so closing the process's handles runs
            // no driver code) or an unexpected error: release the process and the image.
            end_process(process, static_cast<uint32_t>(STATUS_UNSUCCESSFUL));
            ldr::unload(image);
            throw;
        }
    }
    result.exit_code = code;
    // Process exit: every handle closes (CLEANUP/CLOSE reach the drivers) in its context.
    end_process(process, static_cast<uint32_t>(code));
    ldr::unload(image);
    return result;
}

std::vector<std::string> Machine::shutdown()
{
    std::vector<std::string> report;
    if (shut_down_)
        return report;
    bool dead = system_->dead();
    shut_down_ = true;
    for (Process* process : system_->processes())
        if (process != system_->system_process())
            end_process(process, 0);
    io::send_shutdown_notifications();  // IRP_MJ_SHUTDOWN to registered devices (notify.cpp)
    io::pnp::on_shutdown();  // PnP: IRP_MN_SET_POWER (shutdown), then every device node removed (pnp/)
    io::unload_all_drivers();
    io::npfs::shut_down();  // the named-pipe file system, if a pipe was ever used (npfs/)
    io::release_abandoned_requests();
    if (dead)
        return report;  // what a dead machine still holds says nothing about the drivers
    for (const auto& object : ob::live_objects()) {
        const std::string& type = object.type->name;
        if (type == "Directory" || type == "Process" || type == "Thread")
            continue;  // the namespace skeleton and the System process go with the System
        std::string name = win32::narrow(ob::full_name(object.body));
        report.push_back(fmt::format("{} {} still alive at shutdown ({} reference(s), {} handle(s))", type,
                                     name.empty() ? std::string("(unnamed)") : name, object.pointers, object.handles));
    }
    return report;
}

}  // namespace iosim
