#!/usr/bin/env python3
"""run_gdb_test.py - drive gdb in batch mode over iosim and check what it shows.

Scenarios:
  step_into_dispatch  gdb -x iosim-gdb.py, break in hello.sys's HelloCreateClose while
                      hello_open.exe opens \\\\.\\IosimHello; checks the backtrace from the
                      app's wmain down to the dispatch routine, the pretty-printers
                      (IRP, stack location, UNICODE_STRING, NTSTATUS, DEVICE_OBJECT,
                      DRIVER_OBJECT), the inspection commands (irp, devstack, drvobj,
                      object), finish back into the I/O manager, and a clean exit.
  auto_load           gdb finds bin/iosim-gdb.py by itself (add-auto-load-safe-path).

Exit codes: 0 pass, 1 fail, 77 skipped (no gdb, gdb without Python, or no ptrace here).
Each gdb command's output is fenced by an 'echo' marker so a check looks only at the
output of the command it is about.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys

SKIP = 77
MARK = "@@@iosim-gdb-test@@@"


def skip(message):
    print("SKIPPED: " + message)
    sys.exit(SKIP)


def run_gdb(gdb, arguments, timeout):
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)  # never look for debug info on the network
    env.setdefault("TERM", "dumb")
    # Line-buffered inferior output is not guaranteed through a pipe; checks never rely on
    # where the program's own output lands between gdb's.
    process = subprocess.Popen([gdb] + arguments, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        print(out.decode("utf-8", "replace"))
        print("FAILED: gdb did not finish within %d seconds" % timeout)
        sys.exit(1)
    return process.returncode, out.decode("utf-8", "replace")


def check_environment(text):
    if "Python scripting is not supported" in text:
        skip("this gdb has no Python support")
    for needle in ("ptrace: Operation not permitted", "Could not trace the inferior process",
                   "Couldn't get CS register", "ptrace: Permission denied"):
        if needle in text:
            skip("gdb cannot trace processes here (%s)" % needle)


def sections(text):
    """{label: output} for the output following each marker."""
    parts = text.split(MARK)
    result = {"(start)": parts[0]}
    for part in parts[1:]:
        label, _, body = part.partition("\n")
        result[label.strip()] = body
    return result


class Checker:
    def __init__(self, text):
        self.text = text
        self.sections = sections(text)
        self.failures = []

    def section(self, label):
        return self.sections.get(label, "")

    def expect(self, label, pattern, what, flags=0):
        body = self.text if label is None else self.section(label)
        match = re.search(pattern, body, flags)
        if match is None:
            self.failures.append("%s: expected %s (pattern %r) in the output of '%s'" %
                                 (label or "session", what, pattern, label or "the whole session"))
        return match

    def report(self):
        if self.failures:
            print(self.text)
            print("\n".join("FAILED: " + f for f in self.failures))
            return 1
        print(self.text)
        print("PASSED: %d gdb commands checked" % (len(self.sections) - 1))
        return 0


def fenced(commands):
    """-ex arguments running `commands`, each preceded by a marker naming it."""
    args = []
    for command in commands:
        label = command.replace("\\", "\\\\")  # echo interprets backslash escapes
        args += ["-ex", "echo \\n%s%s\\n" % (MARK, label), "-ex", command]
    return args


def common_options():
    return ["-q", "-batch", "-nx", "-iex", "set debuginfod enabled off", "-iex", "set pagination off",
            "-iex", "set confirm off"]


def step_into_dispatch(args):
    commands = [
        "set breakpoint pending on",
        "break HelloCreateClose",
        "run",
        "bt",
        "p *Irp",
        "p *Irp->Tail.Overlay.CurrentStackLocation",
        "p DeviceObject->DriverObject->DriverName",
        "p Irp->IoStatus.Status",
        "p (NTSTATUS)0xC0000010",
        "ntstatus 0xC0000022",
        "irp",
        "devstack",
        "drvobj hello 2",
        "object \\Device",
        "p *DeviceObject",
        "p *DeviceObject->DriverObject",
        "finish",
        "ntstatus $",
        "delete",
        "continue",
    ]
    gdb_args = common_options() + ["-x", args.extension] + fenced(commands) + [
        "--args", args.iosim, "exec", "-d", "hello.sys", "hello_open.exe"]
    code, text = run_gdb(args.gdb, gdb_args, args.timeout)
    check_environment(text)
    c = Checker(text)

    # Optimised builds (release) name the inlined IoGetCurrentIrpStackLocation (km_io.h) on
    # hello.cpp's first line, and show arguments as "Irp=Irp@entry=0x...".
    where = r"hello\.cpp" if args.build_type == "Debug" else r"(hello\.cpp|km_io\.h)"
    c.expect("run", r"Breakpoint 1, HelloCreateClose \(DeviceObject=\S*0x[0-9a-f]+, Irp=\S*0x[0-9a-f]+\) at \S*%s:\d+"
             % where, "the breakpoint hit in hello.cpp")
    # The backtrace, from the dispatch routine (frame 0) back to the app's wmain.
    bt = c.section("bt")
    order = [r"#0 +HelloCreateClose \(", r"iosim::io::call_driver \(", r"iosim::io::send_request \(",
             r"iosim::io::create_file \(", r"CreateFileW \(", r"wmain \(.*hello_open\.cpp:\d+"]
    position = 0
    for pattern in order:
        match = re.compile(pattern).search(bt, position)
        if match is None:
            c.failures.append("bt: expected %r below the frames before it\n" % pattern)
            break
        position = match.end()

    irp = c.expect("p *Irp", r"\$\d+ = IRP#(\d+) at 0x[0-9a-f]+: IRP_MJ_CREATE -> \\Device\\IosimHello, "
                             r"stack location 1 of 1", "the IRP's number, major function and device")
    c.expect("p *Irp", r"Type = IO_TYPE_IRP \(6\)", "the IRP's type by name")
    c.expect("p *Irp", r"IoStatus = \{Status = STATUS_SUCCESS \(0x00000000\), Information = 0\}",
             "the IRP's status by name")
    c.expect("p *Irp", r"RequestorMode = UserMode", "the requestor mode")
    c.expect("p *Irp", r"Flags = 0x00000084 \(IRP_SYNCHRONOUS_API \| IRP_CREATE_OPERATION\)", "decoded IRP flags")
    if irp:
        # The number gdb reads from IrpPrivate is the number iosim's trace uses.
        c.expect(None, r"IRP#%s IRP_MJ_CREATE -> \\Device\\IosimHello" % irp.group(1),
                 "the trace naming the same IRP#%s" % irp.group(1))
    sl = "p *Irp->Tail.Overlay.CurrentStackLocation"
    c.expect(sl, r"\$\d+ = IRP_MJ_CREATE -> \\Device\\IosimHello \{MajorFunction = IRP_MJ_CREATE \(0x00\)",
             "the stack location's major function")
    c.expect(sl, r"Parameters\.Create = \{SecurityContext = 0x[0-9a-f]+ \(DesiredAccess 0x[0-9a-f]{8}\), "
                 r"Options = 0x01[0-9a-f]{6} \(FILE_OPEN", "the Create parameters")
    c.expect("p DeviceObject->DriverObject->DriverName",
             r'\$\d+ = u"\\\\Driver\\\\hello" \[Length 26, MaximumLength 26\]', "DriverName as a UTF-16 string")
    c.expect("p Irp->IoStatus.Status", r"\$\d+ = STATUS_SUCCESS \(0x00000000\)", "NTSTATUS by name")
    c.expect("p (NTSTATUS)0xC0000010", r"\$\d+ = STATUS_INVALID_DEVICE_REQUEST \(0xC0000010\)",
             "a cast to NTSTATUS named")
    c.expect("ntstatus 0xC0000022", r"STATUS_ACCESS_DENIED \(0xC0000022\), error", "the ntstatus command")
    # The inspection commands print iosim_inspect's text.
    c.expect("irp", r"IRP_MJ_CREATE", "the !irp text")
    c.expect("irp", r"\\Device\\IosimHello", "the !irp text naming the device")
    c.expect("devstack", r"\\Device\\IosimHello", "the !devstack text")
    c.expect("drvobj hello 2", r"\[00\] IRP_MJ_CREATE", "the !drvobj dispatch table")
    c.expect("drvobj hello 2", r"HelloCreateClose", "the !drvobj dispatch routine")
    c.expect("object \\Device", r"IosimHello", "the \\Device directory listing")
    for label in ("irp", "devstack", "drvobj hello 2", "object \\Device"):
        c.expect(label, r"\A(?![\s\S]*(calling iosim_inspect|is not in this process|is not running))",
                 "no error calling iosim_inspect")
    dev = "p *DeviceObject"
    c.expect(dev, r"DEVICE_OBJECT \\Device\\IosimHello of \\Driver\\hello", "the device's name and driver")
    c.expect(dev, r"Flags = 0x[0-9a-f]+ \(DO_BUFFERED_IO \| DO_DEVICE_HAS_NAME\)", "decoded device flags")
    c.expect(dev, r"DeviceType = FILE_DEVICE_UNKNOWN \(0x22\)", "the device type by name")
    drv = "p *DeviceObject->DriverObject"
    c.expect(drv, r"\[00\] IRP_MJ_CREATE = 0x[0-9a-f]+ <hello!HelloCreateClose>", "dispatch routines by symbol")
    c.expect(drv, r"\[12\] IRP_MJ_CLEANUP = 0x[0-9a-f]+ <hello!HelloCleanup>", "IRP_MJ_CLEANUP's routine")
    c.expect(drv, r"the other 25: IopInvalidDeviceRequest", "the default routine summarised")
    c.expect(drv, r"DriverUnload = 0x[0-9a-f]+ <hello!HelloUnload>", "DriverUnload by symbol")
    # finish strips the return type's typedefs (NTSTATUS becomes int): 'ntstatus $' names it.
    c.expect("finish", r"in iosim::io::call_driver \(", "finish returning into call_driver")
    c.expect("finish", r"Value returned is \$\d+ = 0\b", "the value HelloCreateClose returned")
    c.expect("ntstatus $", r"STATUS_SUCCESS \(0x00000000\), success", "the returned value named")
    c.expect("continue", r"exited normally", "iosim exiting normally")
    if code != 0:
        c.failures.append("gdb exited with %d" % code)
    return c.report()


def auto_load(args):
    bin_dir = os.path.dirname(os.path.abspath(args.iosim))
    expected = os.path.join(bin_dir, "iosim-gdb.py")
    if not os.path.exists(expected):
        print("FAILED: %s does not exist (tests/gdb/CMakeLists.txt copies it at configure time)" % expected)
        return 1
    commands = ["info auto-load python-scripts", "help irp", "info pretty-printer global iosim",
                "p (NTSTATUS)0x103"]
    gdb_args = common_options() + ["-iex", "add-auto-load-safe-path " + bin_dir] + fenced(commands) + [args.iosim]
    code, text = run_gdb(args.gdb, gdb_args, args.timeout)
    check_environment(text)
    c = Checker(text)
    c.expect("info auto-load python-scripts", r"Yes\s+\S*iosim-gdb\.py", "iosim-gdb.py auto-loaded")
    c.expect("help irp", r"Show an IRP as iosim sees it", "the irp command's help")
    c.expect("info pretty-printer global iosim", r"IO_STACK_LOCATION", "the iosim printers registered")
    c.expect("p (NTSTATUS)0x103", r"STATUS_PENDING \(0x00000103\)", "status names without a running process")
    if code != 0:
        c.failures.append("gdb exited with %d" % code)
    return c.report()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", required=True, choices=["step_into_dispatch", "auto_load"])
    parser.add_argument("--gdb", default="gdb")
    parser.add_argument("--iosim", required=True)
    parser.add_argument("--extension", required=True)
    parser.add_argument("--timeout", type=int, default=150)
    parser.add_argument("--build-type", default="Debug", help="CMAKE_BUILD_TYPE of the build under test")
    args = parser.parse_args()
    found = shutil.which(args.gdb)
    if found is None:
        skip("gdb is not installed (apt-get install gdb, or tools/setup.sh)")
    args.gdb = found
    return {"step_into_dispatch": step_into_dispatch, "auto_load": auto_load}[args.scenario](args)


if __name__ == "__main__":
    sys.exit(main())
