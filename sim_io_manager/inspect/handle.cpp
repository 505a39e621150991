// handle.cpp - !handle: the handle tables of the simulated processes.
//
//   !handle          every process's handles
//   !handle <pid>    one process's (decimal, or hex with 0x)
//
// Per process a header, then two lines per handle, as WinDbg's kernel !handle:
//
//   PROCESS 0x...  pid 20  Image: hello_open.exe  HandleCount: 1
//   0004: Object: 0x...  GrantedAccess: 0x00120089 (FILE_GENERIC_READ)
//         Type: File  Name: \Device\IosimHello
//
// A file object's name is its device's name followed by the FileName the open passed to
// the driver; an unnamed object (an anonymous event, a process) is described instead.
// GrantedAccess is what the handle table recorded at open time, decoded with the
// standard rights and, for files and events, their specific rights.
#include <fmt/format.h>

#include "file.h"
#include "inspect/commands.h"
#include "ke/event.h"
#include "system.h"

namespace iosim::inspect::detail {

namespace {

const FlagName kStandardRights[] = {
    {DELETE, "DELETE"},
    {READ_CONTROL, "READ_CONTROL"},
    {WRITE_DAC, "WRITE_DAC"},
    {WRITE_OWNER, "WRITE_OWNER"},
    {SYNCHRONIZE, "SYNCHRONIZE"},
    {ACCESS_SYSTEM_SECURITY, "ACCESS_SYSTEM_SECURITY"},
    {MAXIMUM_ALLOWED, "MAXIMUM_ALLOWED"},
    {GENERIC_ALL, "GENERIC_ALL"},
    {GENERIC_EXECUTE, "GENERIC_EXECUTE"},
    {GENERIC_WRITE, "GENERIC_WRITE"},
    {GENERIC_READ, "GENERIC_READ"},
};

const FlagName kFileRights[] = {
    // The usual combinations first, so that CreateFile's GENERIC_READ reads as it was asked.
    {FILE_ALL_ACCESS, "FILE_ALL_ACCESS"},
    {FILE_GENERIC_READ, "FILE_GENERIC_READ"},
    {FILE_GENERIC_WRITE, "FILE_GENERIC_WRITE"},
    {FILE_GENERIC_EXECUTE, "FILE_GENERIC_EXECUTE"},
    {FILE_READ_DATA, "FILE_READ_DATA"},
    {FILE_WRITE_DATA, "FILE_WRITE_DATA"},
    {FILE_APPEND_DATA, "FILE_APPEND_DATA"},
    {FILE_READ_EA, "FILE_READ_EA"},
    {FILE_WRITE_EA, "FILE_WRITE_EA"},
    {FILE_EXECUTE, "FILE_EXECUTE"},
    {FILE_DELETE_CHILD, "FILE_DELETE_CHILD"},
    {FILE_READ_ATTRIBUTES, "FILE_READ_ATTRIBUTES"},
    {FILE_WRITE_ATTRIBUTES, "FILE_WRITE_ATTRIBUTES"},
};

// Win32's values (um_sync.h), which the kernel headers do not carry.
const FlagName kEventRights[] = {
    {0x1F0003, "EVENT_ALL_ACCESS"},
    {0x0001, "EVENT_QUERY_STATE"},
    {0x0002, "EVENT_MODIFY_STATE"},
};

std::string access_text(ACCESS_MASK granted, const ob::ObjectType* type)
{
    std::vector<FlagName> names;
    if (type == &io::file_type())
        names.assign(std::begin(kFileRights), std::end(kFileRights));
    else if (type == &ke::event_type())
        names.assign(std::begin(kEventRights), std::end(kEventRights));
    names.insert(names.end(), std::begin(kStandardRights), std::end(kStandardRights));
    return flags_text(granted, names);
}

std::string name_of(void* body)
{
    const ob::ObjectType* type = ob::header_of(body)->type;
    if (type == &io::file_type()) {
        auto* file = static_cast<FILE_OBJECT*>(body);
        std::string device = file->DeviceObject != nullptr ? device_label(file->DeviceObject) : "(no device)";
        return device + utf8(io::file_body(file)->priv.name);
    }
    if (type == &process_type()) {
        auto* process = static_cast<Process*>(body);
        return fmt::format("(process {}, {})", process->pid(), process->image_name());
    }
    if (type == &thread_type())
        return "(thread: " + thread_text(static_cast<Thread*>(body)) + ")";
    std::string name = utf8(ob::full_name(body));
    return name.empty() ? "(unnamed)" : name;
}

void list_process(Process* process, std::string& out)
{
    auto handles = process->handles().list();
    out += fmt::format("PROCESS {}  pid {}  Image: {}  HandleCount: {}\n", address(process), process->pid(),
                       process->image_name(), handles.size());
    if (handles.empty())
        out += "  (no handles)\n";
    for (const ob::HandleTable::Listed& listed : handles) {
        void* object = listed.entry.object;
        const ob::ObjectType* type = ob::header_of(object)->type;
        out += fmt::format("{:04x}: Object: {}  GrantedAccess: {}\n", reinterpret_cast<uintptr_t>(listed.handle),
                           address(object), access_text(listed.entry.granted, type));
        out += fmt::format("      Type: {}  Name: {}\n", type->name, name_of(object));
    }
}

}  // namespace

bool handle(const Args& args, std::string& out, std::string& error)
{
    std::optional<uint64_t> pid;
    if (args.size() == 1)
        pid = parse_number(args[0]);
    if (args.size() > 1 || (args.size() == 1 && !pid)) {
        error = "!handle: expected a process id (decimal, or hex with 0x) or nothing";
        return false;
    }
    System* sys = System::current();
    if (pid) {
        Process* process = *pid <= UINT32_MAX ? sys->find_process(static_cast<uint32_t>(*pid)) : nullptr;
        if (process == nullptr) {
            error = fmt::format("!handle: no process with pid {} (see !process)", *pid);
            return false;
        }
        list_process(process, out);
        return true;
    }
    std::vector<Process*> processes = sys->processes();
    for (size_t i = 0; i < processes.size(); ++i) {
        if (i > 0)
            out += "\n";
        list_process(processes[i], out);
    }
    return true;
}

}  // namespace iosim::inspect::detail
