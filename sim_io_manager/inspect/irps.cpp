// irps.cpp - !irp: an I/O request packet, every stack location and its history.
//
//   !irp             the IRPs some thread is inside a driver routine for, right now
//   !irp 0xaddress   one of those IRPs
//
// As WinDbg's: "Irp is active with N stacks, M is current", the IRP's fields (Type,
// Flags decoded, SystemBuffer / MdlAddress / UserBuffer (and each MDL of the chain:
// virtual address, byte count, MdlFlags by name, PFNs, system address), IoStatus, RequestorMode,
// PendingReturned, Cancel, Thread), then each stack location in memory order (the
// lowest driver's first) with `>` on the current one: Major/MinorFunction names, Flags
// and Control decoded (SL_PENDING_RETURNED, SL_INVOKE_ON_*), device, file object, the
// completion routine and context, the parameters. Then what WinDbg cannot give: the
// IRP's history as iosim recorded it (io::irp_history_lines).
//
// Where IRPs come from: iosim keeps no global list of IRPs, and an address typed by the
// user may be anything, so !irp shows only IRPs found on threads' driver-call stacks
// (Thread::driver_calls: the dispatch routines and completion routines running now),
// each checked before it is read (support.cpp, readable_live_irp). A typed address must
// be one of those; anything else is refused without being read. Pointers inside the
// IRP (device, file, thread) are printed by name only if they are live objects.
#include <fmt/format.h>

#include <cstring>

#include "device.h"
#include "driver.h"
#include "file.h"
#include "inspect/commands.h"
#include "irp.h"
#include "mdl.h"
#include "rtl/status_names.h"

