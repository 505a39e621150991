// fault.h - a driver's bad memory access becomes a bug check report, not a crash.
//
// Until iosim simulates address spaces and structured exceptions (docs/roadmap.md), a
// driver that touches an unmapped address (a NULL pointer, a freed block), divides by zero
// or executes garbage raises a host signal. The iosim command installs handlers that turn
// such a signal, when it happens inside driver code, into the report Windows would stop
// with (PAGE_FAULT_IN_NONPAGED_AREA 0x50, or KMODE_EXCEPTION_NOT_HANDLED 0x1E), naming the
// faulting source line, the address, the thread and the IRP being dispatched, and then ends
// the run with exit code 3. A fault outside driver code is reported as iosim's own
// internal error (exit code 4). The process cannot go on after either.
#pragma once

namespace iosim {

void install_fault_reports();
// Gives the calling host thread its own signal stack (every thread running simulated code).
void install_fault_stack();

}  // namespace iosim
