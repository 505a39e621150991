// power.cpp - power IRPs at a basic level: the Po* routines drivers call, and the system
// transitions the power manager drives (sleep, wake, shutdown).
//
// Rules kept (Windows' own):
//  - System power IRPs come only from the power manager, to the top of every started
//    device's stack: IRP_MN_QUERY_POWER before going to sleep (a failure vetoes, and the
//    devices asked so far get IRP_MN_SET_POWER for the working state again), then
//    IRP_MN_SET_POWER; children before their parents on the way down, parents before
//    children on the way up (waking), which is never queried. Failures of a set-power IRP
//    are ignored. Shutdown sends IRP_MN_SET_POWER for PowerSystemShutdown without a query.
//  - Device power IRPs come from the device's power policy owner (its function driver),
//    which asks the power manager for one with PoRequestPowerIrp, usually while it handles
//    a system set-power IRP; the IRP goes to the top of the stack, and the driver's
//    callback runs when it completes, after which the IRP is freed.
//  - Power IRPs start with IoStatus.Status = STATUS_NOT_SUPPORTED, as PnP IRPs do.
//  - Since Windows Vista PoCallDriver is IoCallDriver and PoStartNextPowerIrp does nothing;
//    iosim accepts both (traced) for drivers written for older systems.
//  - PoSetPowerState records a device's new power state (the driver tells the power
//    manager); iosim shows it in !devnode.
// Waking on an external signal (IRP_MN_WAIT_WAKE) needs IRPs that stay pending: it waits
// for the PnP and power managers to run on the scheduler's threads.
// NT counterparts: PoRequestPowerIrp, PoSetPowerState, PoCallDriver, PoStartNextPowerIrp,
// PopSetDevicesSystemState.
#include <fmt/format.h>

#include "device.h"
#include "irp.h"
#include "ldr/symbolize.h"
#include "pnp/pnp_irp.h"
#include "pnp/pnp_manager.h"
#include "ps/process.h"
#include "rtl/status_names.h"

