// csq.cpp - cancel-safe IRP queues: IoCsqInitialize(Ex), IoCsqInsertIrp(Ex),
// IoCsqRemoveNextIrp, IoCsqRemoveIrp, and the cancel routine the library puts on queued IRPs.
//
// The driver owns the queue (its CsqInsertIrp/CsqRemoveIrp/CsqPeekNextIrp callbacks) and its
// lock (CsqAcquireLock/CsqReleaseLock); the library owns the IRP's cancel routine and its
// Tail.Overlay.DriverContext[3], which points at the IRP's IO_CSQ_IRP_CONTEXT if the driver
// gave one, else at the IO_CSQ. Rules kept (WDK documentation of each routine and
// "Cancel-Safe IRP Queues"):
//  - Insert: under the queue's lock, call the driver's insert callback; with IoCsqInitializeEx
//    its status is IoCsqInsertIrpEx's result, and a failure leaves the IRP untouched (not
//    queued, not marked pending, no cancel routine). Otherwise the IRP is marked pending
//    (IoMarkIrpPending) and gets the library's cancel routine. An IRP already cancelled
//    (Irp->Cancel) is taken back out at once and handed to CsqCompleteCanceledIrp.
//  - The cancel routine releases the cancel spin lock, takes the IRP out under the queue's
//    lock (CsqRemoveIrp), clears the IRP's context (IO_CSQ_IRP_CONTEXT.Irp = NULL), releases
//    the queue's lock and calls CsqCompleteCanceledIrp, which completes it (usually with
//    STATUS_CANCELLED).
//  - IoCsqRemoveNextIrp walks CsqPeekNextIrp (NULL first, then from the last IRP seen) with
//    the PeekContext, skips an IRP whose cancel routine is already running, and returns the
//    first it could take (its cancel routine cleared), or NULL.
//  - IoCsqRemoveIrp returns the context's IRP if it is still queued and not being cancelled,
//    else NULL: after the cancel routine ran, the context's IRP is NULL.
//  - Callers may be at IRQL <= DISPATCH_LEVEL; the callbacks run at whatever IRQL the lock gives.
// NT counterparts: the IoCsq* library routines of wdm.h (csq.lib / ntoskrnl) and
// IopCsqCancelRoutine.
#include <fmt/format.h>

#include "irp.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"

using namespace iosim;

