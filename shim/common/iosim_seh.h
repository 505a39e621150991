/*
 * iosim_seh.h - iosim shim: structured exception handling (__try/__except/__finally/__leave).
 *
 * Driver and app sources use Microsoft's structured exception handling unchanged:
 *
 *     __try { ProbeForRead(p, n, 1); v = *(ULONG *)p; }
 *     __except (EXCEPTION_EXECUTE_HANDLER) { status = GetExceptionCode(); }
 *
 * gcc and clang have no SEH, so these are macros over a small runtime in libiosim_kernel
 * (sim_kernel/ke/seh.cpp). Each __try is a frame on a per-host-thread stack; a raise
 * (ExRaiseStatus, ProbeForRead, ...) or a fault the fault handler turns into an exception
 * (a bad user address, a division by zero) jumps back to the innermost frame with
 * longjmp. A __try expands to a for statement run in stages: a first pass that only
 * learns whether __except or __finally follows, the body (frame pushed,
 * "if (__sigsetjmp(jb, 0) == 0)" around it), then the filter and handler, or the
 * termination handler. The frame variable has a cleanup attribute, so a return, goto or
 * C++ exception out of the body still pops it.
 *
 * Deliberate differences from MSVC (see docs/seh.md):
 *  - One pass, not two: the frames between the raise and the handler are left (and their
 *    __finally blocks run) before an outer __except filter is evaluated; MSVC evaluates
 *    every filter first. A filter still sees the exception code, record and context.
 *  - EXCEPTION_CONTINUE_EXECUTION (-1) cannot be honoured (the faulting code was already
 *    left): iosim stops with bug check 0x1E naming the __except line.
 *  - break and continue directly inside a __try body leave the __try (like __leave),
 *    not an enclosing loop; MSVC would leave the loop.
 *  - return (or goto) out of a __try body whose handler is __finally does NOT run the
 *    __finally block (MSVC runs it with AbnormalTermination() TRUE); iosim reports the
 *    finding FINALLY_SKIPPED naming the __try line. Use __leave to leave early.
 *  - The jump to a handler is a longjmp: C++ destructors of objects between the raise
 *    and the handler do not run (MSVC /EHa would run them). __leave in C++ throws a small
 *    object caught right after the body, so destructors inside the body do run (with
 *    -fno-exceptions it jumps back to the frame, and they do not).
 *  - Local variables changed inside the body and read in the handler should be volatile
 *    (the setjmp rule): an optimising compiler may keep them in registers.
 *  - __except does not catch C++ exceptions (iosim's bug check report is one).
 *  - A fault on a system-space address is never an exception (as on Windows); see
 *    sim_kernel/ke/fault.cpp.
 *
 * C++ sources: libstdc++ defines its own __try/__catch macros (bits/exception_defines.h)
 * and uses them in its headers. The commonly used standard headers are included here,
 * before iosim's __try exists, so they never see it; a standard header first included
 * later still compiles: in C++ the body of a __try is a C++ try block, so libstdc++'s
 * "__try { } __catch (...) { }" becomes a transparent frame-less construct.
 *
 * iosim's own code (IOSIM_IMPLEMENTATION) sees only the types and the C ABI, never the
 * macros. Rules: declarations, types and macros only; implementation in sim_kernel/ke/seh.cpp.
 */
#ifndef IOSIM_SEH_H
#define IOSIM_SEH_H

#include "iosim_basetypes.h"

#if defined(__cplusplus) && !defined(IOSIM_IMPLEMENTATION)
/* Parsed before the macros below exist, so their own __try/__catch stay libstdc++'s. The
 * C runtime redirections of iosim_crt.h (printf, wcslen, ...) are saved around them: the
 * <cxxx> wrappers #undef those names, and drivers include iosim_crt.h before this file. */