namespace iosim::io::pnp {

namespace {

const char* system_state_name(SYSTEM_POWER_STATE s)
{
    static const char* const names[] = {"PowerSystemUnspecified", "PowerSystemWorking",   "PowerSystemSleeping1",
                                        "PowerSystemSleeping2",   "PowerSystemSleeping3", "PowerSystemHibernate",
                                        "PowerSystemShutdown"};
    return s >= 0 && s < PowerSystemMaximum ? names[s] : "PowerSystem(invalid)";
}

const char* device_state_name(DEVICE_POWER_STATE s)
{
    static const char* const names[] = {"PowerDeviceUnspecified", "PowerDeviceD0", "PowerDeviceD1", "PowerDeviceD2",
                                        "PowerDeviceD3"};
    return s >= 0 && s < PowerDeviceMaximum ? names[s] : "PowerDevice(invalid)";
}

std::vector<DeviceNode*> started(std::vector<DeviceNode*> nodes)
{
    std::erase_if(nodes, [](DeviceNode* n) { return n->state != NodeState::Started; });
    return nodes;
}

IrpResult send_system(DeviceNode* n, UCHAR minor, SYSTEM_POWER_STATE target, POWER_ACTION action)
{
    POWER_STATE ps;
    ps.SystemState = target;
    return send_power(n->pdo, minor, SystemPowerState, ps, action, n->instance_path);
}

struct PowerRequest {
    DEVICE_OBJECT* device;
    UCHAR minor;
    POWER_STATE state;
    PREQUEST_POWER_COMPLETE callback;
    PVOID context;
};

// Runs as the completion routine of the IRP PoRequestPowerIrp sent: the driver's callback,
// then the IRP goes back to the power manager.
NTSTATUS power_request_done(DEVICE_OBJECT*, IRP* irp, PVOID context)
{
    auto* request = static_cast<PowerRequest*>(context);
    if (request->callback != nullptr) {
        DriverCallScope scope("power completion", reinterpret_cast<const void*>(request->callback), irp);
        request->callback(request->device, request->minor, request->state, request->context, &irp->IoStatus);
    }
    delete request;
    free_irp(irp);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

}  // namespace

SYSTEM_POWER_STATE system_power_state() { return pnp_state().system_power; }

NTSTATUS sleep(SYSTEM_POWER_STATE target, std::string* message)
{
    std::string local;
    std::string& text = message != nullptr ? *message : local;
    NTSTATUS status = STATUS_SUCCESS;
    {
        BusyScope busy;
        PnpState& s = pnp_state();
        if (target < PowerSystemSleeping1 || target > PowerSystemHibernate) {
            text = fmt::format("{} is not a sleeping state (PowerSystemSleeping1..3 or PowerSystemHibernate)",
                               system_state_name(target));
            return STATUS_INVALID_PARAMETER;
        }
        if (s.system_power != PowerSystemWorking) {
            text = fmt::format("the machine is already in {}", system_state_name(s.system_power));
            return STATUS_INVALID_DEVICE_STATE;
        }
        POWER_ACTION action = target == PowerSystemHibernate ? PowerActionHibernate : PowerActionSleep;
        s.last_action = action;
        std::vector<DeviceNode*> nodes = started(subtree_leaves_first(root_node()));
        note(fmt::format("going to {}: IRP_MN_QUERY_POWER to {} device(s), children first", system_state_name(target),
                         nodes.size()));
        std::vector<DeviceNode*> asked;
        for (DeviceNode* n : nodes) {
            IrpResult r = send_system(n, IRP_MN_QUERY_POWER, target, action);
            asked.push_back(n);
            if (r.completed && NT_SUCCESS(r.status))
                continue;
            for (DeviceNode* a : asked)
                send_system(a, IRP_MN_SET_POWER, PowerSystemWorking, action);
            status = r.completed ? r.status : STATUS_UNSUCCESSFUL;
            text = fmt::format("{} vetoed: IRP_MN_QUERY_POWER for {} failed with {}{}; the {} device(s) asked were "
                               "told to stay in PowerSystemWorking",
                               system_state_name(target), n->instance_path, status_text(status),
                               r.completed_at.empty() ? "" : " (completed at " + r.completed_at + ")", asked.size());
            note(text);
            return status;
        }
        for (DeviceNode* n : nodes) {
            send_system(n, IRP_MN_SET_POWER, target, action);
            n->system_power = target;
        }
        s.system_power = target;
        text = fmt::format("the machine is in {}", system_state_name(target));
        note(text);
    }
    drain_invalidations();
    return status;
}

NTSTATUS wake(std::string* message)
{
    std::string local;
    std::string& text = message != nullptr ? *message : local;
    {
        BusyScope busy;
        PnpState& s = pnp_state();
        if (s.system_power == PowerSystemWorking) {
            text = "the machine is awake already (PowerSystemWorking)";
            return STATUS_INVALID_DEVICE_STATE;
        }
        std::vector<DeviceNode*> nodes = started(subtree_parents_first(root_node()));
        note(fmt::format("waking: IRP_MN_SET_POWER (PowerSystemWorking) to {} device(s), parents first", nodes.size()));
        for (DeviceNode* n : nodes) {
            send_system(n, IRP_MN_SET_POWER, PowerSystemWorking, s.last_action);
            n->system_power = PowerSystemWorking;
        }
        s.system_power = PowerSystemWorking;
        text = "the machine is in PowerSystemWorking";
    }
    drain_invalidations();
    return STATUS_SUCCESS;
}

void power_off_for_shutdown()
{
    PnpState& s = pnp_state();
    std::vector<DeviceNode*> nodes = started(subtree_leaves_first(root_node()));
    if (nodes.empty())
        return;
    s.last_action = PowerActionShutdownOff;
    note(fmt::format("shutdown: IRP_MN_SET_POWER (PowerSystemShutdown) to {} device(s), children first", nodes.size()));
    for (DeviceNode* n : nodes) {
        send_system(n, IRP_MN_SET_POWER, PowerSystemShutdown, PowerActionShutdownOff);
        n->system_power = PowerSystemShutdown;
    }
    s.system_power = PowerSystemShutdown;
}

}  // namespace iosim::io::pnp

using namespace iosim;
using namespace iosim::io;
using namespace iosim::io::pnp;

extern "C" {

void PoStartNextPowerIrp(PIRP Irp)
{
    const void* caller = __builtin_return_address(0);
    System* sys = System::current();
    bool power = is_live_irp(Irp) && Irp->CurrentLocation >= 1 && Irp->CurrentLocation <= Irp->StackCount &&
                 IoGetCurrentIrpStackLocation(Irp)->MajorFunction == IRP_MJ_POWER;
    if (!power) {
        sys->report({"PO_START_NEXT_NOT_POWER_IRP",
                     "PoStartNextPowerIrp was called for something that is not a power IRP being handled: call it "
                     "only for the IRP_MJ_POWER IRP in your dispatch routine (or its completion routine).",
                     ldr::describe_call_site(caller), {}});
        return;
    }
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Irp, private_of(Irp)->id,
                            fmt::format("IRP#{} PoStartNextPowerIrp at {} (nothing to do since Windows Vista)",
                                        private_of(Irp)->id, ldr::describe_call_site(caller)));
}

NTSTATUS PoCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    return call_driver(DeviceObject, Irp, __builtin_return_address(0));
}