namespace {

// What DriverContext[3] holds for a queued IRP: its context, or the queue itself.
PIO_CSQ queue_of(PIRP irp, PIO_CSQ_IRP_CONTEXT* context)
{
    void* held = irp->Tail.Overlay.DriverContext[3];
    *context = nullptr;
    if (held == nullptr)
        return nullptr;
    // Both structures start with their Type: IO_TYPE_CSQ_IRP_CONTEXT, or IO_TYPE_CSQ(_EX).
    if (*static_cast<ULONG*>(held) == IO_TYPE_CSQ_IRP_CONTEXT) {
        *context = static_cast<PIO_CSQ_IRP_CONTEXT>(held);
        return (*context)->Csq;
    }
    return static_cast<PIO_CSQ>(held);
}

void forget(PIRP irp, PIO_CSQ_IRP_CONTEXT context)
{
    if (context != nullptr)
        context->Irp = nullptr;
    irp->Tail.Overlay.DriverContext[3] = nullptr;
}

void trace_irp(PIRP irp, const std::string& text)
{
    System* sys = System::current();
    if (sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Irp, io::private_of(irp)->id,
                            fmt::format("IRP#{} {}", io::private_of(irp)->id, text));
}

void complete_canceled(PIO_CSQ csq, PIRP irp)
{
    DriverCallScope scope("CsqCompleteCanceledIrp", reinterpret_cast<const void*>(csq->CsqCompleteCanceledIrp), irp);
    csq->CsqCompleteCanceledIrp(csq, irp);
}

// The cancel routine of every IRP in a cancel-safe queue. Called by IoCancelIrp with the
// cancel spin lock held.
void CsqCancelRoutine(PDEVICE_OBJECT, PIRP irp)
{
    IoReleaseCancelSpinLock(irp->CancelIrql);
    PIO_CSQ_IRP_CONTEXT context;
    PIO_CSQ csq = queue_of(irp, &context);
    KIRQL irql;
    csq->CsqAcquireLock(csq, &irql);
    csq->CsqRemoveIrp(csq, irp);
    forget(irp, context);
    csq->CsqReleaseLock(csq, irql);
    trace_irp(irp, "cancelled in its cancel-safe queue: removed, CsqCompleteCanceledIrp called");
    complete_canceled(csq, irp);
}

bool initialised(PIO_CSQ csq, const char* routine, const void* caller)
{
    if (csq != nullptr && (csq->Type == IO_TYPE_CSQ || csq->Type == IO_TYPE_CSQ_EX))
        return true;
    System::current()->report(
        {"CSQ_NOT_INITIALIZED",
         fmt::format("{} was given a cancel-safe queue ({}) that IoCsqInitialize or IoCsqInitializeEx never "
                     "initialised: its callbacks are unknown, so nothing was done.",
                     routine, static_cast<const void*>(csq)),
         ldr::describe_function(caller), {}});
    return false;
}

NTSTATUS initialise(PIO_CSQ csq, ULONG type, PIO_CSQ_INSERT_IRP insert, PIO_CSQ_REMOVE_IRP remove,
                    PIO_CSQ_PEEK_NEXT_IRP peek, PIO_CSQ_ACQUIRE_LOCK acquire, PIO_CSQ_RELEASE_LOCK release,
                    PIO_CSQ_COMPLETE_CANCELED_IRP complete)
{
    csq->Type = type;
    csq->CsqInsertIrp = insert;
    csq->CsqRemoveIrp = remove;
    csq->CsqPeekNextIrp = peek;
    csq->CsqAcquireLock = acquire;
    csq->CsqReleaseLock = release;
    csq->CsqCompleteCanceledIrp = complete;
    csq->ReservePointer = nullptr;
    return STATUS_SUCCESS;
}

}  // namespace

