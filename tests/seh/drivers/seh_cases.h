/*
 * seh_cases.h - the SEH test cases, compiled into both test drivers: as C (seh_c.c) and as
 * C++ (seh_cpp.cpp). Each case is an exported function the tests (tests/seh) call
 * directly, plus the device and IRP_MJ_DEVICE_CONTROL handling of seh_public.h. The
 * including file defines SEH_DEVICE_NAME / SEH_LINK_NAME (wide literals) first.
 *
 * Cases that record an order append words to a caller's log ("body finally:normal").
 * Lines the tests look for carry a "SEH-LINE:" marker comment.
 */
#include "seh_public.h"

#ifdef __cplusplus
#define SEH_EXPORT extern "C"
#else
#define SEH_EXPORT
#endif

static void SehLog(char *log, const char *word)
{
    size_t used = strlen(log);
    size_t add = strlen(word);
    if (used + add + 2 > SEH_LOG_SIZE)
        return;
    if (used != 0)
        log[used++] = ' ';
    memcpy(log + used, word, add + 1);
}

/* A filter that logs and gives its verdict. */
static int SehFilter(char *log, const char *word, int verdict)
{
    SehLog(log, word);
    return verdict;
}

/* ExRaiseStatus caught; the handler returns the code (a return from a handler block). */
SEH_EXPORT NTSTATUS SehCatchRaise(NTSTATUS code)
{
    __try {
        ExRaiseStatus(code);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        return GetExceptionCode();
    }
    return STATUS_SUCCESS;
}

/* Reads a byte; an access violation is caught (the filter tests the code), anything else
 * goes on searching. The body returns from inside the __try. */
SEH_EXPORT NTSTATUS SehReadByte(const volatile UCHAR *address, UCHAR *value)
{
    __try {
        *value = *address;
        return STATUS_SUCCESS;
    } __except (GetExceptionCode() == STATUS_ACCESS_VIOLATION ? EXCEPTION_EXECUTE_HANDLER : EXCEPTION_CONTINUE_SEARCH) {
        return GetExceptionCode();
    }
    return STATUS_UNSUCCESSFUL; /* not reached; gcc cannot tell (see docs/seh.md) */
}

SEH_EXPORT NTSTATUS SehWriteByte(volatile UCHAR *address, UCHAR value)
{
    NTSTATUS status = STATUS_SUCCESS;
    __try {
        *address = value;
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = _exception_code();
    }
    return status;
}

static int SehKeepInformation(PEXCEPTION_POINTERS pointers, ULONG_PTR *info)
{
    info[0] = (ULONG)pointers->ExceptionRecord->ExceptionCode;
    info[1] = pointers->ExceptionRecord->NumberParameters;
    info[2] = pointers->ExceptionRecord->ExceptionInformation[0];
    info[3] = pointers->ExceptionRecord->ExceptionInformation[1];
    info[4] = (ULONG_PTR)pointers->ExceptionRecord->ExceptionAddress;
    info[5] = (ULONG_PTR)pointers->ContextRecord->Rip;
    return EXCEPTION_EXECUTE_HANDLER;
}

/* GetExceptionInformation in a filter: code, parameters, address, context. */
SEH_EXPORT void SehExceptionInformation(volatile UCHAR *address, BOOLEAN write, ULONG_PTR info[6])
{
    __try {
        if (write)
            *address = 1;
        else
            info[0] = *address;
    } __except (SehKeepInformation(GetExceptionInformation(), info)) {
    }
}

/* An inner filter declines: the outer __except handles. */
SEH_EXPORT void SehContinueSearch(NTSTATUS code, char *log)
{
    __try {
        __try {
            SehLog(log, "body");
            ExRaiseStatus(code);
        } __except (SehFilter(log, "inner-filter", EXCEPTION_CONTINUE_SEARCH)) {
            SehLog(log, "inner-handler");
        }
        SehLog(log, "after-inner");
    } __except (SehLog(log, "outer-filter"), EXCEPTION_EXECUTE_HANDLER) {
        SehLog(log, GetExceptionCode() == code ? "outer-handler:same-code" : "outer-handler:other-code");
    }
    SehLog(log, "after-outer");
}

