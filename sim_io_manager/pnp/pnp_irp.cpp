// pnp_irp.cpp - building, sending and finishing the PnP manager's and power manager's IRPs.
// NT counterparts: IopSynchronousCall, IopQueryDeviceId, IopQueryDeviceCapabilities, PopAllocateIrp.
#include "pnp/pnp_irp.h"

#include <fmt/format.h>

#include <mutex>
#include <vector>

#include "crt/format.h"
#include "device.h"
#include "irp.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io::pnp {

namespace {

const char* const kPnpMinors[] = {
    "IRP_MN_START_DEVICE",          "IRP_MN_QUERY_REMOVE_DEVICE",       "IRP_MN_REMOVE_DEVICE",
    "IRP_MN_CANCEL_REMOVE_DEVICE",  "IRP_MN_STOP_DEVICE",               "IRP_MN_QUERY_STOP_DEVICE",
    "IRP_MN_CANCEL_STOP_DEVICE",    "IRP_MN_QUERY_DEVICE_RELATIONS",    "IRP_MN_QUERY_INTERFACE",
    "IRP_MN_QUERY_CAPABILITIES",    "IRP_MN_QUERY_RESOURCES",           "IRP_MN_QUERY_RESOURCE_REQUIREMENTS",
    "IRP_MN_QUERY_DEVICE_TEXT",     "IRP_MN_FILTER_RESOURCE_REQUIREMENTS", "IRP_MN_(0x0E)",
    "IRP_MN_READ_CONFIG",           "IRP_MN_WRITE_CONFIG",              "IRP_MN_EJECT",
    "IRP_MN_SET_LOCK",              "IRP_MN_QUERY_ID",                  "IRP_MN_QUERY_PNP_DEVICE_STATE",
    "IRP_MN_QUERY_BUS_INFORMATION", "IRP_MN_DEVICE_USAGE_NOTIFICATION", "IRP_MN_SURPRISE_REMOVAL",
    "IRP_MN_(0x18)",                "IRP_MN_DEVICE_ENUMERATED",
};
const char* const kPowerMinors[] = {"IRP_MN_WAIT_WAKE", "IRP_MN_POWER_SEQUENCE", "IRP_MN_SET_POWER",
                                    "IRP_MN_QUERY_POWER"};

std::mutex g_stranded_lock;
std::vector<std::pair<IRP*, uint64_t>> g_stranded;  // pending IRPs nobody can wait for yet

std::string completer(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    uint32_t count = priv->history_count;
    uint32_t first = count > IrpPrivate::kHistorySize ? count - IrpPrivate::kHistorySize : 0;
    for (uint32_t i = count; i > first; --i) {
        const HistoryEntry& e = priv->history[(i - 1) % IrpPrivate::kHistorySize];
        if (e.kind == HistoryKind::Completed)
            return e.where != nullptr ? ldr::describe_call_site(e.where) : std::string("the I/O manager");
    }
    return "";
}

IrpResult send(DEVICE_OBJECT* device, UCHAR major, UCHAR minor, const std::function<void(IO_STACK_LOCATION&)>& fill,
               std::string_view about)
{
    System* sys = System::current();
    IrpResult result;
    DEVICE_OBJECT* top = IoGetAttachedDeviceReference(device);
    IRP* irp = allocate_irp(top->StackSize, false);
    irp->RequestorMode = KernelMode;
    irp->IoStatus.Status = STATUS_NOT_SUPPORTED;  // "nobody handled it" unless a driver says otherwise
    irp->IoStatus.Information = 0;
    irp->Tail.Overlay.Thread = reinterpret_cast<PETHREAD>(sys->system_thread());
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = major;
    sp->MinorFunction = minor;
    if (fill)
        fill(*sp);
    uint64_t id = private_of(irp)->id;
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Irp, id,
                            fmt::format("IRP#{} allocated for {} {} ({} stack location{}) for {}", id, major_name(major),
                                        minor_name(major, minor), static_cast<int>(irp->StackCount),
                                        irp->StackCount == 1 ? "" : "s", about),
                            {.phase = trace::IrpPhase::Allocated, .major = major, .stack_count = irp->StackCount});
    NTSTATUS returned;
    {
        ThreadSwitch as_system(sys->system_thread());
        returned = call_driver(top, irp, nullptr);
    }
    ob::dereference(top);
    if (!is_live_irp(irp) || private_of(irp)->id != id) {
        sys->report({"PNP_IRP_FREED_BY_DRIVER",
                     fmt::format("IRP#{} ({} {} for {}) was freed by a driver: an IRP the PnP or power manager sends "
                                 "belongs to it; a driver completes it and never calls IoFreeIrp on it.",
                                 id, major_name(major), minor_name(major, minor), about),
                     "", {}});
        result.status = returned;
        return result;
    }
    IrpPrivate* priv = private_of(irp);
    if (!priv->completed) {
        sys->report({"PNP_IRP_PENDING",
                     fmt::format("IRP#{} ({} {} for {}) was not completed when the dispatch routine returned {}. The "
                                 "PnP manager waits for it on Windows; iosim's does not wait yet, so it "
                                 "goes on as if the IRP had failed.",
                                 id, major_name(major), minor_name(major, minor), about, status_text(returned)),
                     "", irp_history_lines(irp)});
        std::lock_guard guard(g_stranded_lock);
        g_stranded.emplace_back(irp, id);
        result.status = returned == STATUS_PENDING ? STATUS_UNSUCCESSFUL : returned;
        return result;
    }
    result.completed = true;
    result.status = irp->IoStatus.Status;
    result.information = irp->IoStatus.Information;
    result.completed_at = completer(irp);
    free_irp(irp);
    return result;
}

}  // namespace

