// pipe_fsctl.cpp - NPFS's file-system controls: FSCTL_PIPE_LISTEN (ConnectNamedPipe),
// FSCTL_PIPE_DISCONNECT (DisconnectNamedPipe), FSCTL_PIPE_PEEK (PeekNamedPipe) and
// FSCTL_PIPE_WAIT (WaitNamedPipe), each an IRP_MJ_FILE_SYSTEM_CONTROL.
//
// Rules kept (docs/pipes.md):
//  - LISTEN on a server end: listening (new, or after a disconnect) -> pends until a
//    client connects (cancelable); a client already connected -> STATUS_PIPE_CONNECTED
//    (ERROR_PIPE_CONNECTED); a client that connected and left -> STATUS_PIPE_CLOSING
//    (ERROR_NO_DATA); PIPE_NOWAIT -> STATUS_PIPE_LISTENING at once. On a client end:
//    STATUS_ILLEGAL_FUNCTION.
//  - DISCONNECT on a server end: the client end is cut off (its reads and writes then fail
//    with STATUS_PIPE_DISCONNECTED), unread data is discarded, pended requests complete
//    with STATUS_PIPE_DISCONNECTED; the instance accepts no client until the next LISTEN.
//  - PEEK: FILE_PIPE_PEEK_BUFFER (state, bytes available, messages queued, length of the
//    first message) then as much data as fits, without taking it; data cut short:
//    STATUS_BUFFER_OVERFLOW; a buffer smaller than the header: STATUS_BUFFER_TOO_SMALL;
//    never pends. Other end gone and nothing left: STATUS_PIPE_BROKEN.
//  - WAIT (on the root, FILE_PIPE_WAIT_FOR_BUFFER): no such pipe -> STATUS_OBJECT_NAME_NOT_FOUND;
//    an instance listening -> success at once; otherwise pends until one listens, or its
//    timeout (the caller's, or the pipe's default) passes -> STATUS_IO_TIMEOUT
//    (ERROR_SEM_TIMEOUT); cancelable.
// FSCTL buffers are METHOD_BUFFERED: SystemBuffer; the stack location's
// Parameters.FileSystemControl has the DeviceIoControl layout, read through that member.
// NT counterparts: NpFsdFileSystemControl, NpListen, NpDisconnect, NpPeek, NpWaitForNamedPipe,
// NpTimerDispatch.
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "crt/format.h"
#include "npfs/npfs.h"
#include "system.h"

namespace iosim::io::npfs {

// A pended FSCTL_PIPE_WAIT and its timer.
struct Waiter {
    IRP* irp = nullptr;
    std::u16string name;
    bool timed = false;
    KTIMER timer{};
    KDPC dpc{};
};

namespace {

NTSTATUS finish(IRP* irp, NTSTATUS status, ULONG_PTR information = 0)
{
    irp->IoStatus.Status = status;
    irp->IoStatus.Information = information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return status;
}

bool same_name(std::u16string_view a, std::u16string_view b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char16_t x = a[i] >= u'a' && a[i] <= u'z' ? static_cast<char16_t>(a[i] - 32) : a[i];
        char16_t y = b[i] >= u'a' && b[i] <= u'z' ? static_cast<char16_t>(b[i] - 32) : b[i];
        if (x != y)
            return false;
    }
    return true;
}

void forget_waiter_locked(Waiter* waiter)
{
    auto& list = npfs().waiters;
    list.erase(std::remove(list.begin(), list.end(), waiter), list.end());
    if (waiter->timed) {
        KeCancelTimer(&waiter->timer);
        KeRemoveQueueDpc(&waiter->dpc);
    }
}

}  // namespace

// The timer DPC of a pended FSCTL_PIPE_WAIT: the wait timed out.
extern "C" void NpfsWaitTimerDpc(KDPC* dpc, PVOID context, PVOID, PVOID)
{
    auto* waiter = static_cast<Waiter*>(context);
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    auto& list = npfs().waiters;
    if (std::find(list.begin(), list.end(), waiter) == list.end() ||
        IoSetCancelRoutine(waiter->irp, nullptr) == nullptr) {
        IoReleaseCancelSpinLock(irql);  // satisfied or being cancelled: not ours any more
        return;
    }
    waiter->timed = false;  // this is its DPC running: nothing to cancel
    forget_waiter_locked(waiter);
    IoReleaseCancelSpinLock(irql);
    note(fmt::format("WaitNamedPipe for {}: timed out (STATUS_IO_TIMEOUT)", crt::to_utf8(waiter->name)));
    IRP* irp = waiter->irp;
    delete waiter;
    finish(irp, STATUS_IO_TIMEOUT);
}

