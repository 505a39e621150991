// completion_port.cpp - the IoCompletion object: packets, waits, file association.
// NT counterparts: NtCreateIoCompletion, IoSetIoCompletion, KeInsertQueue, KeRemoveQueue.
#include "completion_port.h"

#include <fmt/format.h>

#include <new>

#include "file.h"
#include "ke/dispatcher.h"
#include "system.h"

namespace iosim::io {

namespace {

void delete_port(void* body) { ob::destroy_body<CompletionPort>(body); }

ob::ObjectType g_port_type{.name = "IoCompletion", .delete_procedure = &delete_port};

}  // namespace

ob::ObjectType& completion_port_type() { return g_port_type; }

CompletionPort* create_completion_port()
{
    auto* port = ob::create_object_of<CompletionPort>(g_port_type);
    port->header.Type = ke::kSemaphore;  // counted: one per packet
    port->header.SignalState = 0;
    InitializeListHead(&port->header.WaitListHead);
    return port;
}

void post_packet(CompletionPort* port, const CompletionPacket& packet)
{
    port->packets.push_back(packet);
    port->header.SignalState++;
    if (System* sys = System::current()) {
        if (sys->trace().enabled())
            sys->trace().record(trace::Kind::Irp, 0,
                                fmt::format("completion port {}: packet queued (key 0x{:X}, overlapped {}, status 0x{:08X}, "
                                            "{} byte(s)); {} queued",
                                            static_cast<const void*>(port), packet.key, packet.apc_context,
                                            static_cast<ULONG>(packet.iosb.Status), packet.iosb.Information,
                                            port->packets.size()));
        sys->scheduler().signalled(&port->header);
    }
}

CompletionPacket take_packet(CompletionPort* port)
{
    CompletionPacket packet = port->packets.front();
    port->packets.pop_front();
    return packet;
}

NTSTATUS associate_completion_port(FILE_OBJECT* file, CompletionPort* port, ULONG_PTR key)
{
    FileBody* body = file_body(file);
    if (file->CompletionContext != nullptr)
        return STATUS_INVALID_PARAMETER;
    ob::reference(port);
    body->priv.completion.Port = port;
    body->priv.completion.Key = reinterpret_cast<PVOID>(key);
    file->CompletionContext = &body->priv.completion;
    return STATUS_SUCCESS;
}

bool queue_completion_packet(FILE_OBJECT* file, PVOID apc_context, const IO_STATUS_BLOCK& iosb, bool pended)
{
    if (file == nullptr || file->CompletionContext == nullptr || apc_context == nullptr)
        return false;
    if (!pended && NT_SUCCESS(iosb.Status) && (file->Flags & kFoSkipCompletionPort) != 0)
        return false;
    auto* port = static_cast<CompletionPort*>(file->CompletionContext->Port);
    post_packet(port, {reinterpret_cast<ULONG_PTR>(file->CompletionContext->Key), apc_context, iosb});
    return true;
}

}  // namespace iosim::io
