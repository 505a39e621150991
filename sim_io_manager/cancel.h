// cancel.h - cancelling the I/O manager's IRPs (cancel.cpp has the rules): what CancelIo,
// CancelIoEx, CancelSynchronousIo, process exit and driver unload call.
// NT counterparts: NtCancelIoFile, NtCancelIoFileEx, NtCancelSynchronousIoFile,
// IoCancelThreadIo, the Verifier check behind bug check 0xCE.
#pragma once

#include <cstdint>
#include <vector>

#include <cstddef>

#include "wdm_impl.h"

namespace iosim {
class Thread;
class Process;
}

namespace iosim::io {

// Cancels the current process's requests on `file`: only `thread`'s if given (CancelIo),
// only the one whose IO_STATUS_BLOCK (OVERLAPPED) is `iosb` if given (CancelIoEx).
// Returns how many requests it found still out.
size_t cancel_file_io(FILE_OBJECT* file, Thread* thread, const void* iosb);
// Cancels the synchronous request `thread` is waiting in (CancelSynchronousIo).
size_t cancel_synchronous_io(Thread* thread);
// Process exit: cancels its requests and waits for them (up to 5 simulated minutes).
void cancel_process_io(Process* process);
// After DriverUnload: an IRP the driver still holds is bug check 0xCE (not at shutdown:
// what is left then is freed with the machine).
// The IRPs `driver` holds now (pended at one of its devices): taken before DriverUnload
// runs, while its devices still exist; checked after it returned.
std::vector<uint64_t> irps_held_by(DRIVER_OBJECT* driver);
void check_irps_at_unload(DRIVER_OBJECT* driver, const std::vector<uint64_t>& held, bool at_shutdown);

}  // namespace iosim::io
