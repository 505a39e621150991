// session_impl.h - the state behind a Session (internal to apps/iosim/lang).
//
// session.cpp     running files and lines, the machine-level commands, output
// requests.cpp    open/close/read/write/ioctl and how their results are shown
// overlapped.cpp  named requests on overlapped handles, wait and cancel
// filter_commands.cpp attach and detach (through attachfilter's control device)
// pnp_commands.cpp device declare, plug, unplug, sleep, wake
// expect.cpp      expectations
// breakpoints.cpp the trace listener: live display, breakpoints, the last request's IRPs
// complete.cpp    completion
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lang/command.h"
#include "lang/session.h"
#include "machine.h"

namespace iosim::lang {

struct HandleVar {
    HANDLE handle = nullptr;
    std::string process;  // the process variable it belongs to
    std::string path;
    bool open = false;
    Location opened_at;
    Location closed_at;
    bool overlapped = false;  // opened with FILE_FLAG_OVERLAPPED (an asynchronous file object)
};

class UserBuffer;

// A request named by `REQ = read|write|ioctl ...` on an overlapped handle: its OVERLAPPED,
// event and buffers live in the process's user space until the process ends (overlapped.cpp).
struct RequestVar {
    std::string handle_variable;
    HANDLE handle = nullptr;
    std::string process;       // the process variable it was issued in
    std::string api;           // "DeviceIoControl(h, 0x00222000)"
    Location issued_at;
    std::shared_ptr<UserBuffer> overlapped;  // the OVERLAPPED (Internal/InternalHigh = the IO_STATUS_BLOCK)
    std::shared_ptr<UserBuffer> input;
    std::shared_ptr<UserBuffer> output;      // read, ioctl: where the bytes arrive
    HANDLE event = nullptr;                  // its hEvent: a manual-reset event in the process
    uint32_t immediate = 0;                  // the NTSTATUS the service returned
    bool failed_at_once = false;             // an error without pending: the OVERLAPPED is never written
    std::vector<uint64_t> irps;              // IRP numbers seen while it was issued
};

struct ProcessVar {
    Process* process = nullptr;
    bool exited = false;
    Location created_at;
    Location exited_at;
};

// What the last request (open, close, read, write, ioctl, wait, cancel, attach, detach, load,
// unload, PnP) gave.
struct LastRequest {
    bool valid = false;
    std::string what;    // "ReadFile on k", for messages
    Location where;
    uint32_t status = 0;       // the NTSTATUS the system service returned
    bool win32_ok = false;     // what the Win32 call returned
    uint32_t last_error = 0;   // GetLastError() after the call
    std::optional<uint64_t> bytes;     // read, write, ioctl
    std::optional<std::string> data;   // read, ioctl: the output bytes
    std::vector<uint64_t> irps;        // IRP numbers seen while it ran
    std::string still_out;             // an overlapped request not completed yet: its name
};

struct LastRun {
    bool valid = false;
    std::string app;
    Location where;
    int exit_code = 0;
    std::string output;
};

struct Breakpoint {
    int id = 0;
    uint8_t major = 0;
    std::string device;  // "" any
    std::vector<std::string> commands;
    Location where;
};

// A breakpoint that was hit and waits for the driver to hold the IRP before its commands run.
struct ArmedBreakpoint {
    Breakpoint breakpoint;
    uint64_t irp = 0;
};

class Session::Impl {
public:
    explicit Impl(Session::Options options);
    ~Impl();

    // ---- output (session.cpp)
    void out(std::string_view text);
    void err(std::string_view text);
    void line(std::string_view label, std::string_view text);  // "  label  | text" unless quiet
    void app_text(std::string_view text);
    void flush_app();
    Outcome error_at(const Location& where, std::string_view message, Outcome outcome = Outcome::BadScript);
    void print_bugcheck(const BugCheckInfo& info);

