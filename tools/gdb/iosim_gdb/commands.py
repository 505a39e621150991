"""The gdb commands irp, devstack, drvobj, object and iosim-inspect (WinDbg's !irp,
!devstack, !drvobj, !object, answered by iosim_inspect()), ntstatus, and the $ntstatus()
convenience function. Without an argument the object commands use the Irp, DeviceObject or
DriverObject variable of the selected frame or the nearest frame that called it."""

import re

import gdb

from .inferior import inspect, require_process
from .status import STATUS, status_text
from .values import as_address


def _write(text):
    gdb.write(text if text.endswith("\n") else text + "\n")


def _frame_variable(names):
    """(value, name, frame) for the first of `names` visible in the selected frame or, failing
    that, the nearest older frame that has one (say, after a DbgBreakPoint's SIGTRAP)."""
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        return None
    level = 0
    while frame is not None and level < 64:
        try:
            block = frame.block()
        except RuntimeError:
            block = None
        if block is not None:
            for name in names:
                try:
                    value = frame.read_var(name)
                except ValueError:
                    continue
                except gdb.error:
                    continue
                if value.is_optimized_out:
                    continue
                return value, name, frame
        frame = frame.older()
        level += 1
    return None


def _address_of(value):
    """An address from a pointer, an integer, or an object (its address)."""
    t = value.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        if value.address is None:
            raise gdb.GdbError("that object is not in the iosim process's memory")
        return as_address(value.address)
    if t.code == gdb.TYPE_CODE_REF or t.code == gdb.TYPE_CODE_RVALUE_REF:
        return _address_of(value.referenced_value())
    if t.code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM, gdb.TYPE_CODE_CHAR):
        return as_address(value)
    raise gdb.GdbError("expected a pointer or an address, got a value of type %s" % value.type)


def _default_object(names, what):
    found = _frame_variable(names)
    if found is None:
        raise gdb.GdbError("no %s given, and no variable named %s in this frame or the frames that called it."
                           % (what, " or ".join(names)))
    value, name, frame = found
    if frame != gdb.selected_frame():
        fn = frame.name() or "??"
        gdb.write("(using %s from %s)\n" % (name, fn))
    return _address_of(value)


def _split_flags(arg):
    """'DeviceObject->DriverObject 2' -> ('DeviceObject->DriverObject', '2')."""
    parts = arg.rsplit(None, 1)
    if len(parts) == 2 and re.fullmatch(r"(0[xX][0-9A-Fa-f]+|\d+)", parts[1]):
        return parts[0].strip(), parts[1]
    return arg.strip(), None


def _object_argument(arg):
    """A namespace path or a bare name is passed through; anything gdb can evaluate to a
    pointer or an object becomes its address."""
    if arg.startswith("\\") or arg.startswith("/"):
        return arg
    try:
        value = gdb.parse_and_eval(arg)
    except gdb.error:
        return arg  # not an expression here: a name, for iosim_inspect to resolve
    t = value.type.strip_typedefs()
    if t.code in (gdb.TYPE_CODE_FUNC,):
        return arg
    try:
        return "0x%x" % _address_of(value)
    except gdb.GdbError:
        return arg