extern "C" void NpfsCancelWait(DEVICE_OBJECT* device, IRP* irp)
{
    auto* waiter = static_cast<Waiter*>(irp->Tail.Overlay.DriverContext[0]);
    forget_waiter_locked(waiter);
    IoReleaseCancelSpinLock(irp->CancelIrql);
    delete waiter;
    finish(irp, STATUS_CANCELLED);
}

void instance_listening_locked(const Pipe& pipe, Completions& done)
{
    auto& list = npfs().waiters;
    for (size_t i = 0; i < list.size();) {
        Waiter* waiter = list[i];
        if (!same_name(waiter->name, pipe.name) || IoSetCancelRoutine(waiter->irp, nullptr) == nullptr) {
            ++i;
            continue;
        }
        forget_waiter_locked(waiter);
        done.push_back({waiter->irp, STATUS_SUCCESS, 0});
        delete waiter;
    }
}

void abandon_waits()
{
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Completions done;
    auto list = npfs().waiters;
    for (Waiter* waiter : list) {
        if (IoSetCancelRoutine(waiter->irp, nullptr) == nullptr)
            continue;
        forget_waiter_locked(waiter);
        done.push_back({waiter->irp, STATUS_CANCELLED, 0});
        delete waiter;
    }
    IoReleaseCancelSpinLock(irql);
    complete_all(done);
}