    // ---- running (session.cpp)
    Outcome run_commands(const std::vector<Command>& commands);
    Outcome execute(const Command& command);
    Outcome dispatch(const Command& command);
    Outcome do_load(const Command& command);
    Outcome do_unload(const Command& command);
    Outcome do_process(const Command& command);
    Outcome do_in(const Command& command);
    Outcome do_exit(const Command& command);
    Outcome do_run(const Command& command);
    Outcome do_advance(const Command& command);
    Outcome do_inspect(const Command& command);
    Process* current_process(const Command& command, Outcome& failure);
    std::vector<std::string> shutdown();

    // ---- PnP (pnp_commands.cpp)
    Outcome do_device_declare(const Command& command);
    Outcome do_plug(const Command& command);
    Outcome do_unplug(const Command& command);
    Outcome do_sleep(const Command& command);
    Outcome do_wake(const Command& command);

    // ---- requests (requests.cpp)
    Outcome do_open(const Command& command);
    Outcome do_close(const Command& command);
    Outcome do_read(const Command& command);
    Outcome do_write(const Command& command);
    Outcome do_ioctl(const Command& command);
    HandleVar* handle_for(const Command& command, Outcome& failure);
    void begin_request(const Command& command, std::string what);
    void show_request_result(std::string_view api);
    void show_data(std::string_view bytes);

    // ---- overlapped requests (overlapped.cpp)
    Outcome do_overlapped_transfer(const Command& command, HandleVar& var);
    Outcome do_wait(const Command& command);
    Outcome do_cancel(const Command& command);
    RequestVar* request_for(const Command& command, Outcome& failure);

    // ---- attach / detach (filter_commands.cpp)
    Outcome do_filter(const Command& command);

    // ---- expectations (expect.cpp)
    Outcome do_expect(const Command& command);
    Outcome expectation_failed(const Command& command, std::string_view expected, std::string_view actual,
                               bool show_irps, std::string_view details = {});
    void expectation_met(std::string_view text);

    // ---- trace listener and breakpoints (breakpoints.cpp)
    void on_event(const trace::Event& event);
    Outcome do_break(const Command& command);
    Outcome do_delete(const Command& command);
    std::vector<std::string> irp_lines(const std::vector<uint64_t>& irps);
    void run_breakpoint_commands(const Breakpoint& breakpoint, std::string_view note);

    // ---- state
    Session::Options options;
    std::string app_partial;  // app output not yet ended by a newline
    Machine machine;
    Scope scope;
    std::vector<std::string> include_stack;
    std::map<std::string, HandleVar> handles;
    std::map<std::string, ProcessVar> processes;
    std::map<std::string, RequestVar> requests;
    std::string current;  // process variable commands act in ("" none yet)
    LastRequest last;
    LastRun last_run;
    bool collecting = false;  // a request is running: note its IRPs
    std::vector<Breakpoint> breakpoints;
    int next_breakpoint = 1;
    std::vector<ArmedBreakpoint> armed;
    bool in_breakpoint = false;
    Outcome pending = Outcome::Ok;  // errors raised inside the trace listener (breakpoint commands)
    std::optional<BugCheckInfo> bugcheck;
    Location bugcheck_at;
    bool bugcheck_expected = false;
    Outcome worst = Outcome::Ok;  // excluding bug checks (see Session::outcome)
    std::optional<uint64_t> seed;
    bool shut_down = false;

private:
    static Machine::Options machine_options(Impl* self);
};

// Formatting shared by the .cpp files.
std::vector<std::string> hex_dump(std::string_view bytes);  // "0000  41 42 ...  |AB..|"
bool mostly_text(std::string_view bytes);
// "code 0x... = CTL_CODE(...), input N byte(s), output M byte(s)"
std::string ioctl_text(uint32_t code, size_t input_length, size_t output_length);
// kernel32 on an asynchronous handle used without an OVERLAPPED: a pended request is waited
// for on the file handle itself; returns the final status (overlapped.cpp).
NTSTATUS wait_on_file_handle(HANDLE handle, NTSTATUS status, const IO_STATUS_BLOCK& iosb);

}  // namespace iosim::lang