#pragma push_macro("printf")
#pragma push_macro("vprintf")
#pragma push_macro("fprintf")
#pragma push_macro("vfprintf")
#pragma push_macro("sprintf")
#pragma push_macro("vsprintf")
#pragma push_macro("puts")
#pragma push_macro("fputs")
#pragma push_macro("fflush")
#pragma push_macro("fgets")
#pragma push_macro("getchar")
#pragma push_macro("putchar")
#pragma push_macro("wprintf")
#pragma push_macro("vwprintf")
#pragma push_macro("fwprintf")
#pragma push_macro("swprintf")
#pragma push_macro("vswprintf")
#pragma push_macro("wcslen")
#pragma push_macro("wcsnlen")
#pragma push_macro("wcscpy")
#pragma push_macro("wcsncpy")
#pragma push_macro("wcscat")
#pragma push_macro("wcsncat")
#pragma push_macro("wcscmp")
#pragma push_macro("wcsncmp")
#pragma push_macro("wcschr")
#pragma push_macro("wcsrchr")
#pragma push_macro("wcsstr")
#pragma push_macro("wcstol")
#pragma push_macro("wcstoul")
#pragma push_macro("towlower")
#pragma push_macro("towupper")
#pragma push_macro("iswdigit")
#pragma push_macro("iswspace")
#pragma push_macro("iswalpha")
#pragma push_macro("min")
#pragma push_macro("max")
#undef min
#undef max
extern "C++" {
#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>
}
#pragma pop_macro("printf")
#pragma pop_macro("vprintf")
#pragma pop_macro("fprintf")
#pragma pop_macro("vfprintf")
#pragma pop_macro("sprintf")
#pragma pop_macro("vsprintf")
#pragma pop_macro("puts")
#pragma pop_macro("fputs")
#pragma pop_macro("fflush")
#pragma pop_macro("fgets")
#pragma pop_macro("getchar")
#pragma pop_macro("putchar")
#pragma pop_macro("wprintf")
#pragma pop_macro("vwprintf")
#pragma pop_macro("fwprintf")
#pragma pop_macro("swprintf")
#pragma pop_macro("vswprintf")
#pragma pop_macro("wcslen")
#pragma pop_macro("wcsnlen")
#pragma pop_macro("wcscpy")
#pragma pop_macro("wcsncpy")
#pragma pop_macro("wcscat")
#pragma pop_macro("wcsncat")
#pragma pop_macro("wcscmp")
#pragma pop_macro("wcsncmp")
#pragma pop_macro("wcschr")
#pragma pop_macro("wcsrchr")
#pragma pop_macro("wcsstr")
#pragma pop_macro("wcstol")
#pragma pop_macro("wcstoul")
#pragma pop_macro("towlower")
#pragma pop_macro("towupper")
#pragma pop_macro("iswdigit")
#pragma pop_macro("iswspace")
#pragma pop_macro("iswalpha")
#pragma pop_macro("min")
#pragma pop_macro("max")
#endif

#include <setjmp.h>

IOSIM_BEGIN_DECLS

/* ---- filter results (excpt.h) ---- */
#ifndef EXCEPTION_EXECUTE_HANDLER
#define EXCEPTION_EXECUTE_HANDLER 1
#define EXCEPTION_CONTINUE_SEARCH 0
#define EXCEPTION_CONTINUE_EXECUTION (-1)
#endif

/* ---- the exception record and context (wdm.h / winnt.h, x64 layout) ---- */
#ifndef IOSIM_SEH_TYPES
#define IOSIM_SEH_TYPES 1

#define EXCEPTION_NONCONTINUABLE 0x1
#define EXCEPTION_UNWINDING 0x2
#define EXCEPTION_EXIT_UNWIND 0x4
#define EXCEPTION_MAXIMUM_PARAMETERS 15

typedef struct _EXCEPTION_RECORD {
#ifdef IOSIM_KERNEL_MODE
    LONG ExceptionCode; /* NTSTATUS */
#else
    DWORD ExceptionCode;
#endif
    ULONG ExceptionFlags;
    struct _EXCEPTION_RECORD *ExceptionRecord;
    PVOID ExceptionAddress;
    ULONG NumberParameters;
    ULONG_PTR ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS];
} EXCEPTION_RECORD, *PEXCEPTION_RECORD;

typedef struct DECLSPEC_ALIGN(16) _M128A {
    ULONGLONG Low;
    LONGLONG High;
} M128A, *PM128A;

#define CONTEXT_AMD64 0x00100000L
#define CONTEXT_CONTROL (CONTEXT_AMD64 | 0x00000001L)
#define CONTEXT_INTEGER (CONTEXT_AMD64 | 0x00000002L)
#define CONTEXT_SEGMENTS (CONTEXT_AMD64 | 0x00000004L)
#define CONTEXT_FLOATING_POINT (CONTEXT_AMD64 | 0x00000008L)
#define CONTEXT_DEBUG_REGISTERS (CONTEXT_AMD64 | 0x00000010L)
#define CONTEXT_FULL (CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_FLOATING_POINT)

