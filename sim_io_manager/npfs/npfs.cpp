// npfs.cpp - the named-pipe file system's driver: \FileSystem\Npfs, \Device\NamedPipe,
// \GLOBAL??\pipe, and its create, read, write, cleanup and close dispatch routines.
//
// Rules kept (docs/pipes.md; Windows' documented behaviour):
//  - IRP_MJ_CREATE_NAMED_PIPE (CreateNamedPipe) names "\x" (further backslashes are part
//    of the name, as in Windows' "Winsock2\CatalogChangeListener-..."): a new pipe, or a new instance of an existing one; more
//    instances than the first creator's MaximumInstances: STATUS_INSTANCE_NOT_AVAILABLE
//    (ERROR_PIPE_BUSY); FILE_CREATE (FILE_FLAG_FIRST_PIPE_INSTANCE) on an existing pipe:
//    STATUS_ACCESS_DENIED; a byte-type pipe in message read mode: STATUS_INVALID_PARAMETER.
//    A new instance listens at once (a client may connect before ConnectNamedPipe).
//  - IRP_MJ_CREATE of "\x" (CreateFile, ZwCreateFile): no such pipe:
//    STATUS_OBJECT_NAME_NOT_FOUND (ERROR_FILE_NOT_FOUND); no instance listening:
//    STATUS_PIPE_NOT_AVAILABLE (ERROR_PIPE_BUSY); access the pipe's direction does not
//    allow: STATUS_ACCESS_DENIED. The client end starts in byte read mode, blocking.
//    IRP_MJ_CREATE of "\" (or nothing) opens the file system's root, for FSCTL_PIPE_WAIT.
//  - IRP_MJ_SET_INFORMATION (FilePipeInformation, SetNamedPipeHandleState) sets an end's
//    read mode and completion mode; message read mode on a byte-type pipe:
//    STATUS_INVALID_PARAMETER.
//  - IRP_MJ_CLEANUP (last handle of an end closed) breaks the pipe for the other end;
//    IRP_MJ_CLOSE (last reference) frees the end.
// The device does buffered I/O, so data and FSCTL buffers live in SystemBuffer and the I/O
// manager copies them back in the requester's context, whichever thread completes.
// NT counterparts: NpFsdCreate, NpFsdCreateNamedPipe, NpFsdRead, NpFsdWrite,
// NpFsdSetInformation, NpFsdCleanup,
// NpFsdClose, NpInitializeVcb; the \GLOBAL??\pipe link the I/O manager creates at boot.
#include <fmt/format.h>

#include <cstring>

#include "crt/format.h"
#include "builtin_driver.h"
#include "driver.h"
#include "npfs/npfs.h"
#include "ob/namespace.h"
#include "system.h"

namespace iosim::io::npfs {

namespace {

std::u16string g_service = u"Npfs";
std::u16string g_object_name = u"\\FileSystem\\Npfs";
std::u16string g_device_name = u"\\Device\\NamedPipe";
std::u16string g_link_name = u"\\GLOBAL??\\pipe";

UNICODE_STRING counted(std::u16string& s)
{
    UNICODE_STRING u;
    u.Length = static_cast<USHORT>(s.size() * sizeof(char16_t));
    u.MaximumLength = u.Length;
    u.Buffer = reinterpret_cast<PWSTR>(s.data());
    return u;
}

std::u16string_view file_name(const FILE_OBJECT* file)
{
    return {reinterpret_cast<const char16_t*>(file->FileName.Buffer), file->FileName.Length / sizeof(char16_t)};
}

bool starts_with_nocase(std::u16string_view text, std::u16string_view prefix)
{
    if (text.size() < prefix.size())
        return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char16_t a = text[i], b = prefix[i];
        if (a >= u'a' && a <= u'z')
            a = static_cast<char16_t>(a - 32);
        if (b >= u'a' && b <= u'z')
            b = static_cast<char16_t>(b - 32);
        if (a != b)
            return false;
    }
    return true;
}

NTSTATUS finish(IRP* irp, NTSTATUS status, ULONG_PTR information = 0)
{
    irp->IoStatus.Status = status;
    irp->IoStatus.Information = information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return status;
}

Ccb* ccb_of(IRP* irp) { return static_cast<Ccb*>(IoGetCurrentIrpStackLocation(irp)->FileObject->FsContext2); }

void attach_ccb(FILE_OBJECT* file, Ccb* ccb)
{
    file->FsContext = ccb->instance.get();
    file->FsContext2 = ccb;
    file->Flags |= FO_NAMED_PIPE;
}

}  // namespace