class IrpCommand(gdb.Command):
    """Show an IRP as iosim sees it (WinDbg's !irp): its number, every stack location and its history.

Usage: irp [EXPRESSION]

EXPRESSION is an IRP pointer or address (Irp, pIrp, 0x5555556052e0, *Irp).
Without one, uses the variable Irp, pIrp or irp of the selected frame (or of the nearest
frame that called it). The text comes from iosim_inspect("!irp <address>") in the iosim
process, the same text the iosim shell prints. For the raw structure: p *Irp, p/r *Irp."""

    def __init__(self):
        super().__init__("irp", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        require_process()
        arg = arg.strip()
        if arg:
            addr = _address_of(gdb.parse_and_eval(arg))
        else:
            addr = _default_object(["Irp", "pIrp", "irp", "PIrp", "pirp"], "IRP")
        _write(inspect("!irp 0x%x" % addr))


class DevstackCommand(gdb.Command):
    """Show the device stack a device belongs to (WinDbg's !devstack), top device first.

Usage: devstack [EXPRESSION | \\Device\\Name]

EXPRESSION is a DEVICE_OBJECT pointer or address; a name starting with a backslash is
looked up in iosim's object namespace. Without an argument, uses the variable
DeviceObject, pDevObj, DevObj, pDeviceObject or device of the selected frame (or of the
nearest frame that called it). The text comes from iosim_inspect("!devstack ...")."""

    def __init__(self):
        super().__init__("devstack", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        require_process()
        arg = arg.strip()
        if arg:
            target = _object_argument(arg)
        else:
            target = "0x%x" % _default_object(
                ["DeviceObject", "pDevObj", "DevObj", "pDeviceObject", "Fdo", "device"], "device")
        _write(inspect("!devstack %s" % target))


class DrvobjCommand(gdb.Command):
    """Show a driver object (WinDbg's !drvobj): its devices and, with flag 2, its dispatch routines.

Usage: drvobj NAME | \\Driver\\Name | EXPRESSION [FLAGS]

NAME is the service name (hello) or the object name (\\Driver\\hello); EXPRESSION a
DRIVER_OBJECT pointer (DriverObject, DeviceObject->DriverObject). FLAGS as in WinDbg:
1 lists the device objects, 2 the dispatch routines (drvobj hello 2).
Without an argument, uses the variable DriverObject of the selected frame.
The text comes from iosim_inspect("!drvobj ...")."""

    def __init__(self):
        super().__init__("drvobj", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        require_process()
        arg = arg.strip()
        target, flags = _split_flags(arg) if arg else ("", None)
        if not target:
            target = "0x%x" % _default_object(["DriverObject", "pDriverObject", "DrvObj", "driver"], "driver")
        else:
            target = _object_argument(target)
        _write(inspect("!drvobj %s%s" % (target, " " + flags if flags else "")))


class ObjectCommand(gdb.Command):
    """Show an object directory or object in iosim's namespace (WinDbg's !object).

Usage: object [PATH | EXPRESSION]

PATH is a namespace path: \\, \\Device, \\Driver, \\GLOBAL??, \\Device\\IosimHello; the
default is the root, \\. EXPRESSION is an object's address (a DEVICE_OBJECT pointer, ...).
The text comes from iosim_inspect("!object ...")."""

    def __init__(self):
        super().__init__("object", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        require_process()
        arg = arg.strip()
        _write(inspect("!object %s" % (_object_argument(arg) if arg else "\\")))


class InspectCommand(gdb.Command):
    """Run any iosim inspection command in the stopped iosim process and print its text.

Usage: iosim-inspect COMMAND-LINE
Example: iosim-inspect !irp 0x5555556052e0
         iosim-inspect !object \\GLOBAL??

The line is passed unchanged to iosim_inspect() in libiosim_io (irp, devstack, drvobj and
object are shortcuts that fill in addresses from gdb expressions)."""

    def __init__(self):
        super().__init__("iosim-inspect", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        require_process()
        if not arg.strip():
            raise gdb.GdbError("usage: iosim-inspect COMMAND-LINE, for example: iosim-inspect !object \\Device")
        _write(inspect(arg.strip()))


def _status_argument(arg):
    arg = arg.strip()
    if re.fullmatch(r"STATUS_\w+", arg):
        value = STATUS.value(arg)
        if value is not None:
            return value, True
    return int(gdb.parse_and_eval(arg)) & 0xFFFFFFFF, False


class NtstatusCommand(gdb.Command):
    """Name an NTSTATUS value, or give the value of a status name.

Usage: ntstatus EXPRESSION | STATUS_NAME
Examples: ntstatus status          -> STATUS_SUCCESS (0x00000000)
          ntstatus 0xC0000010      -> STATUS_INVALID_DEVICE_REQUEST (0xC0000010)
          ntstatus Irp->IoStatus.Status
          ntstatus STATUS_PENDING  -> STATUS_PENDING = 0x00000103

NTSTATUS is a typedef of LONG, so gdb prints a status held in a LONG, an int or a
register as a number; this names it. $ntstatus(EXPRESSION) does the same in expressions
(printf "%s\\n", $ntstatus($rax)). Names come from shim/common/ntstatus.h."""

    def __init__(self):
        super().__init__("ntstatus", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: ntstatus EXPRESSION | STATUS_NAME")
        value, by_name = _status_argument(arg)
        if by_name:
            _write("%s = 0x%08X" % (arg.strip(), value))
            return
        value_name = STATUS.name(value)
        severity = ["success", "informational", "warning", "error"][value >> 30]
        _write("%s, %s%s" % (status_text(value), severity,
                             "" if value_name else " (no name in ntstatus.h)"))


class NtstatusFunction(gdb.Function):
    """$ntstatus(VALUE) - the name of an NTSTATUS value: "STATUS_SUCCESS (0x00000000)"."""

    def __init__(self):
        super().__init__("ntstatus")

    def invoke(self, value):
        return status_text(int(value))
