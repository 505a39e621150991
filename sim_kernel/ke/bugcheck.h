// bugcheck.h - the blue screen, as a report instead of a crash.
//
// A bug check stops the simulated machine: iosim builds a report (code and name, the four
// parameters, the driver source line responsible, the IRP involved and its history, and
// one sentence saying which rule was broken) and throws BugCheck. The run's top level
// (the iosim command, a test) catches it; the machine is dead afterwards, as on Windows.
// Driver and app modules are built with -fexceptions so the report unwinds through C.
// NT counterparts: KeBugCheckEx, KiBugCheckDebugBreak.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "nt.h"

namespace iosim {

struct BugCheckInfo {
    ULONG code = 0;
    ULONG_PTR parameters[4] = {};
    std::string name;        // "MULTIPLE_IRP_COMPLETE_REQUESTS"
    std::string reason;      // one plain sentence: the rule that was broken
    std::string location;    // "mydriver.c:57 in DispatchRoutine (mydriver.sys)"
    std::string driver;      // "mydriver.sys"
    std::vector<std::string> irp_history;  // one line per event of the IRP involved
    std::string report;      // the whole report, ready to print
};

class BugCheck : public std::exception {
public:
    explicit BugCheck(BugCheckInfo info) : info_(std::move(info)) {}
    const BugCheckInfo& info() const { return info_; }
    const char* what() const noexcept override { return info_.report.c_str(); }

private:
    BugCheckInfo info_;
};

// Name of a bug check code ("NO_MORE_IRP_STACK_LOCATIONS"), or "UNKNOWN_BUGCHECK".
const char* bugcheck_name(ULONG code);

// Stops the machine. `caller` is the return address of the driver's call that led here
// (names the source line); `irp` the IRP involved, if any.
[[noreturn]] void bugcheck(ULONG code, ULONG_PTR p1, ULONG_PTR p2, ULONG_PTR p3, ULONG_PTR p4, const void* caller,
                           void* irp, std::string reason);

// Stops the machine with a report already built (the fault handler builds its own).
[[noreturn]] void raise_bugcheck(BugCheckInfo info);

// Builds the report without stopping anything. `where` names the source line: a return
// address (`where_is_return_address`) or the address of the faulting instruction.
BugCheckInfo make_bugcheck_report(ULONG code, const ULONG_PTR (&parameters)[4], const void* where,
                                  bool where_is_return_address, void* irp, std::string reason);

// The I/O manager installs this to describe an IRP's history in reports.
using IrpHistoryFormatter = std::vector<std::string> (*)(void* irp);
void set_irp_history_formatter(IrpHistoryFormatter formatter);
std::vector<std::string> irp_history(void* irp);

}  // namespace iosim
