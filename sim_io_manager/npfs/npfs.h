// npfs.h - the named-pipe file system (NPFS): \Device\NamedPipe and its pipes.
//
// A built-in file-system driver, \FileSystem\Npfs (iosim's own code, no module, like the
// PnP manager's root bus), owns \Device\NamedPipe; \GLOBAL??\pipe links to it, so
// "\\.\pipe\x" (an app) and "\??\pipe\x" (a driver's ZwCreateFile) reach it with "\x" left
// in FileObject->FileName. Everything is a real IRP: IRP_MJ_CREATE_NAMED_PIPE makes a server
// end (a new instance), IRP_MJ_CREATE a client end (it connects to a listening instance),
// IRP_MJ_READ/WRITE move data, IRP_MJ_FILE_SYSTEM_CONTROL carries FSCTL_PIPE_LISTEN
// (ConnectNamedPipe), _DISCONNECT, _PEEK and _WAIT (WaitNamedPipe, on the root "\"),
// IRP_MJ_CLEANUP breaks the pipe for the other end, IRP_MJ_CLOSE frees the end.
// Windows starts NPFS at boot; iosim starts it the first time a pipe name is opened or
// created (start_if_named), so machines that never use a pipe show no extra objects.
// Files: npfs.cpp (driver, device, create, cleanup, close), pipe_instance.cpp (pipes,
// instances, data queues, pended IRPs), pipe_fsctl.cpp (the FSCTLs). docs/pipes.md.
// NT counterparts: npfs.sys (NpFsdCreate, NpFsdCreateNamedPipe, NpFsdRead, NpFsdWrite,
// NpFsdFileSystemControl, NpFsdCleanup, NpFsdClose; FCB = Pipe, NONPAGED_CCB = Instance).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "iosim_pipe.h"
#include "wdm_impl.h"