extern "C" {

NTSTATUS IoCsqInitialize(PIO_CSQ Csq, PIO_CSQ_INSERT_IRP CsqInsertIrp, PIO_CSQ_REMOVE_IRP CsqRemoveIrp,
                         PIO_CSQ_PEEK_NEXT_IRP CsqPeekNextIrp, PIO_CSQ_ACQUIRE_LOCK CsqAcquireLock,
                         PIO_CSQ_RELEASE_LOCK CsqReleaseLock, PIO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceledIrp)
{
    return initialise(Csq, IO_TYPE_CSQ, CsqInsertIrp, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock,
                      CsqCompleteCanceledIrp);
}

NTSTATUS IoCsqInitializeEx(PIO_CSQ Csq, PIO_CSQ_INSERT_IRP_EX CsqInsertIrp, PIO_CSQ_REMOVE_IRP CsqRemoveIrp,
                           PIO_CSQ_PEEK_NEXT_IRP CsqPeekNextIrp, PIO_CSQ_ACQUIRE_LOCK CsqAcquireLock,
                           PIO_CSQ_RELEASE_LOCK CsqReleaseLock, PIO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceledIrp)
{
    // The IO_CSQ has one insert slot: Type says which signature it holds.
    return initialise(Csq, IO_TYPE_CSQ_EX, reinterpret_cast<PIO_CSQ_INSERT_IRP>(CsqInsertIrp), CsqRemoveIrp,
                      CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
}

NTSTATUS IoCsqInsertIrpEx(PIO_CSQ Csq, PIRP Irp, PIO_CSQ_IRP_CONTEXT Context, PVOID InsertContext)
{
    if (!initialised(Csq, "IoCsqInsertIrpEx", __builtin_return_address(0)))
        return STATUS_INVALID_PARAMETER;
    KIRQL irql;
    Csq->CsqAcquireLock(Csq, &irql);
    NTSTATUS status = STATUS_SUCCESS;
    if (Csq->Type == IO_TYPE_CSQ_EX) {
        status = reinterpret_cast<PIO_CSQ_INSERT_IRP_EX>(Csq->CsqInsertIrp)(Csq, Irp, InsertContext);
        if (!NT_SUCCESS(status)) {
            Csq->CsqReleaseLock(Csq, irql);
            trace_irp(Irp, fmt::format("not queued: CsqInsertIrpEx returned 0x{:08X}", static_cast<ULONG>(status)));
            return status;
        }
    } else {
        Csq->CsqInsertIrp(Csq, Irp);
    }
    IoMarkIrpPending(Irp);
    if (Context != nullptr) {
        Context->Type = IO_TYPE_CSQ_IRP_CONTEXT;
        Context->Irp = Irp;
        Context->Csq = Csq;
        Irp->Tail.Overlay.DriverContext[3] = Context;
    } else {
        Irp->Tail.Overlay.DriverContext[3] = Csq;
    }
    IoSetCancelRoutine(Irp, CsqCancelRoutine);
    // Cancelled before (or while) it went in: IoCancelIrp found no cancel routine then, so
    // nobody else completes it. Take it back unless a cancel routine call already has it.
    if (Irp->Cancel && IoSetCancelRoutine(Irp, nullptr) != nullptr) {
        Csq->CsqRemoveIrp(Csq, Irp);
        forget(Irp, Context);
        Csq->CsqReleaseLock(Csq, irql);
        trace_irp(Irp, "was already cancelled when it entered its cancel-safe queue: CsqCompleteCanceledIrp called");
        complete_canceled(Csq, Irp);
        return status;
    }
    Csq->CsqReleaseLock(Csq, irql);
    trace_irp(Irp, "queued in a cancel-safe queue (marked pending, cancelable)");
    return status;
}

void IoCsqInsertIrp(PIO_CSQ Csq, PIRP Irp, PIO_CSQ_IRP_CONTEXT Context)
{
    IoCsqInsertIrpEx(Csq, Irp, Context, nullptr);
}

PIRP IoCsqRemoveNextIrp(PIO_CSQ Csq, PVOID PeekContext)
{
    if (!initialised(Csq, "IoCsqRemoveNextIrp", __builtin_return_address(0)))
        return nullptr;
    KIRQL irql;
    Csq->CsqAcquireLock(Csq, &irql);
    PIRP irp = Csq->CsqPeekNextIrp(Csq, nullptr, PeekContext);
    while (irp != nullptr) {
        if (IoSetCancelRoutine(irp, nullptr) != nullptr) {
            PIO_CSQ_IRP_CONTEXT context;
            queue_of(irp, &context);
            Csq->CsqRemoveIrp(Csq, irp);
            forget(irp, context);
            break;
        }
        // Its cancel routine runs (or is about to): it removes and completes it.
        irp = Csq->CsqPeekNextIrp(Csq, irp, PeekContext);
    }
    Csq->CsqReleaseLock(Csq, irql);
    if (irp != nullptr)
        trace_irp(irp, "removed from its cancel-safe queue (IoCsqRemoveNextIrp)");
    return irp;
}

PIRP IoCsqRemoveIrp(PIO_CSQ Csq, PIO_CSQ_IRP_CONTEXT Context)
{
    if (!initialised(Csq, "IoCsqRemoveIrp", __builtin_return_address(0)))
        return nullptr;
    KIRQL irql;
    Csq->CsqAcquireLock(Csq, &irql);
    PIRP irp = Context->Irp;
    if (irp != nullptr) {
        if (IoSetCancelRoutine(irp, nullptr) != nullptr) {
            Csq->CsqRemoveIrp(Csq, irp);
            forget(irp, Context);
        } else {
            irp = nullptr;  // being cancelled: the cancel routine completes it
        }
    }
    Csq->CsqReleaseLock(Csq, irql);
    if (irp != nullptr)
        trace_irp(irp, "removed from its cancel-safe queue (IoCsqRemoveIrp)");
    return irp;
}

}  // extern "C"
