// parser_test.cpp - malformed lines: each message says what was expected, at which column.
#include <gtest/gtest.h>

#include "lang/lang_test_support.h"
#include "lang/lexer.h"
#include "wdm_impl.h"

using namespace iosim::lang;
using langtest::ParseError;
using langtest::WithHandle;

TEST(Parser, UnknownCommandSuggestsTheNearestWord)
{
    EXPECT_EQ(ParseError("opne h"), "t.iosim:3:1: error: unknown command 'opne' (did you mean 'open'?)");
    EXPECT_EQ(ParseError("  frobnicate"), "t.iosim:3:3: error: unknown command 'frobnicate' (see docs/command-language.md)");
    EXPECT_EQ(ParseError("open \\\\.\\X"),
              "t.iosim:3:1: error: 'open' makes a handle: write it as VAR = open PATH (for example h = open \\\\.\\IosimHello)");
}

TEST(Parser, MissingArgument)
{
    EXPECT_EQ(ParseError("close"), "t.iosim:3:6: error: expected a handle variable after 'close', got end of line");
    EXPECT_EQ(ParseError("load"), "t.iosim:3:5: error: expected a driver module such as hello.sys after 'load', got end of line");
    EXPECT_EQ(ParseError("read h", WithHandle()),
              "t.iosim:3:7: error: expected a length (a number, decimal or 0x hex) after 'h', got end of line");
    EXPECT_EQ(ParseError("ioctl h 0x222000 in", WithHandle()),
              "t.iosim:3:20: error: expected data: \"text\", hex BYTES or file \"path\" after 'in', got end of line");
    EXPECT_EQ(ParseError("expect"),
              "t.iosim:3:7: error: expected what to expect (status, bytes, data, last-error, bugcheck, clean, finding, "
              "trace, object, output, exit) after 'expect', got end of line");
    EXPECT_EQ(ParseError("expect object \\Device\\X"),
              "t.iosim:3:24: error: expected 'exists' or 'absent' after '\\Device\\X', got end of line");
}

TEST(Parser, NotANumberWhereANumberGoes)
{
    // The example of the documentation: a number where a handle variable goes.
    EXPECT_EQ(ParseError("close 42"), "t.iosim:3:7: error: expected a handle variable after 'close', got \"42\"");
    EXPECT_EQ(ParseError("read h 12x", WithHandle()),
              "t.iosim:3:8: error: expected a length (a number, decimal or 0x hex) after 'h', got \"12x\"");
    EXPECT_EQ(ParseError("seed 0xZZ"), "t.iosim:3:6: error: expected a seed (a number, decimal or 0x hex) after 'seed', got \"0xZZ\"");
    EXPECT_EQ(ParseError("seed 99999999999999999999"),
              "t.iosim:3:6: error: expected a seed (a number, decimal or 0x hex) after 'seed', got \"99999999999999999999\"");
    EXPECT_EQ(ParseError("read h 17000000", WithHandle()), "t.iosim:3:8: error: length 17000000 is too large (at most 16 MiB)");
    EXPECT_EQ(ParseError("advance 10"),
              "t.iosim:3:9: error: expected a duration such as 100ms or 2s (units ns, us, ms, s) after 'advance', got \"10\"");
    EXPECT_EQ(ParseError("advance 150ns"), "t.iosim:3:9: error: duration 150ns is not a multiple of 100ns, the clock's unit");
    EXPECT_EQ(ParseError("write h hex 01 0g", WithHandle()),
              "t.iosim:3:16: error: bad hex byte \"0g\": write bytes as hex digits, like hex 0a ff or hex 0aff");
    EXPECT_EQ(ParseError("ioctl h ctl 0x22 0x1000 buffered any", WithHandle()),
              "t.iosim:3:18: error: a function number is at most 0xFFF");
}

TEST(Parser, UnterminatedString)
{
    EXPECT_EQ(ParseError("print \"abc"), "t.iosim:3:7: error: unterminated string: missing the closing '\"'");
    EXPECT_EQ(ParseError("print \"abc\\\""), "t.iosim:3:7: error: unterminated string: missing the closing '\"'");
}

TEST(Parser, BadEscape)
{
    EXPECT_EQ(ParseError("print \"a\\qb\""),
              "t.iosim:3:9: error: bad escape '\\q' in string (use \\n \\r \\t \\\\ \\\" or \\xHH)");
    EXPECT_EQ(ParseError("print \"\\x4\""),
              "t.iosim:3:8: error: bad escape in string: \\x needs two hex digits, as in \\x0A");
}