// ---- dispatch routines (C names: they appear in traces and reports) ----

extern "C" NTSTATUS NpfsCreateNamedPipe(DEVICE_OBJECT* device, IRP* irp)
{
    IO_STACK_LOCATION* sp = IoGetCurrentIrpStackLocation(irp);
    auto* params = static_cast<NAMED_PIPE_CREATE_PARAMETERS*>(sp->Parameters.CreatePipe.Parameters);
    std::u16string_view name = file_name(sp->FileObject);
    if (params == nullptr)
        return finish(irp, STATUS_INVALID_PARAMETER);
    if (name.size() < 2 || name[0] != u'\\')
        return finish(irp, STATUS_OBJECT_NAME_INVALID);
    name.remove_prefix(1);
    if (params->NamedPipeType == FILE_PIPE_BYTE_STREAM_TYPE && params->ReadMode == FILE_PIPE_MESSAGE_MODE)
        return finish(irp, STATUS_INVALID_PARAMETER);
    if (params->MaximumInstances == 0)
        return finish(irp, STATUS_INVALID_PARAMETER);
    const ULONG disposition = sp->Parameters.Create.Options >> 24;
    const ACCESS_MASK access = sp->Parameters.Create.SecurityContext->DesiredAccess;
    ULONG configuration = (access & FILE_READ_DATA) && (access & FILE_WRITE_DATA) ? FILE_PIPE_FULL_DUPLEX
                          : (access & FILE_READ_DATA)                             ? FILE_PIPE_INBOUND
                                                                                  : FILE_PIPE_OUTBOUND;

    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Pipe* pipe = find_pipe(name);
    NTSTATUS status = STATUS_SUCCESS;
    if (pipe != nullptr && disposition == FILE_CREATE)
        status = STATUS_ACCESS_DENIED;  // FILE_FLAG_FIRST_PIPE_INSTANCE and the pipe exists
    else if (pipe == nullptr && disposition == FILE_OPEN)
        status = STATUS_OBJECT_NAME_NOT_FOUND;
    else if (pipe != nullptr && pipe->max_instances != 0xFFFFFFFF && pipe->instances.size() >= pipe->max_instances)
        status = STATUS_INSTANCE_NOT_AVAILABLE;
    else if (pipe != nullptr && pipe->configuration != configuration)
        status = STATUS_ACCESS_DENIED;  // every instance has the first one's direction
    if (!NT_SUCCESS(status)) {
        IoReleaseCancelSpinLock(irql);
        note(fmt::format("CreateNamedPipe \\Device\\NamedPipe\\{}: {}", crt::to_utf8(name),
                         status == STATUS_INSTANCE_NOT_AVAILABLE ? "all instances exist (STATUS_INSTANCE_NOT_AVAILABLE)"
                                                                 : "refused"));
        return finish(irp, status);
    }
    bool created = pipe == nullptr;
    if (created) {
        auto fresh = std::make_unique<Pipe>();
        fresh->name = std::u16string(name);
        fresh->type = params->NamedPipeType;
        fresh->configuration = configuration;
        fresh->max_instances = params->MaximumInstances;
        if (params->TimeoutSpecified && params->DefaultTimeout.QuadPart != 0)
            fresh->default_timeout = params->DefaultTimeout.QuadPart;
        pipe = fresh.get();
        npfs().pipes.push_back(std::move(fresh));
    }
    auto instance = std::make_shared<Instance>();
    instance->pipe = pipe;
    instance->number = pipe->next_number++;
    instance->type = pipe->type;
    instance->state = State::Listening;
    auto* ccb = new Ccb;
    ccb->kind = EndKind::Server;
    ccb->instance = instance;
    ccb->read_mode = params->ReadMode;
    ccb->completion_mode = params->CompletionMode;
    instance->server = ccb;
    pipe->instances.push_back(instance);
    attach_ccb(sp->FileObject, ccb);
    Completions done;
    instance_listening_locked(*pipe, done);
    IoReleaseCancelSpinLock(irql);
    note(fmt::format("{} created ({}{}, {} type, {} instance(s) at most): listening", pipe_label(*instance),
                     created ? "new pipe, " : "", configuration == FILE_PIPE_FULL_DUPLEX ? "duplex"
                                                  : configuration == FILE_PIPE_INBOUND ? "inbound"
                                                                                       : "outbound",
                     pipe->type == FILE_PIPE_MESSAGE_TYPE ? "message" : "byte",
                     pipe->max_instances == 0xFFFFFFFF ? std::string("unlimited")
                                                       : std::to_string(pipe->max_instances)));
    complete_all(done);
    return finish(irp, STATUS_SUCCESS, created ? FILE_CREATED : FILE_OPENED);
}