namespace iosim::inspect::detail {

namespace {

constexpr const char* kUsage = "!irp: expected an IRP address (0x...) or nothing";

const FlagName kIrpFlags[] = {
    {IRP_NOCACHE, "IRP_NOCACHE"},
    {IRP_PAGING_IO, "IRP_PAGING_IO"},
    {IRP_SYNCHRONOUS_API, "IRP_SYNCHRONOUS_API"},
    {IRP_ASSOCIATED_IRP, "IRP_ASSOCIATED_IRP"},
    {IRP_BUFFERED_IO, "IRP_BUFFERED_IO"},
    {IRP_DEALLOCATE_BUFFER, "IRP_DEALLOCATE_BUFFER"},
    {IRP_INPUT_OPERATION, "IRP_INPUT_OPERATION"},
    {IRP_CREATE_OPERATION, "IRP_CREATE_OPERATION"},
    {IRP_READ_OPERATION, "IRP_READ_OPERATION"},
    {IRP_WRITE_OPERATION, "IRP_WRITE_OPERATION"},
    {IRP_CLOSE_OPERATION, "IRP_CLOSE_OPERATION"},
    {IRP_DEFER_IO_COMPLETION, "IRP_DEFER_IO_COMPLETION"},
    {IRP_OB_QUERY_NAME, "IRP_OB_QUERY_NAME"},
    {IRP_HOLD_DEVICE_QUEUE, "IRP_HOLD_DEVICE_QUEUE"},
};

const FlagName kControl[] = {
    {SL_PENDING_RETURNED, "SL_PENDING_RETURNED"},
    {SL_ERROR_RETURNED, "SL_ERROR_RETURNED"},
    {SL_INVOKE_ON_CANCEL, "SL_INVOKE_ON_CANCEL"},
    {SL_INVOKE_ON_SUCCESS, "SL_INVOKE_ON_SUCCESS"},
    {SL_INVOKE_ON_ERROR, "SL_INVOKE_ON_ERROR"},
};

const FlagName kCreateFlags[] = {
    {SL_FORCE_ACCESS_CHECK, "SL_FORCE_ACCESS_CHECK"},
    {SL_OPEN_PAGING_FILE, "SL_OPEN_PAGING_FILE"},
    {SL_OPEN_TARGET_DIRECTORY, "SL_OPEN_TARGET_DIRECTORY"},
    {SL_CASE_SENSITIVE, "SL_CASE_SENSITIVE"},
};

const FlagName kReadWriteFlags[] = {
    {SL_KEY_SPECIFIED, "SL_KEY_SPECIFIED"},
    {SL_OVERRIDE_VERIFY_VOLUME, "SL_OVERRIDE_VERIFY_VOLUME"},
    {SL_WRITE_THROUGH, "SL_WRITE_THROUGH"},
    {SL_FT_SEQUENTIAL_WRITE, "SL_FT_SEQUENTIAL_WRITE"},
};

const char* const kPnpMinors[] = {
    "IRP_MN_START_DEVICE", "IRP_MN_QUERY_REMOVE_DEVICE", "IRP_MN_REMOVE_DEVICE", "IRP_MN_CANCEL_REMOVE_DEVICE",
    "IRP_MN_STOP_DEVICE", "IRP_MN_QUERY_STOP_DEVICE", "IRP_MN_CANCEL_STOP_DEVICE", "IRP_MN_QUERY_DEVICE_RELATIONS",
    "IRP_MN_QUERY_INTERFACE", "IRP_MN_QUERY_CAPABILITIES", "IRP_MN_QUERY_RESOURCES",
    "IRP_MN_QUERY_RESOURCE_REQUIREMENTS", "IRP_MN_QUERY_DEVICE_TEXT", "IRP_MN_FILTER_RESOURCE_REQUIREMENTS",
    nullptr, "IRP_MN_READ_CONFIG", "IRP_MN_WRITE_CONFIG", "IRP_MN_EJECT", "IRP_MN_SET_LOCK", "IRP_MN_QUERY_ID",
    "IRP_MN_QUERY_PNP_DEVICE_STATE", "IRP_MN_QUERY_BUS_INFORMATION", "IRP_MN_DEVICE_USAGE_NOTIFICATION",
    "IRP_MN_SURPRISE_REMOVAL", nullptr, "IRP_MN_DEVICE_ENUMERATED",
};
const char* const kPowerMinors[] = {"IRP_MN_WAIT_WAKE", "IRP_MN_POWER_SEQUENCE", "IRP_MN_SET_POWER",
                                    "IRP_MN_QUERY_POWER"};

std::string minor_text(UCHAR major, UCHAR minor)
{
    const char* name = nullptr;
    if (major == IRP_MJ_PNP && minor < std::size(kPnpMinors))
        name = kPnpMinors[minor];
    else if (major == IRP_MJ_POWER && minor < std::size(kPowerMinors))
        name = kPowerMinors[minor];
    return name != nullptr ? fmt::format("{} (0x{:02x})", name, minor) : fmt::format("minor 0x{:02x}", minor);
}

std::string ioctl_text(ULONG code)
{
    static const char* const kMethods[] = {"METHOD_BUFFERED", "METHOD_IN_DIRECT", "METHOD_OUT_DIRECT", "METHOD_NEITHER"};
    static const char* const kAccess[] = {"FILE_ANY_ACCESS", "FILE_READ_ACCESS", "FILE_WRITE_ACCESS",
                                          "FILE_READ_ACCESS | FILE_WRITE_ACCESS"};
    return fmt::format("0x{:08x} (DeviceType 0x{:x}, Function 0x{:x}, {}, {})", code, code >> 16, (code >> 2) & 0xfff,
                       kMethods[code & 3], kAccess[(code >> 14) & 3]);
}

// What the location's Parameters hold, decoded for the common majors. Nothing is read
// through the pointers the parameters contain.
std::string parameters_text(const IO_STACK_LOCATION& sp)
{
    const auto& p = sp.Parameters;
    switch (sp.MajorFunction) {
    case IRP_MJ_CREATE:
        return fmt::format("Create: SecurityContext {}, Options 0x{:08x}, ShareAccess 0x{:x}, FileAttributes 0x{:x}",
                           address(p.Create.SecurityContext), p.Create.Options, p.Create.ShareAccess,
                           p.Create.FileAttributes);
    case IRP_MJ_READ:
    case IRP_MJ_WRITE:
        return fmt::format("{}: Length {}, Key 0x{:x}, ByteOffset {}", sp.MajorFunction == IRP_MJ_READ ? "Read" : "Write",
                           p.Read.Length, p.Read.Key, static_cast<long long>(p.Read.ByteOffset.QuadPart));
    case IRP_MJ_DEVICE_CONTROL:
    case IRP_MJ_INTERNAL_DEVICE_CONTROL:
        return fmt::format("DeviceIoControl: IoControlCode {}, InputBufferLength {}, OutputBufferLength {}, "
                           "Type3InputBuffer {}",
                           ioctl_text(p.DeviceIoControl.IoControlCode), p.DeviceIoControl.InputBufferLength,
                           p.DeviceIoControl.OutputBufferLength, address(p.DeviceIoControl.Type3InputBuffer));
    case IRP_MJ_QUERY_INFORMATION:
    case IRP_MJ_SET_INFORMATION:
        return fmt::format("File information: Length {}, FileInformationClass {}", p.QueryFile.Length,
                           static_cast<int>(p.QueryFile.FileInformationClass));
    default:
        return fmt::format("Args: {} {} {} {}", address(p.Others.Argument1), address(p.Others.Argument2),
                           address(p.Others.Argument3), address(p.Others.Argument4));
    }
}

std::string object_text(const void* object, const std::unordered_set<const void*>& live, bool device)
{
    if (object == nullptr)
        return "none";
    if (live.count(object) == 0)
        return address(object) + " (not a live object)";
    if (device) {
        auto* d = static_cast<DEVICE_OBJECT*>(const_cast<void*>(object));
        return fmt::format("{} {} [{}]", address(object), device_label(d), io::driver_name(d->DriverObject));
    }
    auto* file = static_cast<FILE_OBJECT*>(const_cast<void*>(object));
    std::string name = file->DeviceObject != nullptr ? device_label(file->DeviceObject) : "(no device)";
    return fmt::format("{} {}{}", address(object), name, utf8(io::file_body(file)->priv.name));
}

void describe_irp(IRP* irp, std::string& out)
{
    io::IrpPrivate* priv = io::private_of(irp);
    auto devices = live_set(io::device_type());
    auto files = live_set(io::file_type());
    auto threads = live_set(thread_type());
    IO_STACK_LOCATION* first = reinterpret_cast<IO_STACK_LOCATION*>(irp + 1);
    int count = irp->StackCount;
    int current = irp->CurrentLocation;

    out += fmt::format("Irp is active with {} stacks {} is current (= {})\n", count, current,
                       current >= 1 && current <= count ? address(first + current - 1) : std::string("none"));
    out += fmt::format("IRP#{} at {}, {}{}\n", priv->id, address(irp),
                       priv->io_manager_request ? "built by the I/O manager for a system service"
                                                : "allocated by a driver (IoAllocateIrp)",
                       priv->completed ? "; IoCompleteRequest has been called" : "");
    out += fmt::format("  Type: {}{}  Size: {}\n", irp->Type, irp->Type == IO_TYPE_IRP ? " (IO_TYPE_IRP)" : "", irp->Size);
    out += fmt::format("  Flags: {}\n", flags_text(irp->Flags, kIrpFlags));
    out += fmt::format("  SystemBuffer: {}  MdlAddress: {}  UserBuffer: {}\n", address(irp->AssociatedIrp.SystemBuffer),
                       address(irp->MdlAddress), address(irp->UserBuffer));
    // The MDL chain, decoded only for MDLs iosim knows (mdl_irp.cpp): never read blindly.
    if (irp->MdlAddress != nullptr)
        for (const std::string& line : io::describe_mdl_chain(irp->MdlAddress))
            out += "    " + line + "\n";
    out += fmt::format("  IoStatus: Status {}, Information {}\n", status_text(irp->IoStatus.Status),
                       irp->IoStatus.Information);
    out += fmt::format("  RequestorMode: {}  PendingReturned: {}  Cancel: {}  CancelRoutine: {}\n",
                       irp->RequestorMode == KernelMode ? "KernelMode" : "UserMode", irp->PendingReturned ? "TRUE" : "FALSE",
                       irp->Cancel ? "TRUE" : "FALSE", routine(reinterpret_cast<const void*>(irp->CancelRoutine)));
    auto* thread = reinterpret_cast<Thread*>(irp->Tail.Overlay.Thread);
    out += fmt::format("  Thread: {}\n", thread == nullptr               ? std::string("none")
                                         : threads.count(thread) != 0 ? address(thread) + ", " + thread_text(thread)
                                                                       : address(thread) + " (not a live thread)");
    out += fmt::format("  OriginalFileObject: {}\n", object_text(irp->Tail.Overlay.OriginalFileObject, files, false));

    out += "Stack locations (memory order: the lowest driver's first):\n";
    IO_STACK_LOCATION empty{};
    for (int i = 1; i <= count; ++i) {
        const IO_STACK_LOCATION& sp = first[i - 1];
        const char* mark = i == current ? ">" : " ";
        if (std::memcmp(&sp, &empty, sizeof(empty)) == 0) {
            out += fmt::format("{}[{}] (unused)\n", mark, i);
            continue;
        }
        std::span<const FlagName> flag_names;
        if (sp.MajorFunction == IRP_MJ_CREATE)
            flag_names = kCreateFlags;
        else if (sp.MajorFunction == IRP_MJ_READ || sp.MajorFunction == IRP_MJ_WRITE)
            flag_names = kReadWriteFlags;
        out += fmt::format("{}[{}] {} (0x{:02x}), {}\n", mark, i, io::major_name(sp.MajorFunction), sp.MajorFunction,
                           minor_text(sp.MajorFunction, sp.MinorFunction));
        out += fmt::format("      Flags: {}  Control: {}\n", flags_text(sp.Flags, flag_names), flags_text(sp.Control, kControl));
        out += fmt::format("      Device: {}\n", object_text(sp.DeviceObject, devices, true));
        out += fmt::format("      File: {}\n", object_text(sp.FileObject, files, false));
        if (sp.CompletionRoutine != nullptr)
            out += fmt::format("      Completion: {}, Context {}\n",
                               routine(reinterpret_cast<const void*>(sp.CompletionRoutine)), address(sp.Context));
        else
            out += "      Completion: none\n";
        out += "      " + parameters_text(sp) + "\n";
    }
    out += "History:\n";
    for (const std::string& line : io::irp_history_lines(irp))
        out += "  " + line + "\n";
}

}  // namespace

bool irp(const Args& args, std::string& out, std::string& error)
{
    if (args.size() > 1) {
        error = kUsage;
        return false;
    }
    std::vector<DispatchedIrp> irps = dispatched_irps();
    if (args.size() == 1) {
        std::optional<uintptr_t> value = parse_address(args[0]);
        if (!value) {
            error = kUsage;
            return false;
        }
        for (const DispatchedIrp& found : irps) {
            if (reinterpret_cast<uintptr_t>(found.irp) == *value) {
                describe_irp(found.irp, out);
                return true;
            }
        }
        error = fmt::format("!irp: {} is not an IRP being dispatched (iosim shows the IRPs on threads' driver-call "
                            "stacks; see !irp without an address)",
                            address(*value));
        return false;
    }
    if (irps.empty()) {
        out += "no IRP is being dispatched\n";
        return true;
    }
    for (size_t i = 0; i < irps.size(); ++i) {
        const DispatchedIrp& found = irps[i];
        if (i > 0)
            out += "\n";
        out += fmt::format("Thread {}, {}, is inside:\n", address(found.thread), thread_text(found.thread));
        for (const DriverCall& call : found.frames)
            out += fmt::format("  {} {}\n", call.what, routine(call.routine));
        describe_irp(found.irp, out);
    }
    return true;
}

}  // namespace iosim::inspect::detail
