// misc.cpp - small kernel32/user32 routines console apps use: MessageBox, time,
// process and thread ids, ExitProcess.
//
// A message box has no screen here: it prints "[MessageBox] caption: text" on the app's
// console and returns IDOK. Time is the simulated clock: a seed app's Sleep(3000) (in
// wait.cpp) costs nothing and runs the same every time.
#include <fmt/format.h>

#include "ps/process.h"
#include "system.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

void console_line(const std::string& text)
{
    Process* process = current_process();
    if (process != nullptr && process->console().output)
        process->console().output(text);
    else
        std::fwrite(text.data(), 1, text.size(), stdout);
}

}  // namespace

extern "C" {

int WINAPI MessageBoxW(HWND hWnd, LPCWSTR lpText, LPCWSTR lpCaption, UINT uType)
{
    std::string caption = lpCaption != nullptr ? narrow(widen(reinterpret_cast<const char16_t*>(lpCaption))) : "Error";
    std::string text = lpText != nullptr ? narrow(widen(reinterpret_cast<const char16_t*>(lpText))) : "";
    console_line(fmt::format("[MessageBox] {}: {}\n", caption, text));
    if (System* sys = System::current())
        sys->trace().record(trace::Kind::Win32, 0, fmt::format("MessageBox \"{}\": {}", caption, text));
    return IDOK;
}

int WINAPI MessageBoxA(HWND hWnd, LPCSTR lpText, LPCSTR lpCaption, UINT uType)
{
    std::u16string text = widen(lpText), caption = widen(lpCaption);
    return MessageBoxW(hWnd, reinterpret_cast<LPCWSTR>(text.c_str()),
                       lpCaption != nullptr ? reinterpret_cast<LPCWSTR>(caption.c_str()) : nullptr, uType);
}

ULONGLONG WINAPI GetTickCount64(void)
{
    System* sys = System::current();
    return sys != nullptr ? static_cast<ULONGLONG>(sys->interrupt_time() / 10000) : 0;
}

DWORD WINAPI GetTickCount(void) { return static_cast<DWORD>(GetTickCount64()); }

BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER* lpFrequency)
{
    lpFrequency->QuadPart = 10000000;  // 100 ns ticks, as KeQueryPerformanceCounter reports here
    return TRUE;
}

BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER* lpPerformanceCount)
{
    System* sys = System::current();
    lpPerformanceCount->QuadPart = sys != nullptr ? sys->interrupt_time() : 0;
    return TRUE;
}

DWORD WINAPI GetCurrentProcessId(void)
{
    Process* process = current_process();
    return process != nullptr ? process->pid() : 0;
}

DWORD WINAPI GetCurrentThreadId(void)
{
    Thread* thread = current_thread();
    return thread != nullptr ? thread->tid() : 0;
}

void WINAPI ExitProcess(UINT uExitCode) { throw AppExit{uExitCode}; }

}  // extern "C"