POWER_STATE PoSetPowerState(PDEVICE_OBJECT DeviceObject, POWER_STATE_TYPE Type, POWER_STATE State)
{
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    POWER_STATE previous;
    if (Type == SystemPowerState) {
        previous.SystemState = s.system_power;  // the system's state is the power manager's to set
        return previous;
    }
    auto it = s.device_power.find(DeviceObject);
    previous.DeviceState = it != s.device_power.end() ? it->second : PowerDeviceD0;
    s.device_power[DeviceObject] = State.DeviceState;
    if (previous.DeviceState != State.DeviceState)
        note(fmt::format("{} is now in {} (PoSetPowerState)", device_name(DeviceObject),
                         device_state_name(State.DeviceState)));
    return previous;
}

NTSTATUS PoRequestPowerIrp(PDEVICE_OBJECT DeviceObject, UCHAR MinorFunction, POWER_STATE PowerState,
                           PREQUEST_POWER_COMPLETE CompletionFunction, PVOID Context, PIRP* Irp)
{
    const void* caller = __builtin_return_address(0);
    System* sys = System::current();
    if (Irp != nullptr)
        *Irp = nullptr;
    if (MinorFunction == IRP_MN_WAIT_WAKE) {
        note(fmt::format("PoRequestPowerIrp(IRP_MN_WAIT_WAKE) from {}: waking on a device signal needs IRPs that stay "
                         "pending, which iosim's power manager does not handle yet",
                         ldr::describe_call_site(caller)));
        return STATUS_NOT_SUPPORTED;
    }
    if ((MinorFunction != IRP_MN_SET_POWER && MinorFunction != IRP_MN_QUERY_POWER) ||
        PowerState.DeviceState <= PowerDeviceUnspecified || PowerState.DeviceState >= PowerDeviceMaximum)
        return STATUS_INVALID_PARAMETER_2;
    DEVICE_OBJECT* top = IoGetAttachedDeviceReference(DeviceObject);
    IRP* irp = allocate_irp(top->StackSize, false);
    irp->RequestorMode = KernelMode;
    irp->IoStatus.Status = STATUS_NOT_SUPPORTED;
    irp->Tail.Overlay.Thread = reinterpret_cast<PETHREAD>(sys->system_thread());
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = IRP_MJ_POWER;
    sp->MinorFunction = MinorFunction;
    sp->Parameters.Power.SystemContext = 0;
    sp->Parameters.Power.Type = DevicePowerState;
    sp->Parameters.Power.State = PowerState;
    sp->Parameters.Power.ShutdownType = pnp_state().last_action;
    auto* request = new PowerRequest{DeviceObject, MinorFunction, PowerState, CompletionFunction, Context};
    IoSetCompletionRoutine(irp, &power_request_done, request, TRUE, TRUE, TRUE);
    uint64_t id = private_of(irp)->id;
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Irp, id,
                            fmt::format("IRP#{} allocated for IRP_MJ_POWER {} ({}) by PoRequestPowerIrp at {}", id,
                                        minor_name(IRP_MJ_POWER, MinorFunction),
                                        device_state_name(PowerState.DeviceState), ldr::describe_call_site(caller)),
                            {.phase = trace::IrpPhase::Allocated, .major = IRP_MJ_POWER, .stack_count = irp->StackCount});
    if (Irp != nullptr)
        *Irp = irp;
    call_driver(top, irp, caller);
    ob::dereference(top);
    return STATUS_PENDING;  // as on Windows: the result arrives in the callback
}

}  // extern "C"
