// win32.h - shared helpers of iosim's Win32 layer (kernel32, advapi32, user32 subset).
//
// The Win32 layer is user-mode code of the simulated process: it turns Win32 calls into
// the I/O system services (io_api.h) exactly as kernel32 does, including which error a
// failing call leaves in GetLastError (RtlNtStatusToDosError of the NTSTATUS).
#pragma once

#include <string>
#include <string_view>

#include "nt.h"

namespace iosim {
class Process;
}

namespace iosim::win32 {

// Sets the calling thread's last error from an NTSTATUS, as BaseSetLastNTError does.
void set_last_nt_error(NTSTATUS status);
void set_last_error(ULONG error);

// kernel32's view of a read, write or device-control status: whether the call returns TRUE
// and the byte count it reports (none for an error or a pended request); sets the last
// error when it returns FALSE. With `eof_is_success` (a synchronous ReadFile), end of file
// is TRUE with 0 bytes.
struct TransferResult {
    bool ok;
    ULONG_PTR bytes;
};
TransferResult transfer_result(NTSTATUS status, ULONG_PTR information, bool eof_is_success);

// "\\.\X" -> "\??\X", "C:\dir" -> "\??\C:\dir", ... (RtlDosPathNameToNtPathName).
std::u16string dos_path_to_nt(std::u16string_view path);

std::u16string widen(const char* text);             // ANSI (UTF-8 here) -> UTF-16
std::u16string widen(const char16_t* text);          // copy of a NUL-terminated string
std::string narrow(std::u16string_view text);        // UTF-16 -> UTF-8

// Process exit: terminates (and joins) the threads the process created that still run.
void terminate_process_threads(Process* process);
// The process as a waitable object (win32/process.cpp): its exit event, signalled by
// signal_process_exit once the exit code is known (Machine::end_process).
void signal_process_exit(Process* process);
DISPATCHER_HEADER* process_exit_object(Process* process);

// Thrown by ExitProcess / ExitThread to unwind the app back to the runner.
struct AppExit {
    unsigned code;
};

}  // namespace iosim::win32