/* The inner __except handles; the outer one never hears of it. */
SEH_EXPORT void SehNested(char *log)
{
    __try {
        __try {
            ExRaiseStatus(STATUS_INVALID_PARAMETER);
        } __except (SehFilter(log, "inner-filter", EXCEPTION_EXECUTE_HANDLER)) {
            SehLog(log, "inner-handler");
        }
        SehLog(log, "after-inner");
        __try {
            SehLog(log, "second-body");
        } __except (SehFilter(log, "second-filter", EXCEPTION_EXECUTE_HANDLER)) {
            SehLog(log, "second-handler");
        }
    } __except (SehFilter(log, "outer-filter", EXCEPTION_EXECUTE_HANDLER)) {
        SehLog(log, "outer-handler");
    }
    SehLog(log, "end");
}

SEH_EXPORT void SehFinallyNormal(char *log)
{
    __try {
        SehLog(log, "body");
    } __finally {
        SehLog(log, AbnormalTermination() ? "finally:abnormal" : "finally:normal");
    }
    SehLog(log, "after");
}

/* A __finally on the exception's way out, then the outer handler. */
SEH_EXPORT void SehFinallyOnException(NTSTATUS code, char *log)
{
    __try {
        __try {
            SehLog(log, "body");
            ExRaiseStatus(code);
            SehLog(log, "unreached");
        } __finally {
            SehLog(log, _abnormal_termination() ? "finally:abnormal" : "finally:normal");
        }
        SehLog(log, "unreached-after-finally");
    } __except (SehFilter(log, "outer-filter", EXCEPTION_EXECUTE_HANDLER)) {
        SehLog(log, "handler");
    }
}

/* __leave from nested loops leaves the whole __try body; the __finally runs normally. */
SEH_EXPORT void SehLeave(char *log)
{
    __try {
        int i, j;
        SehLog(log, "body");
        for (i = 0; i < 3; i++)
            for (j = 0; j < 3; j++)
                if (i == 1 && j == 1) {
                    SehLog(log, "leaving");
                    __leave;
                }
        SehLog(log, "unreached");
    } __finally {
        SehLog(log, AbnormalTermination() ? "finally:abnormal" : "finally:normal");
    }
    SehLog(log, "after");
}

/* break directly in a __try body leaves the __try, not the loop around it (an iosim
 * difference from MSVC, documented). Returns how many times the loop ran. */
SEH_EXPORT int SehBreakInTry(char *log)
{
    int runs = 0;
    int i;
    for (i = 0; i < 3; i++) {
        __try {
            runs++;
            if (i >= 0)
                break;
            SehLog(log, "unreached");
        } __finally {
            SehLog(log, "finally");
        }
    }
    return runs;
}

SEH_EXPORT int SehDivide(int numerator, int denominator, NTSTATUS *status)
{
    volatile int n = numerator;
    volatile int d = denominator;
    volatile int result = 0;
    *status = STATUS_SUCCESS;
    __try {
        result = n / d;
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        *status = GetExceptionCode();
    }
    return result;
}

/* Division by zero with no __try: bug check 0x1E. */
SEH_EXPORT int SehDivideUnprotected(int numerator, int denominator)
{
    volatile int d = denominator;
    return numerator / d; /* SEH-LINE: divide-outside-try */
}

/* An else after the whole construct belongs to the caller's if, as with MSVC. */
SEH_EXPORT int SehElseBinding(int condition)
{
    int result = 0;
    if (condition)
        __try {
            result = 1;
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            result = 2;
        }
    else
        result = 3;
    return result;
}

/* No handler at all: bug check 0x1E. */
SEH_EXPORT void SehUnhandledRaise(NTSTATUS code)
{
    ExRaiseStatus(code); /* SEH-LINE: unhandled-raise */
}

/* The only filter declines: bug check 0x1E, naming the raise. */
SEH_EXPORT void SehUnhandledAfterSearch(NTSTATUS code)
{
    __try {
        ExRaiseStatus(code); /* SEH-LINE: declined-raise */
    } __except (EXCEPTION_CONTINUE_SEARCH) {
    }
}

SEH_EXPORT void SehContinueExecution(void)
{
    __try {
        ExRaiseStatus(STATUS_INVALID_PARAMETER);
    } __except (EXCEPTION_CONTINUE_EXECUTION) { /* SEH-LINE: continue-execution */
    }
}

