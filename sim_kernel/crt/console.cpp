// console.cpp - console I/O of the simulated process: printf, puts, getchar, fgets...
//
// App code's stdout and stderr go to the current process's console (Process::console()
// .output), so iosim can label and capture what each app prints; its stdin is the
// scenario-fed console.input. Any other FILE* is a real host file and gets real I/O.
//
// Rules:
//   - Text is formatted with Windows' rules (crt/format.h); wide output (wprintf,
//     fwprintf) is written as UTF-8. wprintf/fwprintf return the number of WCHARs.
//   - No current process, or a console without an output function: stdout/stderr text
//     goes to the host's stdout/stderr, and stdin reads return EOF.
//   - Reading never touches the host's stdin, never blocks: input exhausted is EOF.
//   - Input is not echoed: the output holds only what the process wrote (the scenario
//     that fed the input knows it). getchar, _getch and _getche therefore behave alike.
//     Bytes are passed through unchanged (no CR/LF translation).
//   - fflush(stdout/stderr) is a no-op success (console output is unbuffered), except
//     that without a console it flushes the host stream the text went to.
#include <cerrno>
#include <climits>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "ps/process.h"  // first: C++ library headers must precede the shim's SAL macros
#include "crt/format.h"
#include "iosim_crt.h"

namespace iosim::crt {

namespace {

std::mutex g_input_lock;  // guards console.input_pos against concurrent readers

bool is_console_stream(FILE* stream) { return stream == stdout || stream == stderr; }

Console* console_with_output()
{
    Process* process = current_process();
    if (process == nullptr || !process->console().output)
        return nullptr;
    return &process->console();
}

// Writes to the stream; returns false on a host write error.
bool write(FILE* stream, std::string_view text)
{
    if (is_console_stream(stream)) {
        if (Console* console = console_with_output()) {
            console->output(text);
            return true;
        }
    }
    if (text.empty())
        return true;
    return std::fwrite(text.data(), 1, text.size(), stream) == text.size();
}

int result(bool ok, size_t units)
{
    if (!ok)
        return -1;
    return units > static_cast<size_t>(INT_MAX) ? -1 : static_cast<int>(units);
}

// Reads the next byte of console input; EOF when there is none (never blocks).
int read_input_byte()
{
    Process* process = current_process();
    if (process == nullptr)
        return EOF;
    Console& console = process->console();
    std::lock_guard guard(g_input_lock);
    if (console.input_pos >= console.input.size())
        return EOF;
    return static_cast<unsigned char>(console.input[console.input_pos++]);
}

int vprint(FILE* stream, const char* fmt, va_list ap)
{
    if (stream == nullptr || fmt == nullptr) {
        errno = EINVAL;
        return -1;
    }
    std::string text;
    if (!format_to(text, Flavor::User, fmt, ap)) {
        errno = EINVAL;
        return -1;
    }
    return result(write(stream, text), text.size());
}

int vwprint(FILE* stream, const char16_t* fmt, va_list ap)
{
    if (stream == nullptr || fmt == nullptr) {
        errno = EINVAL;
        return -1;
    }
    std::u16string text;
    if (!format_wide_to(text, fmt, ap)) {
        errno = EINVAL;
        return -1;
    }
    return result(write(stream, to_utf8(text)), text.size());
}

}  // namespace

}  // namespace iosim::crt

using namespace iosim::crt;

extern "C" {

int iosim_vprintf(const char* fmt, va_list ap) { return vprint(stdout, fmt, ap); }

int iosim_printf(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vprint(stdout, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_vwprintf(const WCHAR* fmt, va_list ap) { return vwprint(stdout, fmt, ap); }

int iosim_wprintf(const WCHAR* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vwprint(stdout, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_vfprintf(FILE* stream, const char* fmt, va_list ap) { return vprint(stream, fmt, ap); }

int iosim_fprintf(FILE* stream, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vprint(stream, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_fwprintf(FILE* stream, const WCHAR* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vwprint(stream, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_puts(const char* s)
{
    if (s == nullptr) {
        errno = EINVAL;
        return EOF;
    }
    std::string text(s);
    text += '\n';
    return write(stdout, text) ? 0 : EOF;
}

int iosim_putchar(int c)
{
    char byte = static_cast<char>(c);
    return write(stdout, std::string_view(&byte, 1)) ? static_cast<unsigned char>(byte) : EOF;
}

int iosim_fputs(const char* s, FILE* stream)
{
    if (s == nullptr || stream == nullptr) {
        errno = EINVAL;
        return EOF;
    }
    return write(stream, s) ? 0 : EOF;
}

int iosim_fflush(FILE* stream)
{
    if (stream != nullptr && is_console_stream(stream) && console_with_output() != nullptr)
        return 0;
    return std::fflush(stream);
}

int iosim_getchar(void) { return read_input_byte(); }

int iosim_getch(void) { return read_input_byte(); }

int iosim_kbhit(void)
{
    iosim::Process* process = iosim::current_process();
    if (process == nullptr)
        return 0;
    std::lock_guard guard(g_input_lock);
    const iosim::Console& console = process->console();
    return console.input_pos < console.input.size() ? 1 : 0;
}

char* iosim_fgets(char* buf, int n, FILE* stream)
{
    if (buf == nullptr || n <= 0 || stream == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    if (stream != stdin)
        return std::fgets(buf, n, stream);
    int used = 0;
    while (used < n - 1) {
        int c = read_input_byte();
        if (c == EOF)
            break;
        buf[used++] = static_cast<char>(c);
        if (c == '\n')
            break;
    }
    if (used == 0 && n > 1)
        return nullptr;  // end of input before anything was read
    buf[used] = 0;
    return buf;
}

}  // extern "C"