namespace {

NTSTATUS listen(IRP* irp, Ccb& ccb)
{
    if (ccb.kind != EndKind::Server)
        return finish(irp, STATUS_ILLEGAL_FUNCTION);
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Instance& in = *ccb.instance;
    Completions done;
    NTSTATUS status = STATUS_PENDING;
    switch (in.state) {
    case State::Connected: status = STATUS_PIPE_CONNECTED; break;
    case State::Closing: status = STATUS_PIPE_CLOSING; break;
    case State::Disconnected:
        in.state = State::Listening;
        note(fmt::format("{}: listening again (ConnectNamedPipe)", pipe_label(in)));
        if (in.pipe != nullptr)
            instance_listening_locked(*in.pipe, done);
        break;
    case State::Listening: break;
    }
    if (status == STATUS_PENDING && ccb.completion_mode == FILE_PIPE_COMPLETE_OPERATION)
        status = STATUS_PIPE_LISTENING;
    if (status == STATUS_PENDING) {
        if (pend_locked(irp, in.listens)) {
            IoReleaseCancelSpinLock(irql);
            complete_all(done);
            return STATUS_PENDING;  // a client's IRP_MJ_CREATE completes it
        }
        status = STATUS_CANCELLED;
    }
    IoReleaseCancelSpinLock(irql);
    complete_all(done);
    return finish(irp, status);
}

NTSTATUS disconnect(IRP* irp, Ccb& ccb)
{
    if (ccb.kind != EndKind::Server)
        return finish(irp, STATUS_ILLEGAL_FUNCTION);
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Instance& in = *ccb.instance;
    NTSTATUS status = STATUS_SUCCESS;
    Completions done;
    if (in.state == State::Disconnected)
        status = STATUS_PIPE_DISCONNECTED;
    else
        disconnect_locked(in, done);
    IoReleaseCancelSpinLock(irql);
    complete_all(done);
    return finish(irp, status);
}

NTSTATUS peek(IRP* irp, Ccb& ccb, ULONG output_length)
{
    constexpr ULONG header = FIELD_OFFSET(FILE_PIPE_PEEK_BUFFER, Data);
    if (ccb.kind == EndKind::Root)
        return finish(irp, STATUS_INVALID_PARAMETER);
    if (output_length < header)
        return finish(irp, STATUS_BUFFER_TOO_SMALL);
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Instance& in = *ccb.instance;
    DataQueue& queue = inbound(ccb);
    NTSTATUS status = STATUS_SUCCESS;
    if (ccb.detached || in.state == State::Disconnected)
        status = STATUS_PIPE_DISCONNECTED;
    else if (in.state == State::Listening)
        status = STATUS_INVALID_PIPE_STATE;
    else if (queue.messages.empty() && read_state_locked(ccb) == STATUS_PIPE_BROKEN)
        status = STATUS_PIPE_BROKEN;
    if (!NT_SUCCESS(status)) {
        IoReleaseCancelSpinLock(irql);
        return finish(irp, status);
    }
    auto* out = static_cast<FILE_PIPE_PEEK_BUFFER*>(irp->AssociatedIrp.SystemBuffer);
    bool message_type = in.type == FILE_PIPE_MESSAGE_TYPE;
    out->NamedPipeState = static_cast<ULONG>(read_state_locked(ccb) == STATUS_PIPE_BROKEN ? State::Closing
                                                                                          : State::Connected);
    out->ReadDataAvailable = queue.bytes();
    out->NumberOfMessages = message_type ? static_cast<ULONG>(queue.messages.size()) : 0;
    out->MessageLength = message_type && !queue.messages.empty() ? static_cast<ULONG>(queue.messages.front().left()) : 0;
    // The data: the first message of a message-type pipe, else the stream.
    ULONG room = output_length - header;
    ULONG copied = 0;
    ULONG wanted = message_type ? out->MessageLength : out->ReadDataAvailable;
    for (const Message& m : queue.messages) {
        size_t n = std::min<size_t>(m.left(), room - copied);
        std::memcpy(out->Data + copied, m.bytes.data() + m.offset, n);
        copied += static_cast<ULONG>(n);
        if (message_type || copied == room)
            break;
    }
    IoReleaseCancelSpinLock(irql);
    return finish(irp, copied < wanted ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS, header + copied);
}

NTSTATUS wait_for_pipe(IRP* irp, Ccb& ccb, ULONG input_length)
{
    constexpr ULONG header = FIELD_OFFSET(FILE_PIPE_WAIT_FOR_BUFFER, Name);
    if (ccb.kind != EndKind::Root)
        return finish(irp, STATUS_ILLEGAL_FUNCTION);
    auto* in = static_cast<FILE_PIPE_WAIT_FOR_BUFFER*>(irp->AssociatedIrp.SystemBuffer);
    if (in == nullptr || input_length < header || in->NameLength > input_length - header || in->NameLength % 2 != 0)
        return finish(irp, STATUS_INVALID_PARAMETER);
    std::u16string name(reinterpret_cast<const char16_t*>(in->Name), in->NameLength / sizeof(char16_t));
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Pipe* pipe = find_pipe(name);
    if (pipe == nullptr) {
        IoReleaseCancelSpinLock(irql);
        note(fmt::format("WaitNamedPipe for {}: no such pipe (STATUS_OBJECT_NAME_NOT_FOUND)", crt::to_utf8(name)));
        return finish(irp, STATUS_OBJECT_NAME_NOT_FOUND);
    }
    for (const auto& instance : pipe->instances)
        if (instance->state == State::Listening) {
            IoReleaseCancelSpinLock(irql);
            return finish(irp, STATUS_SUCCESS);
        }
    LONGLONG timeout = in->TimeoutSpecified ? in->Timeout.QuadPart : pipe->default_timeout;
    if (irp->Cancel) {
        IoReleaseCancelSpinLock(irql);
        return finish(irp, STATUS_CANCELLED);
    }
    auto* waiter = new Waiter;
    waiter->irp = irp;
    waiter->name = name;
    waiter->timed = timeout != LLONG_MIN;  // LLONG_MIN: NMPWAIT_WAIT_FOREVER
    IoMarkIrpPending(irp);
    irp->Tail.Overlay.DriverContext[0] = waiter;
    IoSetCancelRoutine(irp, &NpfsCancelWait);
    npfs().waiters.push_back(waiter);
    if (waiter->timed) {
        KeInitializeTimer(&waiter->timer);
        KeInitializeDpc(&waiter->dpc, &NpfsWaitTimerDpc, waiter);
        LARGE_INTEGER due;
        due.QuadPart = timeout > 0 ? -timeout : timeout;  // relative either way
        KeSetTimer(&waiter->timer, due, &waiter->dpc);
    }
    IoReleaseCancelSpinLock(irql);
    note(fmt::format("WaitNamedPipe for {}: every instance is busy; waiting", crt::to_utf8(name)));
    return STATUS_PENDING;
}

}  // namespace

NTSTATUS file_system_control(IRP* irp, Ccb* ccb)
{
    IO_STACK_LOCATION* sp = IoGetCurrentIrpStackLocation(irp);
    const ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;  // = FileSystemControl.FsControlCode
    switch (code) {
    case FSCTL_PIPE_LISTEN: return listen(irp, *ccb);
    case FSCTL_PIPE_DISCONNECT: return disconnect(irp, *ccb);
    case FSCTL_PIPE_PEEK: return peek(irp, *ccb, sp->Parameters.DeviceIoControl.OutputBufferLength);
    case FSCTL_PIPE_WAIT: return wait_for_pipe(irp, *ccb, sp->Parameters.DeviceIoControl.InputBufferLength);
    default: return finish(irp, STATUS_INVALID_DEVICE_REQUEST);  // TRANSCEIVE, events, impersonation: not simulated
    }
}

}  // namespace iosim::io::npfs
