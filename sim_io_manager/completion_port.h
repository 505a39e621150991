// completion_port.h - I/O completion ports, the kernel side: a queue of completion packets
// that threads wait on.
//
// A port is an object (type "IoCompletion") whose body starts with a DISPATCHER_HEADER
// counted like a semaphore: SignalState is the number of packets queued, so a wait on it is
// satisfied while packets remain and each satisfied wait takes one (then removes the oldest
// packet: first in, first out, as KeRemoveQueue). A file object associated with a port
// (CreateIoCompletionPort on a file handle) points at {Port, Key} through
// FILE_OBJECT::CompletionContext; the I/O manager queues a packet for each of its requests
// the rules allow (iocomplete.cpp): a packet is queued only where the IO_STATUS_BLOCK is
// written (not for an error that was not pended), only when the request carried an APC
// context (kernel32 passes none when the OVERLAPPED's hEvent has its low bit set), and not
// for a success that completed without pending when the file object asks to skip those
// (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).
// NT counterparts: IoCompletionObjectType, NtCreateIoCompletion, IoSetIoCompletion,
// KeInsertQueue, KeRemoveQueue, FILE_COMPLETION_INFORMATION.
#pragma once

#include <deque>

#include "ob/object.h"
#include "wdm_impl.h"

// ntifs.h's FILE_OBJECT::CompletionContext (the shim only declares it).
struct _IO_COMPLETION_CONTEXT {
    PVOID Port;
    PVOID Key;
};

namespace iosim::io {

// FILE_OBJECT::Flags: skip the packet for a request that succeeded without pending
// (SetFileCompletionNotificationModes(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)).
constexpr ULONG kFoSkipCompletionPort = 0x02000000;  // FO_SKIP_COMPLETION_PORT
constexpr ULONG kFoSkipSetEvent = 0x04000000;        // FO_SKIP_SET_EVENT

struct CompletionPacket {
    ULONG_PTR key;
    PVOID apc_context;  // the OVERLAPPED
    IO_STATUS_BLOCK iosb;
};

struct CompletionPort {
    DISPATCHER_HEADER header;  // first: waits read the body as a dispatcher object
    std::deque<CompletionPacket> packets;
};

ob::ObjectType& completion_port_type();
CompletionPort* create_completion_port();  // one reference
void post_packet(CompletionPort* port, const CompletionPacket& packet);
// After a wait on the port was satisfied (it took one count): the oldest packet.
CompletionPacket take_packet(CompletionPort* port);

// Associates `file` with `port` under `key` (the file object holds a reference on the
// port). STATUS_INVALID_PARAMETER if it already has one.
NTSTATUS associate_completion_port(FILE_OBJECT* file, CompletionPort* port, ULONG_PTR key);

// The I/O manager's part: a packet for a request on `file` (see the rules above). Returns
// whether one was queued.
bool queue_completion_packet(FILE_OBJECT* file, PVOID apc_context, const IO_STATUS_BLOCK& iosb, bool pended);

}  // namespace iosim::io
