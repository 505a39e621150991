// status_names.h - names for NTSTATUS values and Win32 error codes, for reports and traces.
//
// status_name(STATUS_ACCESS_DENIED) is "STATUS_ACCESS_DENIED"; status_text() adds the value:
// "STATUS_ACCESS_DENIED (0xC0000022)". Names come from IOSIM_NTSTATUS_LIST (ntstatus.h) and
// IOSIM_WINERROR_LIST (winerror.h); when two names share a value the first listed (the
// canonical one) wins: STATUS_SUCCESS, not STATUS_WAIT_0. Values without a name are shown
// as numbers: "0x%08X" for a status, decimal for a Win32 error (as GetLastError is usually
// printed). Also declares the NTSTATUS -> Win32 mapping (dos_error.cpp) for iosim's own code.
#pragma once

#include <string>

#include "nt.h"

namespace iosim {

// The status's name, or "0x%08X" if iosim has none. Never null. A name is a static string;
// the hex form lives in a per-thread buffer, valid until the next call on the same thread.
const char* status_name(NTSTATUS status);

// "STATUS_ACCESS_DENIED (0xC0000022)", or "0xC0001234" when the status has no name.
std::string status_text(NTSTATUS status);

// The Win32 error's name ("ERROR_ACCESS_DENIED"), or its decimal value ("1234") if iosim
// has none. Never null; same lifetime rules as status_name.
const char* dos_error_name(ULONG error);

namespace rtl {
// RtlNtStatusToDosError's mapping (see dos_error.cpp for the rules).
ULONG status_to_dos_error(NTSTATUS status);
}  // namespace rtl

}  // namespace iosim

// Exported beside RtlNtStatusToDosError (which km_rtl.h declares): the same mapping without
// recording the status in the thread's TEB.
extern "C" ULONG RtlNtStatusToDosErrorNoTeb(NTSTATUS Status);
