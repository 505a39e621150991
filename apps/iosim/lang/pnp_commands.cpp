// pnp_commands.cpp - the PnP commands: declaring a device's drivers, plugging and unplugging
// root devices, sleeping and waking the machine (sim_io_manager/pnp, docs/pnp.md).
//
// plug, unplug, sleep and wake are requests: what they return is the last request's status
// for 'expect status' (a vetoed removal is STATUS_UNSUCCESSFUL, the veto's own status), and
// their IRPs are the last request's for a failed expectation's report. A refused command
// (nothing declared, no such device) is not a script error: the result line says why, as
// for a failed 'load'.
#include <fmt/format.h>

#include "lang/session_impl.h"
#include "pnp/pnp.h"
#include "rtl/status_names.h"

namespace iosim::lang {

namespace {

std::string services_text(const io::pnp::DeviceConfig& config)
{
    std::string out = "function " + config.function;
    if (!config.upper.empty())
        out += fmt::format(", upper filters {}", fmt::join(config.upper, " "));
    if (!config.lower.empty())
        out += fmt::format(", lower filters {}", fmt::join(config.lower, " "));
    return out;
}

const char* sleep_name(uint64_t state)
{
    switch (state) {
    case PowerSystemSleeping1: return "S1";
    case PowerSystemSleeping2: return "S2";
    case PowerSystemSleeping3: return "S3";
    case PowerSystemHibernate: return "S4";
    default: return "S?";
    }
}

}  // namespace

Outcome Session::Impl::do_device_declare(const Command& command)
{
    io::pnp::DeviceConfig config{.function = command.service, .upper = command.args, .lower = command.lower};
    line("result", fmt::format("device {} declared: {}", command.name, services_text(config)));
    io::pnp::declare_device(command.name, std::move(config));
    return Outcome::Ok;
}

Outcome Session::Impl::do_plug(const Command& command)
{
    begin_request(command, "plug " + command.name);
    std::string instance, message;
    NTSTATUS status = io::pnp::plug(command.name, &instance, &message);
    collecting = false;
    last.status = static_cast<uint32_t>(status);
    last.win32_ok = NT_SUCCESS(status);
    line("result", fmt::format("plug {}: {} - {}", command.name, status_text(status), message));
    return Outcome::Ok;
}

Outcome Session::Impl::do_unplug(const Command& command)
{
    bool surprise = command.number != 0;
    begin_request(command, fmt::format("unplug {}{}", command.name, surprise ? " surprise" : ""));
    std::string message;
    NTSTATUS status = io::pnp::unplug(command.name, surprise ? io::pnp::Removal::Surprise : io::pnp::Removal::Orderly,
                                      &message);
    collecting = false;
    last.status = static_cast<uint32_t>(status);
    last.win32_ok = NT_SUCCESS(status);
    line("result", fmt::format("unplug {}{}: {} - {}", command.name, surprise ? " (surprise)" : "", status_text(status),
                               message));
    return Outcome::Ok;
}

Outcome Session::Impl::do_sleep(const Command& command)
{
    begin_request(command, fmt::format("sleep {}", sleep_name(command.number)));
    std::string message;
    NTSTATUS status = io::pnp::sleep(static_cast<SYSTEM_POWER_STATE>(command.number), &message);
    collecting = false;
    last.status = static_cast<uint32_t>(status);
    last.win32_ok = NT_SUCCESS(status);
    line("result", fmt::format("sleep {}: {} - {}", sleep_name(command.number), status_text(status), message));
    return Outcome::Ok;
}

Outcome Session::Impl::do_wake(const Command& command)
{
    begin_request(command, "wake");
    std::string message;
    NTSTATUS status = io::pnp::wake(&message);
    collecting = false;
    last.status = static_cast<uint32_t>(status);
    last.win32_ok = NT_SUCCESS(status);
    line("result", fmt::format("wake: {} - {}", status_text(status), message));
    return Outcome::Ok;
}

}  // namespace iosim::lang
