// pipe_instance.cpp - NPFS's model: pipes, instances, the data each way, the IRPs waiting.
//
// Rules kept (Windows' documented pipe behaviour, see docs/pipes.md):
//  - a write queues its bytes for the other end and completes at once (iosim does not
//    enforce the buffer quota, so a write never waits for a reader); pended reads are fed
//    first, in order;
//  - a read takes what is there and completes; with nothing there it pends (cancelable)
//    until data arrives or the other end goes - a read never waits for a full buffer;
//  - message-type pipe in message read mode: one read takes at most one message; a buffer
//    too short gets the first part with STATUS_BUFFER_OVERFLOW (ERROR_MORE_DATA) and the
//    rest stays readable; in byte read mode message boundaries are ignored;
//  - the other end cleaned up (its last handle closed): what is queued can still be read,
//    then reads fail with STATUS_PIPE_BROKEN (ERROR_BROKEN_PIPE); writes fail with
//    STATUS_PIPE_CLOSING (ERROR_NO_DATA); pended reads complete with STATUS_PIPE_BROKEN;
//  - no client yet: STATUS_PIPE_LISTENING; after DisconnectNamedPipe:
//    STATUS_PIPE_DISCONNECTED (ERROR_PIPE_NOT_CONNECTED) for either end.
// All lists are guarded by the cancel spin lock; IRPs are completed after it is released.
// NT counterparts: NpReadDataQueue, NpWriteDataQueue, NpSetClosingPipeState,
// NpSetDisconnectedPipeState, NpSetConnectedPipeState, NpCancelDataQueueIrp.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "crt/format.h"
#include "npfs/npfs.h"
#include "system.h"

namespace iosim::io::npfs {

namespace {

bool same_name(std::u16string_view a, std::u16string_view b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char16_t x = a[i], y = b[i];
        if (x >= u'a' && x <= u'z')
            x = static_cast<char16_t>(x - u'a' + u'A');
        if (y >= u'a' && y <= u'z')
            y = static_cast<char16_t>(y - u'a' + u'A');
        if (x != y)
            return false;
    }
    return true;
}

}  // namespace

// The cancel routine of every IRP NPFS queues (reads, listens): called with the cancel
// spin lock held; takes the IRP off its queue (DriverContext[0]) and completes it.
extern "C" void NpfsCancelQueuedIrp(DEVICE_OBJECT* device, IRP* irp)
{
    auto* queue = static_cast<std::deque<IRP*>*>(irp->Tail.Overlay.DriverContext[0]);
    if (queue != nullptr) {
        auto it = std::find(queue->begin(), queue->end(), irp);
        if (it != queue->end())
            queue->erase(it);
    }
    IoReleaseCancelSpinLock(irp->CancelIrql);
    irp->IoStatus.Status = STATUS_CANCELLED;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

ULONG DataQueue::bytes() const
{
    size_t n = 0;
    for (const auto& m : messages)
        n += m.left();
    return static_cast<ULONG>(n);
}

Npfs& npfs()
{
    static Npfs state;
    return state;
}

Pipe* find_pipe(std::u16string_view name)
{
    for (auto& pipe : npfs().pipes)
        if (same_name(pipe->name, name))
            return pipe.get();
    return nullptr;
}

void remove_pipe_if_unused(Pipe* pipe)
{
    if (pipe == nullptr || !pipe->instances.empty())
        return;
    note(fmt::format("pipe \\Device\\NamedPipe\\{} has no instance left: the name is gone", crt::to_utf8(pipe->name)));
    auto& pipes = npfs().pipes;
    pipes.erase(std::remove_if(pipes.begin(), pipes.end(), [&](const auto& p) { return p.get() == pipe; }),
                pipes.end());
}

void note(const std::string& text)
{
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0, "npfs: " + text);
}

std::string pipe_label(const Instance& instance)
{
    if (instance.pipe == nullptr)
        return fmt::format("pipe instance {} (server end closed)", instance.number);
    return fmt::format("\\Device\\NamedPipe\\{} instance {}", crt::to_utf8(instance.pipe->name), instance.number);
}

void complete_all(Completions& done)
{
    for (const Completion& c : done) {
        c.irp->IoStatus.Status = c.status;
        c.irp->IoStatus.Information = c.information;
        IoCompleteRequest(c.irp, IO_NAMED_PIPE_INCREMENT);
    }
    done.clear();
}

bool pend_locked(IRP* irp, std::deque<IRP*>& queue)
{
    if (irp->Cancel)
        return false;
    IoMarkIrpPending(irp);
    irp->Tail.Overlay.DriverContext[0] = &queue;
    IoSetCancelRoutine(irp, &NpfsCancelQueuedIrp);
    queue.push_back(irp);
    return true;
}

void drain_locked(std::deque<IRP*>& queue, NTSTATUS status, Completions& done)
{
    std::deque<IRP*> keep;
    for (IRP* irp : queue) {
        if (IoSetCancelRoutine(irp, nullptr) == nullptr) {
            keep.push_back(irp);  // its cancel routine is about to run and will take it off
            continue;
        }
        irp->Tail.Overlay.DriverContext[0] = nullptr;
        done.push_back({irp, status, 0});
    }
    queue.swap(keep);
}

