// io_api.h - the I/O system services, as the Win32 layer and Zw routines call them.
//
// These are iosim's NtCreateFile, NtReadFile, ... They act for the current thread's
// process; `mode` is the requestor mode (UserMode from Win32, KernelMode from Zw*),
// which decides whether buffers are probed. The return value is the NTSTATUS the system
// service returns; per Windows' rules the IO_STATUS_BLOCK is written only when the
// request reached a driver and did not fail outright (see nt-io-facts: "Passing and
// completing"). Synchronous file objects wait for completion before returning.
// NT counterparts: NtCreateFile, NtReadFile, NtWriteFile, NtDeviceIoControlFile,
// NtQueryInformationFile, NtCreateNamedPipeFile, NtFsControlFile, NtClose, IopLoadDriver, IopUnloadDriver.
#pragma once

#include <string>
#include <string_view>

#include "iosim_pipe.h"
#include "wdm_impl.h"

namespace iosim::io {

NTSTATUS create_file(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                     ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode, HANDLE* handle,
                     IO_STATUS_BLOCK* iosb);
// The same, with the handle's OBJ_ attributes: OBJ_KERNEL_HANDLE puts it in the System
// process's table (a kernel handle, valid in any context; see ob/kernel_handle.h).
NTSTATUS create_file(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                     ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode, ULONG handle_attributes,
                     HANDLE* handle, IO_STATUS_BLOCK* iosb);

// NtCreateNamedPipeFile: a new instance of the pipe `nt_path` names ("\??\pipe\x"), its
// server end as the handle; IRP_MJ_CREATE_NAMED_PIPE carries a copy of `parameters`.
NTSTATUS create_named_pipe_file(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                                ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode,
                                const NAMED_PIPE_CREATE_PARAMETERS& parameters, HANDLE* handle, IO_STATUS_BLOCK* iosb);

// How the caller hears of completion besides the IO_STATUS_BLOCK (NtReadFile's Event,
// ApcRoutine and ApcContext). `event` is an event handle, referenced for the IRP's life (a
// bad one fails the service with STATUS_INVALID_HANDLE before any IRP exists); the APC
// routine runs as a user APC in the calling thread; without one, a file object associated
// with a completion port gets a packet carrying `apc_context` (see completion_port.h).
struct CompletionNotice {
    HANDLE event = nullptr;
    PIO_APC_ROUTINE apc_routine = nullptr;
    PVOID apc_context = nullptr;
};

// `byte_offset` may be null: a synchronous file object then uses its CurrentByteOffset.
// On an asynchronous file object a request the driver pended returns STATUS_PENDING and
// completes later (iocomplete.cpp); on a synchronous one the service waits.
NTSTATUS read_file(HANDLE handle, void* buffer, ULONG length, const LARGE_INTEGER* byte_offset, KPROCESSOR_MODE mode,
                   IO_STATUS_BLOCK* iosb, const CompletionNotice& notice = {});
NTSTATUS write_file(HANDLE handle, const void* buffer, ULONG length, const LARGE_INTEGER* byte_offset,
                    KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb, const CompletionNotice& notice = {});
NTSTATUS device_io_control(HANDLE handle, ULONG io_control_code, void* input, ULONG input_length, void* output,
                           ULONG output_length, bool internal, KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb,
                           const CompletionNotice& notice = {});
// NtFsControlFile: IRP_MJ_FILE_SYSTEM_CONTROL (minor IRP_MN_USER_FS_REQUEST) with the
// FSCTL code in Parameters.FileSystemControl (the DeviceIoControl layout); buffers as for
// a device control of the same METHOD_.
NTSTATUS fs_control_file(HANDLE handle, ULONG fs_control_code, void* input, ULONG input_length, void* output,
                         ULONG output_length, KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb,
                         const CompletionNotice& notice = {});
NTSTATUS query_information_file(HANDLE handle, void* information, ULONG length, FILE_INFORMATION_CLASS info_class,
                                KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb);
// NtSetInformationFile: IRP_MJ_SET_INFORMATION, always buffered (the input copied in), a
// synchronous API whatever the file object.
NTSTATUS set_information_file(HANDLE handle, const void* information, ULONG length, FILE_INFORMATION_CLASS info_class,
                              KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb);
NTSTATUS close_handle(HANDLE handle);
// NtClose for a caller in `mode`: kernel handles only from kernel mode (ZwClose).
NTSTATUS close_handle(HANDLE handle, KPROCESSOR_MODE mode);

// Driver services (the Service Control Manager calls these).
// `image_path` is the module file to load (already resolved, see resolve_driver_image).
NTSTATUS load_driver(std::u16string_view service_name, const std::string& image_path, std::string* message);
// STATUS_INVALID_DEVICE_REQUEST when the driver has no DriverUnload: it cannot be stopped.
NTSTATUS unload_driver(std::u16string_view service_name, std::string* message);
bool driver_loaded(std::u16string_view service_name);

// Maps the binary path an app gives CreateService ("C:\mydriver.sys", "VirtToPhys.sys",
// "\??\C:\drivers\x.sys", "%SystemRoot%\system32\drivers\x.sys") to a module file: the
// folders are dropped and the file name is looked up in the module search path
// (see docs/modules.md). Returns "" when not found.
std::string resolve_driver_image(std::u16string_view binary_path);

}  // namespace iosim::io