/* The x64 CONTEXT (1232 bytes). iosim fills ContextFlags, the integer registers, Rsp,
 * Rip and EFlags for a fault, and Rip for a raise; the rest stays zero. */
typedef struct DECLSPEC_ALIGN(16) _CONTEXT {
    DWORD64 P1Home, P2Home, P3Home, P4Home, P5Home, P6Home;
    DWORD ContextFlags;
    DWORD MxCsr;
    WORD SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
    DWORD EFlags;
    DWORD64 Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
    DWORD64 Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
    DWORD64 R8, R9, R10, R11, R12, R13, R14, R15;
    DWORD64 Rip;
    M128A FltSave[32]; /* XMM_SAVE_AREA32: 512 bytes */
    M128A VectorRegister[26];
    DWORD64 VectorControl;
    DWORD64 DebugControl;
    DWORD64 LastBranchToRip;
    DWORD64 LastBranchFromRip;
    DWORD64 LastExceptionToRip;
    DWORD64 LastExceptionFromRip;
} CONTEXT, *PCONTEXT;

typedef struct _EXCEPTION_POINTERS {
    PEXCEPTION_RECORD ExceptionRecord;
    PCONTEXT ContextRecord;
} EXCEPTION_POINTERS, *PEXCEPTION_POINTERS;

/* ---- iosim's frame: one per __try, on the stack of the function that has it ---- */
enum {
    IOSIM_SEH_STAGE_START = 0, /* before the first pass */
    IOSIM_SEH_STAGE_PROBE,     /* first pass: the handler kind is declared, nothing runs */
    IOSIM_SEH_STAGE_BODY,      /* the body runs, the frame is on the thread's stack */
    IOSIM_SEH_STAGE_LANDED,    /* an exception jumped back here; the frame is off the stack */
    IOSIM_SEH_STAGE_FILTER,    /* the __except filter is evaluated */
    IOSIM_SEH_STAGE_HANDLER,   /* the __except block runs */
    IOSIM_SEH_STAGE_TERMINATION, /* the __finally block runs */
    IOSIM_SEH_STAGE_DONE
};
enum {
    IOSIM_SEH_KIND_NONE = 0, /* nothing declared: libstdc++'s __try/__catch (no frame) */
    IOSIM_SEH_KIND_EXCEPT,
    IOSIM_SEH_KIND_FINALLY,
    IOSIM_SEH_KIND_CAPTURE   /* iosim's own seh::capture */
};

typedef struct iosim_seh_frame {
    const char *file;           /* where the __try is (reports) */
    int line;
    int stage;                  /* IOSIM_SEH_STAGE_* */
    int kind;                   /* IOSIM_SEH_KIND_* */
    int once;                   /* the body's one-iteration loop */
    int abnormal;               /* AbnormalTermination() */
    int from_fault;             /* the exception came from a fault (ExceptionAddress is the instruction) */
    struct iosim_seh_frame *prev; /* next outer frame of this host thread */
    void *thread;               /* iosim's bookkeeping: the simulated thread when pushed, */
    ULONG_PTR depth;            /* and how many driver calls it was inside */
    EXCEPTION_RECORD record;
    EXCEPTION_POINTERS pointers;
    jmp_buf jb;                 /* filled by __sigsetjmp(jb, 0): no signal mask saved (see seh.cpp) */
} iosim_seh_frame;

/* The C ABI the macros call (sim_kernel/ke/seh.cpp). */
int iosim_seh_next(iosim_seh_frame *frame, const char *file, int line);
int iosim_seh_except(iosim_seh_frame *frame, int filter_result);
int iosim_seh_finally(iosim_seh_frame *frame);
void iosim_seh_cleanup(iosim_seh_frame *frame);
DECLSPEC_NORETURN void iosim_seh_leave(iosim_seh_frame *frame);

#endif /* IOSIM_SEH_TYPES */

IOSIM_END_DECLS

#if !defined(IOSIM_IMPLEMENTATION)

#if defined(__cplusplus)
extern "C++" {
/* What __leave throws in C++: caught right after the __try body. */
struct iosim_seh_leave_signal {
};
}
#endif

