// support.h - what the inspection commands share (internal to sim_io_manager/inspect).
//
// - Text: addresses as 0x%016llx, code addresses as WinDbg symbols ("hello!HelloCreateClose",
//   iosim's own libraries shown as "nt"), flag words decoded into their names.
// - Arguments: numbers and addresses as the user types them.
// - Finding things without trusting an address: live_object_at() matches an address
//   against the object registry before anything is read through it; the IRPs a command
//   may show are only those found on threads' driver-call stacks (dispatched_irps()),
//   checked for alignment, (under ASan) poisoning and the IRP's live magic.
// Each command is a Handler: it appends its text to `out`, or sets a one-line `error`
// that starts with the command's name and returns false.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ob/object.h"
#include "ps/process.h"
#include "wdm_impl.h"

namespace iosim::inspect::detail {

using Args = std::vector<std::string>;
using Handler = bool (*)(const Args& args, std::string& out, std::string& error);

// ---- text ----
std::string address(const void* p);  // "0x00007f3a12345670"
std::string address(uintptr_t value);
// "hello!HelloCreateClose", "nt!IopInvalidDeviceRequest"; "(in hello.sys)" when only the
// module is known; "" when nothing is (or for null).
std::string symbol(const void* code);
// A routine column: "0x...  hello!DriverEntry" (just the address when nothing is known),
// or "00000000" for null (WinDbg's way).
std::string routine(const void* code);

struct FlagName {
    uint32_t bits;
    const char* name;
};
// "DO_BUFFERED_IO | DO_DEVICE_HAS_NAME"; unknown bits as "0x100"; "none" for zero.
std::string decode_flags(uint32_t value, std::span<const FlagName> names);
// "0x00000044 (DO_BUFFERED_IO | DO_DEVICE_HAS_NAME)"
std::string flags_text(uint32_t value, std::span<const FlagName> names);

std::string utf8(std::u16string_view text);
std::u16string utf16(std::string_view text);
std::string irql_text(KIRQL irql);  // "0 (PASSIVE_LEVEL)"
std::string device_type_text(ULONG type);  // "0x00000022 (FILE_DEVICE_UNKNOWN)"

// ---- arguments ----
// "0x" followed by 1-16 hex digits.
std::optional<uintptr_t> parse_address(std::string_view text);
// Decimal, or hex with "0x".
std::optional<uint64_t> parse_number(std::string_view text);
bool looks_like_address(std::string_view text);

// ---- finding objects ----
// The live object whose body is exactly `address` (of `type` unless null), else nullptr.
void* live_object_at(uintptr_t address, const ob::ObjectType* type);
// Bodies of the live objects of `type`, in creation order.
std::vector<void*> live_objects_of(const ob::ObjectType& type);
// A set of live bodies of `type`, to check pointers met in structures before following them.
std::unordered_set<const void*> live_set(const ob::ObjectType& type);
// Every simulated thread alive now, by thread id.
std::vector<Thread*> all_threads();
// "tid 12 of process 8 (hello_open.exe)"
std::string thread_text(Thread* thread);
// A device's name for listings: "\Device\IosimHello", or "(unnamed)".
std::string device_label(DEVICE_OBJECT* device);

// ---- IRPs ----
struct DispatchedIrp {
    IRP* irp;
    Thread* thread;
    std::vector<DriverCall> frames;  // the frames of `thread` that carry this IRP, outermost first
};
// The live IRPs that threads are inside driver routines for, in thread order.
std::vector<DispatchedIrp> dispatched_irps();
// True if `irp` (taken from a driver-call frame) may be read: aligned, not poisoned, live.
bool readable_live_irp(const void* irp);

}  // namespace iosim::inspect::detail