extern "C" NTSTATUS NpfsCreate(DEVICE_OBJECT* device, IRP* irp)
{
    IO_STACK_LOCATION* sp = IoGetCurrentIrpStackLocation(irp);
    std::u16string_view name = file_name(sp->FileObject);
    if (name.empty() || name == u"\\") {
        auto* ccb = new Ccb;  // the root: FSCTL_PIPE_WAIT goes there
        ccb->kind = EndKind::Root;
        attach_ccb(sp->FileObject, ccb);
        return finish(irp, STATUS_SUCCESS, FILE_OPENED);
    }
    if (name[0] != u'\\')
        return finish(irp, STATUS_OBJECT_NAME_INVALID);
    name.remove_prefix(1);
    const ACCESS_MASK access = sp->Parameters.Create.SecurityContext->DesiredAccess;
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Pipe* pipe = find_pipe(name);
    if (pipe == nullptr) {
        IoReleaseCancelSpinLock(irql);
        note(fmt::format("open \\Device\\NamedPipe\\{}: no such pipe (STATUS_OBJECT_NAME_NOT_FOUND)",
                         crt::to_utf8(name)));
        return finish(irp, STATUS_OBJECT_NAME_NOT_FOUND);
    }
    // The client reads what the server writes: an inbound pipe has nothing for it to read.
    if ((pipe->configuration == FILE_PIPE_INBOUND && (access & FILE_READ_DATA)) ||
        (pipe->configuration == FILE_PIPE_OUTBOUND && (access & FILE_WRITE_DATA))) {
        IoReleaseCancelSpinLock(irql);
        return finish(irp, STATUS_ACCESS_DENIED);
    }
    auto* ccb = new Ccb;
    ccb->kind = EndKind::Client;
    Completions done;
    std::shared_ptr<Instance> instance = connect_client_locked(*pipe, ccb, done);
    if (instance == nullptr) {
        IoReleaseCancelSpinLock(irql);
        delete ccb;
        note(fmt::format("open \\Device\\NamedPipe\\{}: no instance is listening (STATUS_PIPE_NOT_AVAILABLE)",
                         crt::to_utf8(name)));
        return finish(irp, STATUS_PIPE_NOT_AVAILABLE);
    }
    ccb->instance = instance;
    attach_ccb(sp->FileObject, ccb);
    IoReleaseCancelSpinLock(irql);
    complete_all(done);
    return finish(irp, STATUS_SUCCESS, FILE_OPENED);
}