TEST(Parser, EscapesDecode)
{
    Scope scope;
    Command c = parse_line("print \"a\\n\\r\\t\\\\\\\"\\x41\\xfF\"", {"t.iosim", 1, 0}, scope);
    EXPECT_EQ(c.name, std::string("a\n\r\t\\\"A\xff"));
}

TEST(Parser, UnknownVariable)
{
    EXPECT_EQ(ParseError("close h2", WithHandle()), "t.iosim:3:7: error: unknown variable 'h2' (handle variables: h)");
    EXPECT_EQ(ParseError("read k 4"), "t.iosim:3:6: error: unknown variable 'k' (handle variables: none defined yet)");
    EXPECT_EQ(ParseError("in nobody"), "t.iosim:3:4: error: unknown variable 'nobody' (processes: none defined yet)");
    Scope scope;
    scope.variables["p"] = Scope::Kind::Process;
    EXPECT_EQ(ParseError("close p", scope),
              "t.iosim:3:7: error: expected a handle variable after 'close', got 'p', which is a process");
    EXPECT_EQ(ParseError("p = open \\\\.\\X", scope), "t.iosim:3:1: error: 'p' is a process; choose another name for the handle");
    EXPECT_EQ(ParseError("read = open \\\\.\\X"),
              "t.iosim:3:1: error: 'read' cannot name a variable (a letter or '_', then letters, digits and '_'; not a "
              "command word)");
}

TEST(Parser, UnknownNames)
{
    EXPECT_EQ(ParseError("expect status STATUS_FILE_INVALIDD"),
              "t.iosim:3:15: error: unknown status name 'STATUS_FILE_INVALIDD' (did you mean STATUS_FILE_INVALID?)");
    EXPECT_EQ(ParseError("expect last-error ERROR_NOPE_NOPE_NOPE"),
              "t.iosim:3:19: error: unknown Win32 error name 'ERROR_NOPE_NOPE_NOPE'");
    EXPECT_EQ(ParseError("expect bugcheck MULTIPLE_IRP_COMPLETE_REQUEST"),
              "t.iosim:3:17: error: unknown bug check name 'MULTIPLE_IRP_COMPLETE_REQUEST' (did you mean "
              "MULTIPLE_IRP_COMPLETE_REQUESTS?)");
    EXPECT_EQ(ParseError("break IRP_MJ_WRTE"),
              "t.iosim:3:7: error: unknown IRP major function 'IRP_MJ_WRTE' (did you mean IRP_MJ_WRITE?)");
    EXPECT_EQ(ParseError("expect stats 0"),
              "t.iosim:3:8: error: unknown expectation 'stats' (expect status, bytes, data, last-error, bugcheck, clean, "
              "finding, trace, object, output, exit), did you mean 'status'?");
    EXPECT_EQ(ParseError("!nosuchcommand").rfind("t.iosim:3:1: error: unknown inspection command '!nosuchcommand' (", 0), 0u);
    EXPECT_EQ(ParseError("!drvobjj x").rfind("t.iosim:3:1: error: unknown inspection command '!drvobjj' (did you mean !drvobj? "
                                             "commands: ",
                                             0),
              0u);
    EXPECT_EQ(ParseError("break IRP_MJ_READ do !irp; irp").substr(0, 93),
              "t.iosim:3:28: error: expected an inspection command starting with '!' after 'do', got \"irp\"");
}