/* A return out of a __try body with a __finally: iosim cannot run the __finally. */
SEH_EXPORT int SehReturnSkipsFinally(char *log)
{
    __try { /* SEH-LINE: return-skips-finally */
        SehLog(log, "body");
        return 1;
    } __finally {
        SehLog(log, "finally");
    }
    return 0;
}

SEH_EXPORT NTSTATUS SehProbeForRead(const volatile void *address, SIZE_T length, ULONG alignment)
{
    __try {
        ProbeForRead(address, length, alignment);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        return GetExceptionCode();
    }
    return STATUS_SUCCESS;
}

SEH_EXPORT NTSTATUS SehProbeForWrite(volatile void *address, SIZE_T length, ULONG alignment)
{
    __try {
        ProbeForWrite(address, length, alignment);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        return GetExceptionCode();
    }
    return STATUS_SUCCESS;
}

/* ProbeForRead with no handler: a misaligned buffer is bug check 0x1E at this line. */
SEH_EXPORT void SehProbeUnprotected(const volatile void *address, SIZE_T length, ULONG alignment)
{
    ProbeForRead(address, length, alignment); /* SEH-LINE: unprotected-probe */
}

/* ExRaiseAccessViolation / ExRaiseDatatypeMisalignment, caught. */
SEH_EXPORT NTSTATUS SehRaiseHelpers(int which)
{
    __try {
        if (which == 0)
            ExRaiseAccessViolation();
        else
            ExRaiseDatatypeMisalignment();
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        return GetExceptionCode();
    }
    return STATUS_SUCCESS;
}

/* Touches a byte with no __try (a bad address: bug check report). */
SEH_EXPORT UCHAR SehTouch(const volatile UCHAR *address)
{
    return *address; /* SEH-LINE: touch-outside-try */
}

/* Touches a byte inside __try; returns 0xEE if an exception was caught. */
SEH_EXPORT UCHAR SehTouchInTry(const volatile UCHAR *address)
{
    UCHAR value = 0;
    __try {
        value = *address; /* SEH-LINE: touch-in-try */
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        value = 0xEE;
    }
    return value;
}

/* ---- the device ---- */

SEH_EXPORT DRIVER_INITIALIZE DriverEntry;
SEH_EXPORT DRIVER_UNLOAD SehUnload;
SEH_EXPORT DRIVER_DISPATCH SehCreateClose;
SEH_EXPORT DRIVER_DISPATCH SehDeviceControl;

static UNICODE_STRING g_SehLink = RTL_CONSTANT_STRING(SEH_LINK_NAME);

static NTSTATUS SehSum(PIO_STACK_LOCATION stack, PIRP Irp)
{
    const UCHAR *input = (const UCHAR *)stack->Parameters.DeviceIoControl.Type3InputBuffer;
    ULONG inLength = stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG sum = 0;
    ULONG i;

    if (outLength < sizeof(ULONG))
        return STATUS_BUFFER_TOO_SMALL;
    __try {
        ProbeForRead(input, inLength, sizeof(UCHAR));
        ProbeForWrite(Irp->UserBuffer, sizeof(ULONG), sizeof(ULONG));
        for (i = 0; i < inLength; i++)
            sum += input[i];
        *(ULONG *)Irp->UserBuffer = sum;
        Irp->IoStatus.Information = sizeof(ULONG);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = GetExceptionCode();
        Irp->IoStatus.Information = 0;
        DbgPrint("seh: bad user buffer, exception 0x%08lX\n", (ULONG)status);
    }
    return status;
}

NTSTATUS SehDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status;

    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Information = 0;
    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_SEH_SUM_NEITHER:
        status = SehSum(stack, Irp);
        break;
    case IOCTL_SEH_TOUCH_NEITHER:
        SehTouch((const volatile UCHAR *)stack->Parameters.DeviceIoControl.Type3InputBuffer);
        status = STATUS_SUCCESS;
        break;
    case IOCTL_SEH_TOUCH_IN_TRY:
        SehTouchInTry(*(const volatile UCHAR *const *)stack->Parameters.DeviceIoControl.Type3InputBuffer);
        status = STATUS_SUCCESS;
        break;
    default:
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    Irp->IoStatus.Status = status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

NTSTATUS SehCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

VOID SehUnload(PDRIVER_OBJECT DriverObject)
{
    IoDeleteSymbolicLink(&g_SehLink);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(SEH_DEVICE_NAME);
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = SehUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = SehCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = SehCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = SehDeviceControl;
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&g_SehLink, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
