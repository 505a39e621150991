// io_api.h - the I/O system services, as the Win32 layer and Zw routines call them.
//
// These are iosim's NtCreateFile, NtReadFile, ... They act for the current thread's
// process; `mode` is the requestor mode (UserMode from Win32, KernelMode from Zw*),
// which decides whether buffers are probed. The return value is the NTSTATUS the system
// service returns; per Windows' rules the IO_STATUS_BLOCK is written only when the
// request reached a driver and did not fail outright (see nt-io-facts: "Passing and
// completing"). Synchronous file objects wait for completion before returning.
// NT counterparts: NtCreateFile, NtReadFile, NtWriteFile, NtDeviceIoControlFile,
// NtQueryInformationFile, NtClose, IopLoadDriver, IopUnloadDriver.
#pragma once

#include <string>
#include <string_view>

#include "wdm_impl.h"

namespace iosim::io {

NTSTATUS create_file(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                     ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode, HANDLE* handle,
                     IO_STATUS_BLOCK* iosb);

// `byte_offset` may be null: a synchronous file object then uses its CurrentByteOffset.
NTSTATUS read_file(HANDLE handle, void* buffer, ULONG length, const LARGE_INTEGER* byte_offset, KPROCESSOR_MODE mode,
                   IO_STATUS_BLOCK* iosb);
NTSTATUS write_file(HANDLE handle, const void* buffer, ULONG length, const LARGE_INTEGER* byte_offset,
                    KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb);
NTSTATUS device_io_control(HANDLE handle, ULONG io_control_code, void* input, ULONG input_length, void* output,
                           ULONG output_length, bool internal, KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb);
NTSTATUS query_information_file(HANDLE handle, void* information, ULONG length, FILE_INFORMATION_CLASS info_class,
                                KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb);
NTSTATUS close_handle(HANDLE handle);

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