const char* minor_name(UCHAR major, UCHAR minor)
{
    if (major == IRP_MJ_PNP && minor < std::size(kPnpMinors))
        return kPnpMinors[minor];
    if (major == IRP_MJ_POWER && minor < std::size(kPowerMinors))
        return kPowerMinors[minor];
    return "IRP_MN_(unknown)";
}

const char* id_type_name(BUS_QUERY_ID_TYPE type)
{
    switch (type) {
    case BusQueryDeviceID: return "BusQueryDeviceID";
    case BusQueryHardwareIDs: return "BusQueryHardwareIDs";
    case BusQueryCompatibleIDs: return "BusQueryCompatibleIDs";
    case BusQueryInstanceID: return "BusQueryInstanceID";
    case BusQueryDeviceSerialNumber: return "BusQueryDeviceSerialNumber";
    case BusQueryContainerID: return "BusQueryContainerID";
    }
    return "BusQuery(unknown)";
}

IrpResult send_pnp(DEVICE_OBJECT* device, UCHAR minor, const std::function<void(IO_STACK_LOCATION&)>& fill,
                   std::string_view about)
{
    return send(device, IRP_MJ_PNP, minor, fill, about);
}

IrpResult send_power(DEVICE_OBJECT* device, UCHAR minor, POWER_STATE_TYPE type, POWER_STATE state,
                     POWER_ACTION action, std::string_view about)
{
    return send(device, IRP_MJ_POWER, minor,
                [&](IO_STACK_LOCATION& sp) {
                    sp.Parameters.Power.SystemContext = 0;
                    sp.Parameters.Power.Type = type;
                    sp.Parameters.Power.State = state;
                    sp.Parameters.Power.ShutdownType = action;
                },
                about);
}

std::optional<std::vector<std::string>> query_id(DEVICE_OBJECT* device, BUS_QUERY_ID_TYPE type, std::string_view about)
{
    IrpResult r = send_pnp(
        device, IRP_MN_QUERY_ID, [&](IO_STACK_LOCATION& sp) { sp.Parameters.QueryId.IdType = type; }, about);
    if (!r.completed || !NT_SUCCESS(r.status) || r.information == 0)
        return std::nullopt;
    const auto* text = reinterpret_cast<const char16_t*>(r.information);
    std::vector<std::string> ids;
    bool multi = type == BusQueryHardwareIDs || type == BusQueryCompatibleIDs;
    // A REG_MULTI_SZ: strings one after another, the list ended by an empty string.
    for (const char16_t* p = text; *p != 0 && ids.size() < 64;) {
        std::u16string one(p);
        ids.push_back(crt::to_utf8(one));
        p += one.size() + 1;
        if (!multi)
            break;
    }
    free_driver_buffer(reinterpret_cast<void*>(r.information));
    return ids;
}

void free_driver_buffer(void* buffer)
{
    if (buffer != nullptr)
        System::current()->pool().free(buffer, 0, /*check_tag=*/false, nullptr);
}

void release_stranded_irps()
{
    std::vector<std::pair<IRP*, uint64_t>> irps;
    {
        std::lock_guard guard(g_stranded_lock);
        irps.swap(g_stranded);
    }
    for (auto [irp, id] : irps)
        if (is_live_irp(irp) && private_of(irp)->id == id)
            free_irp(irp);
}

}  // namespace iosim::io::pnp