namespace iosim::io::npfs {

// Creates \FileSystem\Npfs, \Device\NamedPipe and \GLOBAL??\pipe when `nt_path` names a pipe
// ("\??\pipe...", "\GLOBAL??\pipe...", "\Device\NamedPipe...", any case) and NPFS is not
// running in this machine yet.
void start_if_named(std::u16string_view nt_path);
void start();
// Machine shutdown, after the drivers are gone: deletes the device, link and driver object.
void shut_down();

// ---- the model (pipe_instance.cpp) ----

enum class State : ULONG {
    Disconnected = FILE_PIPE_DISCONNECTED_STATE,  // DisconnectNamedPipe: no client until the next listen
    Listening = FILE_PIPE_LISTENING_STATE,        // a client may connect (new instance, ConnectNamedPipe)
    Connected = FILE_PIPE_CONNECTED_STATE,
    Closing = FILE_PIPE_CLOSING_STATE,            // one end was cleaned up: the other sees the break
};

// One write's bytes; a message of a message-type pipe, a chunk of the stream otherwise.
struct Message {
    std::vector<uint8_t> bytes;
    size_t offset = 0;  // already read (a message read in parts: STATUS_BUFFER_OVERFLOW)
    size_t left() const { return bytes.size() - offset; }
};

// Data flowing one way, and the reads pended until some arrives.
struct DataQueue {
    std::deque<Message> messages;
    std::deque<IRP*> reads;
    ULONG bytes() const;
};

struct Pipe;
struct Ccb;

// One instance: a server end and at most one client end at a time.
struct Instance {
    Pipe* pipe = nullptr;  // null once the server end is cleaned up
    uint32_t number = 0;   // 1, 2, ... within its pipe (traces)
    ULONG type = FILE_PIPE_BYTE_STREAM_TYPE;  // the pipe's, kept when the server end is gone
    State state = State::Listening;
    Ccb* server = nullptr;
    Ccb* client = nullptr;
    DataQueue to_server;   // written by the client, read by the server
    DataQueue to_client;
    std::deque<IRP*> listens;  // pended FSCTL_PIPE_LISTENs
};

// A named pipe (Windows' FCB): what every instance shares.
struct Pipe {
    std::u16string name;      // as created, without the leading backslash; compared case-insensitively
    ULONG type = FILE_PIPE_BYTE_STREAM_TYPE;
    ULONG configuration = FILE_PIPE_FULL_DUPLEX;
    ULONG max_instances = 1;  // 0xFFFFFFFF: unlimited
    LONGLONG default_timeout = -500000;  // 100 ns units, relative (50 ms when the creator gave 0)
    uint32_t next_number = 1;
    std::vector<std::shared_ptr<Instance>> instances;
};

enum class EndKind { Root, Server, Client };

// One opened end (FileObject->FsContext2; FsContext is the Instance).
struct Ccb {
    EndKind kind = EndKind::Root;
    std::shared_ptr<Instance> instance;
    ULONG read_mode = FILE_PIPE_BYTE_STREAM_MODE;
    ULONG completion_mode = FILE_PIPE_QUEUE_OPERATION;
    bool detached = false;  // a client end the server disconnected (DisconnectNamedPipe)
};

// NPFS's state in the running machine.
struct Npfs {
    DRIVER_OBJECT* driver = nullptr;
    DEVICE_OBJECT* device = nullptr;
    void* system = nullptr;  // the System it was started in
    std::vector<std::unique_ptr<Pipe>> pipes;
    std::vector<struct Waiter*> waiters;  // pended FSCTL_PIPE_WAITs (pipe_fsctl.cpp)
};
Npfs& npfs();

Pipe* find_pipe(std::u16string_view name);  // without a leading backslash
void remove_pipe_if_unused(Pipe* pipe);
// Trace line ("npfs | ...") when tracing.
void note(const std::string& text);
std::string pipe_label(const Instance& instance);

// Every IRP list below is touched only with the cancel spin lock held (the pattern of a
// cancel-safe queue: IoSetCancelRoutine decides who completes an IRP). Functions named
// *_locked expect it held; IRPs to complete are collected and completed after release.
struct Completion {
    IRP* irp;
    NTSTATUS status;
    ULONG_PTR information;
};
using Completions = std::vector<Completion>;
void complete_all(Completions& done);

// Queues `irp` (pended, cancelable) on `queue`; false when it was already cancelled (then
// the caller completes it with STATUS_CANCELLED).
bool pend_locked(IRP* irp, std::deque<IRP*>& queue);
// Takes every IRP off `queue` that is not being cancelled, to complete with `status`.
void drain_locked(std::deque<IRP*>& queue, NTSTATUS status, Completions& done);

// Copies from `queue` into a read IRP's buffer per the read mode; the status and byte
// count it completes with (STATUS_BUFFER_OVERFLOW: a message longer than the buffer, the
// rest stays). `message_mode`: stop at the end of the first message.
Completion take_locked(DataQueue& queue, IRP* irp, bool message_mode);
// Feeds pended reads from the queue's data.
void serve_reads_locked(DataQueue& queue, bool message_mode, Completions& done);
// What a read or write by `ccb` meets when it cannot move data: STATUS_SUCCESS when the
// pipe is connected (read: wait for data; write: go ahead).
NTSTATUS read_state_locked(const Ccb& ccb);
NTSTATUS write_state_locked(const Ccb& ccb);
// The data queue `ccb` reads and the one it writes.
DataQueue& inbound(Ccb& ccb);
DataQueue& outbound(Ccb& ccb);

// Cleanup of one end: the instance closes for the other end (pended reads: STATUS_PIPE_BROKEN).
void cleanup_end_locked(Ccb& ccb, Completions& done);
// DisconnectNamedPipe: the client end is cut off, the data discarded.
void disconnect_locked(Instance& instance, Completions& done);
// A client end connects to the first listening instance of `pipe`; null when none listens.
std::shared_ptr<Instance> connect_client_locked(Pipe& pipe, Ccb* client, Completions& done);

// ---- FSCTLs (pipe_fsctl.cpp) ----
NTSTATUS file_system_control(IRP* irp, Ccb* ccb);
// An instance of `pipe` listens now: pended FSCTL_PIPE_WAITs for its name are satisfied.
void instance_listening_locked(const Pipe& pipe, Completions& done);
// Shutdown: waits still out end with STATUS_CANCELLED (no thread is left to care).
void abandon_waits();

}  // namespace iosim::io::npfs
