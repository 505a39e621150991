// filter_commands.cpp - `attach SERVICE to DEVICE` and `detach SERVICE from DEVICE`.
//
// On Windows nobody attaches a filter from outside: a filter driver attaches its own device
// with IoAttachDevice / IoAttachDeviceToDeviceStack (in DriverEntry, in AddDevice, or when
// asked). So these words are honest only for a driver that can be asked: the run-time
// filter sample drivers/attachfilter, whose control device \Device\IosimAttachFilter takes
// IOCTL_ATTACHFILTER_ATTACH / _DETACH with the target's name (attachfilter_public.h). The
// command does what that sample's client app does, in the current process: CreateFile on
// \\.\IosimAttachFilter, DeviceIoControl with the name as UTF-16 (no NUL), CloseHandle;
// every IRP shows in the trace, and the driver's status is the result. Rules kept:
//  - SERVICE must be loaded and be the driver behind \Device\IosimAttachFilter; any other
//    driver (logfilter, a PnP filter) attaches itself and is refused with that reason;
//  - the driver's own rules stand: detaching a filter with another layer above it is
//    STATUS_DEVICE_BUSY, detaching from a device it is not on STATUS_NOT_FOUND.
#include <fmt/format.h>

#include "attachfilter_public.h"
#include "io_api.h"
#include "lang/names.h"
#include "lang/session_impl.h"
#include "lang/user_buffer.h"
#include "ob/namespace.h"
#include "ob/object.h"
#include "rtl/status_names.h"
#include "system.h"
#include "win32/win32.h"

namespace iosim::lang {

namespace {

constexpr const char16_t* kControlDevice = u"\\Device\\IosimAttachFilter";

// The object named `path` (referenced), or null.
void* find_object(Machine& machine, std::u16string_view path)
{
    ob::ObjectNamespace::Lookup found = machine.system().ns().lookup(path);
    return NT_SUCCESS(found.status) ? found.object : nullptr;
}

}  // namespace

// NT counterpart: what attachfilter's client does - CreateFile(\\.\IosimAttachFilter),
// DeviceIoControl(IOCTL_ATTACHFILTER_ATTACH or _DETACH, L"DEVICE"), CloseHandle.
Outcome Session::Impl::do_filter(const Command& command)
{
    const bool attach = command.verb == Verb::Attach;
    const char* word = attach ? "attach" : "detach";
    std::u16string service = win32::widen(command.service.c_str());
    if (!io::driver_loaded(service))
        return error_at(command.where, fmt::format("'{}': service '{}' is not loaded (load attachfilter.sys first)",
                                                   word, command.service));
    void* control = find_object(machine, kControlDevice);
    void* driver = find_object(machine, u"\\Driver\\" + service);
    bool is_attachfilter = control != nullptr && driver != nullptr &&
                           static_cast<DEVICE_OBJECT*>(control)->DriverObject == static_cast<DRIVER_OBJECT*>(driver);
    if (control != nullptr)
        ob::dereference(control);
    if (driver != nullptr)
        ob::dereference(driver);
    if (!is_attachfilter)
        return error_at(command.where,
                        fmt::format("'{}': \\Driver\\{} cannot be told to {}: only a driver that offers it can be, and "
                                    "iosim's one is attachfilter.sys (its control device \\Device\\IosimAttachFilter "
                                    "takes IOCTL_ATTACHFILTER_{}); other filters attach themselves in DriverEntry or "
                                    "AddDevice (docs/device-stacks.md)",
                                    word, command.service, word, attach ? "ATTACH" : "DETACH"));

    Outcome failure = Outcome::Ok;
    Process* process = current_process(command, failure);
    if (process == nullptr)
        return failure;
    begin_request(command, fmt::format("{} {} {} {}", word, command.service, attach ? "to" : "from", command.name));
    std::u16string target = win32::widen(command.name.c_str());
    std::string input(reinterpret_cast<const char*>(target.data()), target.size() * sizeof(char16_t));
    const ULONG code = attach ? IOCTL_ATTACHFILTER_ATTACH : IOCTL_ATTACHFILTER_DETACH;
    NTSTATUS status;
    {
        RequestScope scope(*this, process);
        HANDLE handle = nullptr;
        IO_STATUS_BLOCK iosb{};
        status = io::create_file(u"\\??\\IosimAttachFilter", GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE |
                                 FILE_READ_ATTRIBUTES, 0, FILE_OPEN,
                                 FILE_NON_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, UserMode, &handle, &iosb);
        if (NT_SUCCESS(status)) {
            UserBuffer buffer(process, input.size(), input);
            status = io::device_io_control(handle, code, buffer.data(), static_cast<ULONG>(buffer.size()), nullptr, 0,
                                           false, UserMode, &iosb);
            io::close_handle(handle);
        }
        last.status = static_cast<uint32_t>(status);
        last.win32_ok = NT_SUCCESS(status);
        if (last.win32_ok)
            win32::set_last_error(0);
        else
            win32::set_last_nt_error(status);
        last.last_error = current_thread()->last_error;
    }
    line("result", fmt::format("DeviceIoControl(\\\\.\\IosimAttachFilter, IOCTL_ATTACHFILTER_{}, L\"{}\") -> {}{}; "
                               "status {}",
                               attach ? "ATTACH" : "DETACH", command.name, last.win32_ok ? "TRUE" : "FALSE",
                               last.win32_ok ? std::string()
                                             : fmt::format(", GetLastError() = {}", dos_error_display(last.last_error)),
                               status_text(status)));
    return Outcome::Ok;
}

}  // namespace iosim::lang