#if defined(__cplusplus) && defined(__cpp_exceptions)
#define IOSIM_SEH_ZERO {}
#define IOSIM_SEH_BODY_BEGIN try
#define IOSIM_SEH_BODY_END catch (const iosim_seh_leave_signal &) {}
#define IOSIM_SEH_LEAVE throw iosim_seh_leave_signal()
#elif defined(__cplusplus) /* -fno-exceptions: __leave jumps back to the frame */
#define IOSIM_SEH_ZERO {}
#define IOSIM_SEH_BODY_BEGIN
#define IOSIM_SEH_BODY_END
#define IOSIM_SEH_LEAVE iosim_seh_leave(&_iosim_seh)
#else
#define IOSIM_SEH_ZERO {0}
#define IOSIM_SEH_BODY_BEGIN { __label__ _iosim_seh_leave;
#define IOSIM_SEH_BODY_END _iosim_seh_leave: __attribute__((unused)); }
#define IOSIM_SEH_LEAVE goto _iosim_seh_leave
#endif

#undef __try
#undef __except
#undef __finally
#undef __leave

/* Every handler is reached by an else, so an "else" after the whole construct belongs to
 * the user's own if, as with MSVC. */
#define __try                                                                                                  \
    for (iosim_seh_frame _iosim_seh __attribute__((cleanup(iosim_seh_cleanup))) = IOSIM_SEH_ZERO;             \
         iosim_seh_next(&_iosim_seh, __FILE__, __LINE__);)                                                     \
        if (_iosim_seh.stage == IOSIM_SEH_STAGE_BODY)                                                          \
            if (__sigsetjmp(_iosim_seh.jb, 0) == 0)                                                            \
                for (_iosim_seh.once = 1; _iosim_seh.once; _iosim_seh.once = 0) IOSIM_SEH_BODY_BEGIN

#define __except(...)                                                                                          \
    IOSIM_SEH_BODY_END else {}                                                                                 \
    else if (!iosim_seh_except(&_iosim_seh,                                                                    \
                               _iosim_seh.stage == IOSIM_SEH_STAGE_FILTER ? (int)(__VA_ARGS__) : 0)) {}        \
    else

#define __finally                                                                                              \
    IOSIM_SEH_BODY_END else {}                                                                                 \
    else if (!iosim_seh_finally(&_iosim_seh)) {}                                                               \
    else

#define __leave IOSIM_SEH_LEAVE

/* Valid in a filter and in the __except block (the record stays with its frame). */
#define _exception_code() (_iosim_seh.record.ExceptionCode)
#define _exception_info() ((void *)&_iosim_seh.pointers)
#define _abnormal_termination() (_iosim_seh.abnormal)
#define GetExceptionCode _exception_code
#define GetExceptionInformation() ((struct _EXCEPTION_POINTERS *)_exception_info())
#define AbnormalTermination _abnormal_termination

#endif /* !IOSIM_IMPLEMENTATION */

/* User-mode names of the common exception codes (minwinbase.h). */
#ifndef EXCEPTION_ACCESS_VIOLATION
#define EXCEPTION_ACCESS_VIOLATION ((DWORD)0xC0000005L)
#define EXCEPTION_DATATYPE_MISALIGNMENT ((DWORD)0x80000002L)
#define EXCEPTION_BREAKPOINT ((DWORD)0x80000003L)
#define EXCEPTION_SINGLE_STEP ((DWORD)0x80000004L)
#define EXCEPTION_ARRAY_BOUNDS_EXCEEDED ((DWORD)0xC000008CL)
#define EXCEPTION_INT_DIVIDE_BY_ZERO ((DWORD)0xC0000094L)
#define EXCEPTION_INT_OVERFLOW ((DWORD)0xC0000095L)
#define EXCEPTION_PRIV_INSTRUCTION ((DWORD)0xC0000096L)
#define EXCEPTION_IN_PAGE_ERROR ((DWORD)0xC0000006L)
#define EXCEPTION_ILLEGAL_INSTRUCTION ((DWORD)0xC000001DL)
#define EXCEPTION_NONCONTINUABLE_EXCEPTION ((DWORD)0xC0000025L)
#define EXCEPTION_STACK_OVERFLOW ((DWORD)0xC00000FDL)
#define EXCEPTION_INVALID_DISPOSITION ((DWORD)0xC0000026L)
#endif

#endif /* IOSIM_SEH_H */

/* Kernel-mode raise routines (wdm.h), declared whichever of windows.h / wdm.h came first.
 * ExRaiseStatus itself is declared in km_ex.h. */
#if defined(IOSIM_KERNEL_MODE) && !defined(IOSIM_SEH_KM_DECLS)
#define IOSIM_SEH_KM_DECLS 1
IOSIM_BEGIN_DECLS
void ExRaiseAccessViolation(void);
void ExRaiseDatatypeMisalignment(void);
IOSIM_END_DECLS
#endif