extern "C" NTSTATUS NpfsRead(DEVICE_OBJECT* device, IRP* irp)
{
    Ccb* ccb = ccb_of(irp);
    if (ccb == nullptr || ccb->kind == EndKind::Root)
        return finish(irp, STATUS_INVALID_PARAMETER);
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    DataQueue& queue = inbound(*ccb);
    if (!ccb->detached && !queue.messages.empty() && queue.reads.empty()) {
        Completion c = take_locked(queue, irp, ccb->read_mode == FILE_PIPE_MESSAGE_MODE);
        IoReleaseCancelSpinLock(irql);
        return finish(irp, c.status, c.information);
    }
    NTSTATUS status = read_state_locked(*ccb);
    if (NT_SUCCESS(status) && ccb->completion_mode == FILE_PIPE_COMPLETE_OPERATION)
        status = STATUS_PIPE_EMPTY;  // PIPE_NOWAIT: no data, no wait
    if (NT_SUCCESS(status)) {
        if (pend_locked(irp, queue.reads)) {
            IoReleaseCancelSpinLock(irql);
            return STATUS_PENDING;  // a write, the other end's cleanup or a cancel completes it
        }
        status = STATUS_CANCELLED;
    }
    IoReleaseCancelSpinLock(irql);
    return finish(irp, status);
}

extern "C" NTSTATUS NpfsWrite(DEVICE_OBJECT* device, IRP* irp)
{
    Ccb* ccb = ccb_of(irp);
    if (ccb == nullptr || ccb->kind == EndKind::Root)
        return finish(irp, STATUS_INVALID_PARAMETER);
    IO_STACK_LOCATION* sp = IoGetCurrentIrpStackLocation(irp);
    ULONG length = sp->Parameters.Write.Length;
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    NTSTATUS status = write_state_locked(*ccb);
    Instance& in = *ccb->instance;
    if (NT_SUCCESS(status) && in.pipe != nullptr) {
        ULONG direction = in.pipe->configuration;
        bool server = ccb->kind == EndKind::Server;
        if ((direction == FILE_PIPE_INBOUND && server) || (direction == FILE_PIPE_OUTBOUND && !server))
            status = STATUS_INVALID_PARAMETER;  // this end only reads
    }
    if (!NT_SUCCESS(status)) {
        IoReleaseCancelSpinLock(irql);
        return finish(irp, status);
    }
    DataQueue& queue = outbound(*ccb);
    bool message_type = in.type == FILE_PIPE_MESSAGE_TYPE;
    if (length != 0 || message_type) {
        Message m;
        const auto* data = static_cast<const uint8_t*>(irp->AssociatedIrp.SystemBuffer);
        if (length != 0)
            m.bytes.assign(data, data + length);
        queue.messages.push_back(std::move(m));
    }
    // The reader on the other side: its read mode decides how its pended reads take data.
    Ccb* reader = ccb->kind == EndKind::Server ? in.client : in.server;
    Completions done;
    serve_reads_locked(queue, reader != nullptr && reader->read_mode == FILE_PIPE_MESSAGE_MODE, done);
    IoReleaseCancelSpinLock(irql);
    complete_all(done);
    return finish(irp, STATUS_SUCCESS, length);
}

// FilePipeInformation (SetNamedPipeHandleState): the end's read mode and completion mode.
// Message read mode on a byte-type pipe: STATUS_INVALID_PARAMETER.
extern "C" NTSTATUS NpfsSetInformation(DEVICE_OBJECT* device, IRP* irp)
{
    Ccb* ccb = ccb_of(irp);
    IO_STACK_LOCATION* sp = IoGetCurrentIrpStackLocation(irp);
    if (ccb == nullptr || ccb->kind == EndKind::Root ||
        sp->Parameters.SetFile.FileInformationClass != FilePipeInformation)
        return finish(irp, STATUS_INVALID_PARAMETER);
    if (sp->Parameters.SetFile.Length < sizeof(FILE_PIPE_INFORMATION))
        return finish(irp, STATUS_INFO_LENGTH_MISMATCH);
    const auto* info = static_cast<const FILE_PIPE_INFORMATION*>(irp->AssociatedIrp.SystemBuffer);
    if (info->ReadMode > FILE_PIPE_MESSAGE_MODE || info->CompletionMode > FILE_PIPE_COMPLETE_OPERATION ||
        (info->ReadMode == FILE_PIPE_MESSAGE_MODE && ccb->instance->type != FILE_PIPE_MESSAGE_TYPE))
        return finish(irp, STATUS_INVALID_PARAMETER);
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    ccb->read_mode = info->ReadMode;
    ccb->completion_mode = info->CompletionMode;
    IoReleaseCancelSpinLock(irql);
    return finish(irp, STATUS_SUCCESS);
}