TEST(Parser, AttachAndDetachNameAServiceAndADevice)
{
    Scope scope;
    Command attach = parse_line("attach attachfilter to \\Device\\IosimHello", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(attach.verb, Verb::Attach);
    EXPECT_EQ(attach.service, "attachfilter");
    EXPECT_EQ(attach.name, "\\Device\\IosimHello");
    Command detach = parse_line("detach attachfilter from \\Device\\IosimHello", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(detach.verb, Verb::Detach);
    EXPECT_EQ(ParseError("attach"),
              "t.iosim:3:7: error: expected a filter driver's service name such as attachfilter after 'attach', got "
              "end of line");
    EXPECT_EQ(ParseError("attach attachfilter \\Device\\X"),
              "t.iosim:3:21: error: expected 'to' (attach SERVICE to DEVICE) after 'attachfilter', got "
              "\"\\Device\\X\"");
    EXPECT_EQ(ParseError("detach attachfilter to \\Device\\X"),
              "t.iosim:3:21: error: expected 'from' (detach SERVICE from DEVICE) after 'attachfilter', got \"to\"");
    EXPECT_EQ(ParseError("attach attachfilter to"),
              "t.iosim:3:23: error: expected a device name such as \\Device\\IosimHello after 'to', got end of line");
    EXPECT_EQ(ParseError("detach attachfilter from \\Device\\X now"),
              "t.iosim:3:36: error: expected end of line after '\\Device\\X', got \"now\"");
}

namespace {

Scope WithOverlappedHandle(const std::string& name = "o")
{
    Scope scope = WithHandle("h");
    scope.variables[name] = Scope::Kind::Handle;
    scope.overlapped.insert(name);
    scope.variables["p"] = Scope::Kind::Process;
    return scope;
}

Scope WithRequest()
{
    Scope scope = WithOverlappedHandle();
    scope.variables["r"] = Scope::Kind::Request;
    return scope;
}

}  // namespace

// FILE_FLAG_OVERLAPPED: an asynchronous file object (no FILE_SYNCHRONOUS_IO_* option).
TEST(Parser, OpenOverlappedMakesAnOverlappedHandleVariable)
{
    Scope scope;
    Command open = parse_line("o = open \\\\.\\PendingTimer access read overlapped", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(open.verb, Verb::Open);
    EXPECT_TRUE(open.overlapped);
    EXPECT_EQ(scope.overlapped.count("o"), 1u);
    parse_line("o = open \\\\.\\PendingTimer", {"t.iosim", 4, 0}, scope);  // opened again, synchronous
    EXPECT_EQ(scope.overlapped.count("o"), 0u);
    EXPECT_EQ(ParseError("h = open \\\\.\\X overlapped overlapped"),
              "t.iosim:3:27: error: unexpected \"overlapped\" in 'open': expected access, share, overlapped or end of "
              "line");
    EXPECT_EQ(ParseError("h = open \\\\.\\X overlaped"),
              "t.iosim:3:16: error: unexpected \"overlaped\" in 'open': expected access, share, overlapped or end of "
              "line");
}

TEST(Parser, ANamedRequestNeedsAnOverlappedHandle)
{
    Scope scope = WithOverlappedHandle();
    Command read = parse_line("r = read o 16 offset 4", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(read.verb, Verb::Read);
    EXPECT_EQ(read.request, "r");
    EXPECT_EQ(read.variable, "o");
    EXPECT_EQ(read.number, 16u);
    EXPECT_EQ(scope.variables["r"], Scope::Kind::Request);
    Command ioctl = parse_line("r = ioctl o 0x222004 in \"x\" out 8", {"t.iosim", 4, 0}, scope);
    EXPECT_EQ(ioctl.verb, Verb::Ioctl);
    EXPECT_EQ(ioctl.request, "r");
    EXPECT_EQ(*ioctl.out_length, 8u);
    Command write = parse_line("w = write o \"abc\"", {"t.iosim", 5, 0}, scope);
    EXPECT_EQ(write.verb, Verb::Write);
    EXPECT_EQ(write.request, "w");

    EXPECT_EQ(ParseError("r = read h 16", WithOverlappedHandle()),
              "t.iosim:3:10: error: 'r = read' names an overlapped request, but 'h' was not opened overlapped (add "
              "'overlapped' to its open)");
    EXPECT_EQ(ParseError("h = read o 16", WithOverlappedHandle()),
              "t.iosim:3:1: error: 'h' is a handle variable; choose another name for the request");
    EXPECT_EQ(ParseError("r = open \\\\.\\X", WithRequest()),
              "t.iosim:3:1: error: 'r' is a request variable; choose another name for the handle");
    EXPECT_EQ(ParseError("p = ioctl o 0x222004", WithOverlappedHandle()),
              "t.iosim:3:1: error: 'p' is a process; choose another name for the request");
    EXPECT_EQ(ParseError("r = close o", WithOverlappedHandle()),
              "t.iosim:3:5: error: expected 'open' (a handle variable) or read, write or ioctl (a request variable) "
              "after '=', got \"close\"");
    EXPECT_EQ(ParseError("r = read o", WithOverlappedHandle()),
              "t.iosim:3:11: error: expected a length (a number, decimal or 0x hex) after 'o', got end of line");
    EXPECT_EQ(ParseError("r = read o 16 extra", WithOverlappedHandle()),
              "t.iosim:3:15: error: expected end of line after '16', got \"extra\"");
    EXPECT_EQ(ParseError("read r 16", WithRequest()),
              "t.iosim:3:6: error: expected a handle variable after 'read', got 'r', which is a request variable");
}

TEST(Parser, WaitTakesARequestAndATimeoutInWholeMilliseconds)
{
    Scope scope = WithRequest();
    Command wait = parse_line("wait r", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(wait.verb, Verb::Wait);
    EXPECT_EQ(wait.request, "r");
    EXPECT_FALSE(wait.timeout.has_value());
    Command timed = parse_line("wait r timeout 2s", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(*timed.timeout, 20000000u);

    EXPECT_EQ(ParseError("wait", WithRequest()), "t.iosim:3:5: error: expected a request variable after 'wait', got end of line");
    EXPECT_EQ(ParseError("wait x", WithRequest()), "t.iosim:3:6: error: unknown variable 'x' (request variables: r)");
    EXPECT_EQ(ParseError("wait x"), "t.iosim:3:6: error: unknown variable 'x' (request variables: none defined yet)");
    EXPECT_EQ(ParseError("wait o", WithRequest()),
              "t.iosim:3:6: error: expected a request variable after 'wait', got 'o', which is a handle variable");
    EXPECT_EQ(ParseError("wait r timeout", WithRequest()),
              "t.iosim:3:15: error: expected a duration such as 100ms or 2s (units ns, us, ms, s) after 'timeout', got "
              "end of line");
    EXPECT_EQ(ParseError("wait r timeout 500us", WithRequest()),
              "t.iosim:3:16: error: timeout 500us is not a whole number of milliseconds (GetOverlappedResultEx waits "
              "in ms)");
    EXPECT_EQ(ParseError("wait r timeout 5000000s", WithRequest()),
              "t.iosim:3:16: error: timeout 5000000s is too long (at most 4294967294ms; leave it out to wait without "
              "one)");
    EXPECT_EQ(ParseError("wait r 10ms", WithRequest()), "t.iosim:3:8: error: expected end of line after 'r', got \"10ms\"");
}

TEST(Parser, CancelTakesARequestOrAHandle)
{
    Scope scope = WithRequest();
    Command one = parse_line("cancel r", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(one.verb, Verb::Cancel);
    EXPECT_EQ(one.request, "r");
    EXPECT_EQ(one.variable, "");
    Command all = parse_line("cancel o", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(all.request, "");
    EXPECT_EQ(all.variable, "o");

    EXPECT_EQ(ParseError("cancel", WithRequest()),
              "t.iosim:3:7: error: expected a request or handle variable after 'cancel', got end of line");
    EXPECT_EQ(ParseError("cancel 7", WithRequest()),
              "t.iosim:3:8: error: expected a request or handle variable after 'cancel', got \"7\"");
    EXPECT_EQ(ParseError("cancel x", WithRequest()),
              "t.iosim:3:8: error: unknown variable 'x' (request and handle variables: h, o, r)");
    EXPECT_EQ(ParseError("cancel p", WithRequest()),
              "t.iosim:3:8: error: expected a request or handle variable after 'cancel', got 'p', which is a process");
    EXPECT_EQ(ParseError("cancel r o", WithRequest()), "t.iosim:3:10: error: expected end of line after 'r', got \"o\"");
}

TEST(Parser, PnpCommands)
{
    Scope scope;
    Command declare = parse_line("device declare TOYBUS\\CHILD function toychild upper logf countf lower lowf",
                                 {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(declare.verb, Verb::DeviceDeclare);
    EXPECT_EQ(declare.name, "TOYBUS\\CHILD");
    EXPECT_EQ(declare.service, "toychild");
    EXPECT_EQ(declare.args, (std::vector<std::string>{"logf", "countf"}));
    EXPECT_EQ(declare.lower, (std::vector<std::string>{"lowf"}));
    Command plug = parse_line("plug ROOT\\IOSIM_TOYBUS", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(plug.verb, Verb::Plug);
    EXPECT_EQ(plug.name, "ROOT\\IOSIM_TOYBUS");
    Command unplug = parse_line("unplug ROOT\\IOSIM_TOYBUS\\0000 surprise", {"t.iosim", 3, 0}, scope);
    EXPECT_EQ(unplug.verb, Verb::Unplug);
    EXPECT_EQ(unplug.number, 1u);
    EXPECT_EQ(parse_line("unplug ROOT\\IOSIM_TOYBUS", {"t.iosim", 3, 0}, scope).number, 0u);
    EXPECT_EQ(parse_line("sleep", {"t.iosim", 3, 0}, scope).number, static_cast<uint64_t>(PowerSystemSleeping3));
    EXPECT_EQ(parse_line("sleep S4", {"t.iosim", 3, 0}, scope).number, static_cast<uint64_t>(PowerSystemHibernate));
    EXPECT_EQ(parse_line("wake", {"t.iosim", 3, 0}, scope).verb, Verb::Wake);
}

TEST(Parser, PnpCommandErrors)
{
    EXPECT_EQ(ParseError("plug"),
              "t.iosim:3:5: error: expected a hardware id such as ROOT\\IOSIM_TOYBUS after 'plug', got end of line");
    EXPECT_EQ(ParseError("unplug"),
              "t.iosim:3:7: error: expected a device: an instance path such as ROOT\\IOSIM_TOYBUS\\0000, or a hardware "
              "id after 'unplug', got end of line");
    EXPECT_EQ(ParseError("unplug X quietly"),
              "t.iosim:3:10: error: expected end of line after 'X', got \"quietly\"");
    EXPECT_EQ(ParseError("device TOYBUS\\CHILD function toychild"),
              "t.iosim:3:8: error: expected 'declare' (device declare HARDWARE_ID function SERVICE ...) after 'device', "
              "got \"TOYBUS\\CHILD\"");
    EXPECT_EQ(ParseError("device declare TOYBUS\\CHILD upper logf"),
              "t.iosim:3:39: error: expected 'function SERVICE' (a declared device names its function driver) after "
              "'logf', got end of line");
    EXPECT_EQ(ParseError("device declare X function"),
              "t.iosim:3:26: error: expected the function driver's service name after 'function', got end of line");
    EXPECT_EQ(ParseError("device declare X function a function b"),
              "t.iosim:3:29: error: unexpected \"function\" in 'device declare': expected function, upper, lower or "
              "end of line");
    EXPECT_EQ(ParseError("sleep S5"),
              "t.iosim:3:7: error: expected a sleeping state: S1, S2, S3 or S4 (hibernate) after 'sleep', got \"S5\"");
    EXPECT_EQ(ParseError("wake up"), "t.iosim:3:6: error: expected end of line after 'wake', got \"up\"");
    // The command words are not variable names.
    EXPECT_EQ(ParseError("plug = open \\\\.\\X"),
              "t.iosim:3:1: error: 'plug' cannot name a variable (a letter or '_', then letters, digits and '_'; not a "
              "command word)");
}

TEST(Parser, TrailingWordsAreRejected)
{
    EXPECT_EQ(ParseError("close h now", WithHandle()), "t.iosim:3:9: error: expected end of line after 'h', got \"now\"");
    EXPECT_EQ(ParseError("h = open \\\\.\\X access read access write"),
              "t.iosim:3:28: error: unexpected \"access\" in 'open': expected access, share, overlapped or end of line");
    EXPECT_EQ(ParseError("h = close"), "t.iosim:3:5: error: expected 'open' (a handle variable) or read, write or ioctl (a "
                                       "request variable) after '=', got \"close\"");
    EXPECT_EQ(ParseError("print hello"), "t.iosim:3:7: error: expected a string in double quotes after 'print', got \"hello\"");
}

TEST(Parser, CommentsAndBlankLines)
{
    Scope scope;
    EXPECT_EQ(parse_line("", {"t", 1, 0}, scope).verb, Verb::Empty);
    EXPECT_EQ(parse_line("   # only a comment", {"t", 1, 0}, scope).verb, Verb::Empty);
    Command c = parse_line("print \"# not a comment\"  # a comment", {"t", 1, 0}, scope);
    EXPECT_EQ(c.name, "# not a comment");
    EXPECT_EQ(c.source, "print \"# not a comment\"");
}

TEST(Parser, CommandsAndTheirFields)
{
    Scope scope;
    Location at{"t.iosim", 1, 0};
    Command load = parse_line("load ioctl_buffered.sys as IosimIoctl", at, scope);
    EXPECT_EQ(load.verb, Verb::Load);
    EXPECT_EQ(load.name, "ioctl_buffered.sys");
    EXPECT_EQ(load.service, "IosimIoctl");
    EXPECT_EQ(parse_line("load /x/y/kbuffer.sys", at, scope).service, "kbuffer");

    Command open = parse_line("h = open \"\\\\\\\\.\\\\IosimHello\" share readwrite access read", at, scope);
    EXPECT_EQ(open.verb, Verb::Open);
    EXPECT_EQ(open.variable, "h");
    EXPECT_EQ(open.name, "\\\\.\\IosimHello");
    EXPECT_EQ(open.access, GENERIC_READ);
    EXPECT_EQ(open.share, static_cast<uint32_t>(FILE_SHARE_READ | FILE_SHARE_WRITE));
    EXPECT_EQ(scope.variables.at("h"), Scope::Kind::Handle);

    Command ioctl = parse_line("ioctl h ctl 0x8000 0x803 buffered any in hex 01 0203 out 20", at, scope);
    EXPECT_EQ(ioctl.number, 0x8000200Cu);
    EXPECT_EQ(*ioctl.data, std::string("\x01\x02\x03"));
    EXPECT_EQ(*ioctl.out_length, 20u);
    EXPECT_EQ(parse_line("ioctl h ctl 0x22 0x802 METHOD_BUFFERED FILE_WRITE_ACCESS", at, scope).number, 0x0022A008u);

    Command read = parse_line("read h 0x20 offset 5", at, scope);
    EXPECT_EQ(read.number, 32u);
    EXPECT_EQ(*read.offset, 5u);

    EXPECT_EQ(parse_line("advance 100ms", at, scope).number, 1000000u);
    EXPECT_EQ(parse_line("advance 2s", at, scope).number, 20000000u);
    EXPECT_EQ(parse_line("advance 300ns", at, scope).number, 3u);

    Command brk = parse_line("break IRP_MJ_WRITE at \\Device\\IosimKbuffer do !irp; !devstack \\Device\\IosimKbuffer", at, scope);
    EXPECT_EQ(brk.major, IRP_MJ_WRITE);
    EXPECT_EQ(brk.name, "\\Device\\IosimKbuffer");
    EXPECT_EQ(brk.args, (std::vector<std::string>{"!irp", "!devstack \\Device\\IosimKbuffer"}));

    Command run = parse_line("run kbuffer_client.exe one \"two words\" input \"typed\\n\"", at, scope);
    EXPECT_EQ(run.args, (std::vector<std::string>{"one", "two words"}));
    EXPECT_EQ(*run.input, "typed\n");

    EXPECT_EQ(parse_line("expect status 0xC0000022", at, scope).number, 0xC0000022u);
    EXPECT_EQ(parse_line("expect status STATUS_ACCESS_DENIED", at, scope).number, 0xC0000022u);
    EXPECT_EQ(parse_line("expect last-error ERROR_MORE_DATA", at, scope).number, 234u);
    EXPECT_EQ(parse_line("expect bugcheck 0x44", at, scope).number, 0x44u);
    EXPECT_EQ(parse_line("expect exit -1", at, scope).number, 0xFFFFFFFFu);
    EXPECT_FALSE(parse_line("expect object \\GLOBAL??\\X absent", at, scope).exists);

    Command inspect = parse_line("!drvobj hello 2   ", at, scope);
    EXPECT_EQ(inspect.verb, Verb::Inspect);
    EXPECT_EQ(inspect.name, "!drvobj hello 2");
}

TEST(Parser, DataFromAFile)
{
    auto dir = langtest::ScratchDir();
    langtest::WriteFile(dir / "bytes.bin", std::string("\x00\x01zz", 4));
    Scope scope = WithHandle();
    Command c = parse_line("write h file \"bytes.bin\"", {(dir / "t.iosim").string(), 1, 0}, scope);
    EXPECT_EQ(*c.data, std::string("\x00\x01zz", 4));
    std::string missing = ParseError("write h file \"nope.bin\"", WithHandle());
    EXPECT_EQ(missing.rfind("t.iosim:3:14: error: cannot read data file \"nope.bin\" (looked for ", 0), 0u) << missing;
}

TEST(Lexer, TokensAndColumns)
{
    auto tokens = tokenize("h=open \"a b\"# c", {"t", 1, 0});
    ASSERT_EQ(tokens.size(), 4u);
    EXPECT_EQ(tokens[0].text, "h");
    EXPECT_EQ(tokens[1].kind, TokenKind::Equals);
    EXPECT_EQ(tokens[2].column, 3);
    EXPECT_EQ(tokens[3].kind, TokenKind::String);
    EXPECT_EQ(tokens[3].text, "a b");
    EXPECT_EQ(tokens[3].column, 8);
    EXPECT_EQ(quote(std::string("a\n\x01\"", 4)), "\"a\\n\\x01\\\"\"");
}
