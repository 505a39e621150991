// fault.h - a bad memory access, division by zero or bad instruction: an exception or a report.
//
// Simulated code runs natively, so a driver that touches memory it must not raises a host
// signal. The handler installed here decides what Windows would do:
//  - a fault on a special-pool guard page or freed special-pool block: Driver Verifier's
//    bug check (ex/special_pool.h);
//  - a fault on a user address (another process's page, a freed or never-committed user
//    page, the NULL page, host memory iosim did not hand out) while a __try/__except (or
//    iosim's own seh::capture) is active on the thread: the exception
//    STATUS_ACCESS_VIOLATION, delivered to that frame (ke/seh.h); a division by zero or
//    bad instruction there likewise (STATUS_INTEGER_DIVIDE_BY_ZERO,
//    STATUS_ILLEGAL_INSTRUCTION);
//  - otherwise, in driver code: the report Windows would stop with
//    (PAGE_FAULT_IN_NONPAGED_AREA 0x50, or KMODE_EXCEPTION_NOT_HANDLED 0x1E), naming the
//    source line, the address, whose address it is and the process whose context the
//    driver ran in, the thread and the IRP; written to standard output, exit code 3;
//  - a fault in iosim's own code: an internal error (exit code 4, or the handler that
//    was installed before, e.g. AddressSanitizer's).
// A fault on a system-space address is never turned into an exception, as on Windows.
#pragma once

namespace iosim {

// Installs the handlers for the whole process (once; later calls only give the calling
// thread its signal stack). The System constructor calls it, and so does the iosim command.
void install_fault_reports();
// Gives the calling host thread its own signal stack (every thread running simulated
// code needs one: the handler must run even when the thread's stack is exhausted).
// Idempotent per thread; released when the thread ends.
void install_fault_stack();

}  // namespace iosim