extern "C" NTSTATUS NpfsFileSystemControl(DEVICE_OBJECT* device, IRP* irp)
{
    Ccb* ccb = ccb_of(irp);
    if (ccb == nullptr)
        return finish(irp, STATUS_INVALID_PARAMETER);
    return file_system_control(irp, ccb);
}

extern "C" NTSTATUS NpfsCleanup(DEVICE_OBJECT* device, IRP* irp)
{
    Ccb* ccb = ccb_of(irp);
    if (ccb != nullptr && ccb->kind != EndKind::Root) {
        KIRQL irql;
        IoAcquireCancelSpinLock(&irql);
        Completions done;
        cleanup_end_locked(*ccb, done);
        IoReleaseCancelSpinLock(irql);
        complete_all(done);
    }
    return finish(irp, STATUS_SUCCESS);
}

extern "C" NTSTATUS NpfsClose(DEVICE_OBJECT* device, IRP* irp)
{
    FILE_OBJECT* file = IoGetCurrentIrpStackLocation(irp)->FileObject;
    delete static_cast<Ccb*>(file->FsContext2);
    file->FsContext2 = nullptr;
    file->FsContext = nullptr;
    return finish(irp, STATUS_SUCCESS);
}

// ---- starting and stopping ----

void start_if_named(std::u16string_view nt_path)
{
    if (npfs().device != nullptr && npfs().system == System::current())
        return;
    if (starts_with_nocase(nt_path, u"\\??\\pipe") || starts_with_nocase(nt_path, u"\\GLOBAL??\\pipe") ||
        starts_with_nocase(nt_path, u"\\Device\\NamedPipe"))
        start();
}

void start()
{
    Npfs& s = npfs();
    System* sys = System::current();
    if (s.device != nullptr && s.system == sys)
        return;
    s = Npfs{};  // a previous machine's state describes objects that are gone
    DRIVER_OBJECT* driver = create_builtin_driver(g_service, g_object_name);
    driver->MajorFunction[IRP_MJ_CREATE] = &NpfsCreate;
    driver->MajorFunction[IRP_MJ_CREATE_NAMED_PIPE] = &NpfsCreateNamedPipe;
    driver->MajorFunction[IRP_MJ_READ] = &NpfsRead;
    driver->MajorFunction[IRP_MJ_WRITE] = &NpfsWrite;
    driver->MajorFunction[IRP_MJ_FILE_SYSTEM_CONTROL] = &NpfsFileSystemControl;
    driver->MajorFunction[IRP_MJ_SET_INFORMATION] = &NpfsSetInformation;
    driver->MajorFunction[IRP_MJ_CLEANUP] = &NpfsCleanup;
    driver->MajorFunction[IRP_MJ_CLOSE] = &NpfsClose;
    s.driver = driver;
    s.system = sys;

    UNICODE_STRING device_name = counted(g_device_name);
    DEVICE_OBJECT* device = nullptr;
    NTSTATUS status = IoCreateDevice(driver, 0, &device_name, FILE_DEVICE_NAMED_PIPE, 0, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        sys->ns().make_temporary(driver);
        s.driver = nullptr;
        return;
    }
    device->Flags |= DO_BUFFERED_IO;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    UNICODE_STRING link = counted(g_link_name);
    IoCreateSymbolicLink(&link, &device_name);
    s.device = device;
    note("the named-pipe file system started: \\Device\\NamedPipe, \\GLOBAL??\\pipe -> \\Device\\NamedPipe");
}

void shut_down()
{
    Npfs& s = npfs();
    System* sys = System::current();
    if (s.system != sys || s.driver == nullptr)
        return;
    if (sys->dead()) {
        s = Npfs{};  // the machine bug-checked: its objects go with it, no code runs any more
        return;
    }
    abandon_waits();
    if (s.device != nullptr) {
        UNICODE_STRING link = counted(g_link_name);
        IoDeleteSymbolicLink(&link);
        IoDeleteDevice(s.device);
    }
    sys->ns().make_temporary(s.driver);
    s = Npfs{};
}

}  // namespace iosim::io::npfs