Completion take_locked(DataQueue& queue, IRP* irp, bool message_mode)
{
    IO_STACK_LOCATION* sp = IoGetCurrentIrpStackLocation(irp);
    ULONG length = sp->Parameters.Read.Length;
    auto* out = static_cast<uint8_t*>(irp->AssociatedIrp.SystemBuffer);
    ULONG copied = 0;
    NTSTATUS status = STATUS_SUCCESS;
    if (message_mode) {
        Message& m = queue.messages.front();
        size_t n = std::min<size_t>(m.left(), length);
        if (n != 0)
            std::memcpy(out, m.bytes.data() + m.offset, n);
        m.offset += n;
        copied = static_cast<ULONG>(n);
        if (m.left() != 0)
            status = STATUS_BUFFER_OVERFLOW;  // the rest of the message stays for the next read
        else
            queue.messages.pop_front();
    } else {
        while (!queue.messages.empty() && copied < length) {
            Message& m = queue.messages.front();
            size_t n = std::min<size_t>(m.left(), length - copied);
            if (n != 0)
                std::memcpy(out + copied, m.bytes.data() + m.offset, n);
            m.offset += n;
            copied += static_cast<ULONG>(n);
            if (m.left() == 0)
                queue.messages.pop_front();
        }
        // A zero-length message left at the front of a byte read is skipped over.
        while (!queue.messages.empty() && queue.messages.front().left() == 0 && copied != 0)
            queue.messages.pop_front();
    }
    return {irp, status, copied};
}

void serve_reads_locked(DataQueue& queue, bool message_mode, Completions& done)
{
    while (!queue.reads.empty() && !queue.messages.empty()) {
        IRP* irp = queue.reads.front();
        queue.reads.pop_front();
        if (IoSetCancelRoutine(irp, nullptr) == nullptr) {
            // Being cancelled: its cancel routine completes it; put it back for it to find.
            queue.reads.push_front(irp);
            return;
        }
        irp->Tail.Overlay.DriverContext[0] = nullptr;
        done.push_back(take_locked(queue, irp, message_mode));
    }
}

NTSTATUS read_state_locked(const Ccb& ccb)
{
    const Instance& in = *ccb.instance;
    if (ccb.detached)
        return STATUS_PIPE_DISCONNECTED;
    if (ccb.kind == EndKind::Client)
        return in.server == nullptr ? STATUS_PIPE_BROKEN : STATUS_SUCCESS;
    switch (in.state) {
    case State::Listening: return STATUS_PIPE_LISTENING;
    case State::Disconnected: return STATUS_PIPE_DISCONNECTED;
    case State::Closing: return STATUS_PIPE_BROKEN;
    case State::Connected: return STATUS_SUCCESS;
    }
    return STATUS_SUCCESS;
}

NTSTATUS write_state_locked(const Ccb& ccb)
{
    NTSTATUS status = read_state_locked(ccb);
    return status == STATUS_PIPE_BROKEN ? STATUS_PIPE_CLOSING : status;
}

DataQueue& inbound(Ccb& ccb)
{
    return ccb.kind == EndKind::Server ? ccb.instance->to_server : ccb.instance->to_client;
}

DataQueue& outbound(Ccb& ccb)
{
    return ccb.kind == EndKind::Server ? ccb.instance->to_client : ccb.instance->to_server;
}

void cleanup_end_locked(Ccb& ccb, Completions& done)
{
    Instance& in = *ccb.instance;
    if (ccb.kind == EndKind::Client) {
        // Disconnected by the server: its reads already ended, and the instance's queues
        // may belong to a newer client now.
        if (ccb.detached || in.client != &ccb)
            return;
        drain_locked(in.to_client.reads, STATUS_PIPE_BROKEN, done);  // its own reads
        in.client = nullptr;
        if (in.state == State::Connected) {
            in.state = State::Closing;
            note(fmt::format("{}: client end cleaned up; the server end sees the pipe broken", pipe_label(in)));
        }
        drain_locked(in.to_server.reads, STATUS_PIPE_BROKEN, done);  // the server's reads
        in.to_client.messages.clear();  // nobody will read what the server wrote
        return;
    }
    // The server end: the instance leaves its pipe.
    note(fmt::format("{}: server end cleaned up{}", pipe_label(in),
                     in.client != nullptr ? "; the client end sees the pipe broken" : ""));
    drain_locked(in.to_server.reads, STATUS_PIPE_BROKEN, done);
    drain_locked(in.listens, STATUS_PIPE_BROKEN, done);
    drain_locked(in.to_client.reads, STATUS_PIPE_BROKEN, done);
    in.to_server.messages.clear();
    in.server = nullptr;
    in.state = State::Closing;
    if (Pipe* pipe = in.pipe) {
        in.pipe = nullptr;
        auto& list = pipe->instances;
        list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& p) { return p.get() == &in; }),
                   list.end());
        remove_pipe_if_unused(pipe);
    }
}

void disconnect_locked(Instance& instance, Completions& done)
{
    if (Ccb* client = instance.client) {
        client->detached = true;
        instance.client = nullptr;
    }
    drain_locked(instance.to_client.reads, STATUS_PIPE_DISCONNECTED, done);
    drain_locked(instance.to_server.reads, STATUS_PIPE_DISCONNECTED, done);
    drain_locked(instance.listens, STATUS_PIPE_DISCONNECTED, done);
    instance.to_client.messages.clear();
    instance.to_server.messages.clear();
    instance.state = State::Disconnected;
    note(fmt::format("{}: disconnected by the server (DisconnectNamedPipe)", pipe_label(instance)));
}

std::shared_ptr<Instance> connect_client_locked(Pipe& pipe, Ccb* client, Completions& done)
{
    for (auto& instance : pipe.instances) {
        if (instance->state != State::Listening)
            continue;
        instance->state = State::Connected;
        instance->client = client;
        drain_locked(instance->listens, STATUS_SUCCESS, done);  // ConnectNamedPipe returns
        note(fmt::format("{}: client connected", pipe_label(*instance)));
        return instance;
    }
    return nullptr;
}

}  // namespace iosim::io::npfs
