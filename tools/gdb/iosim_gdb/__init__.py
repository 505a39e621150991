"""iosim's gdb extension: pretty-printers for the NT I/O structures and WinDbg-style
inspection commands. register() installs everything; tools/gdb/iosim_gdb.py, the file gdb
sources (as build/<preset>/bin/iosim-gdb.py), imports this package and calls it.

Modules: ntdefs (fixed Windows values), status (NTSTATUS names), values (value helpers),
strings (UNICODE_STRING/ANSI_STRING), names (symbols, device and driver names, IRP
numbers), printers, irp_printers and object_printers (the pretty-printers), inferior
(calling iosim_inspect), commands (irp, devstack, drvobj, object, iosim-inspect, ntstatus)."""

import gdb
import gdb.printing

from .commands import (DevstackCommand, DrvobjCommand, InspectCommand, IrpCommand, NtstatusCommand,
                       NtstatusFunction, ObjectCommand)
from .inferior import inspect
from .names import code_text, device_name, device_text, driver_name, driver_text, irp_private, symbol_name
from .ntdefs import ioctl_text, major_name, minor_name
from .printers import IosimPrettyPrinter
from .status import STATUS, status_text
from .strings import ansi_string_text, unicode_string_text

# What the loader puts in gdb's Python namespace, so 'python print(status_text(0x103))' works.
__all__ = ["STATUS", "ansi_string_text", "code_text", "device_name", "device_text", "driver_name", "driver_text",
           "inspect", "ioctl_text", "irp_private", "major_name", "minor_name", "register", "status_text",
           "symbol_name", "unicode_string_text"]


def register(ntstatus_h=None):
    """Installs the printers, commands and $ntstatus(). Idempotent: loading the extension
    twice, by -x and by auto-load, is harmless. ntstatus_h: the path of
    shim/common/ntstatus.h CMake wrote into the build's copy of the loader, if any."""
    STATUS.configure(ntstatus_h)
    gdb.printing.register_pretty_printer(None, IosimPrettyPrinter(), replace=True)
    IrpCommand()
    DevstackCommand()
    DrvobjCommand()
    ObjectCommand()
    InspectCommand()
    NtstatusCommand()
    NtstatusFunction()
    # Driver and app modules are built with -fshort-wchar: their wchar_t (WCHAR, L"...")
    # is UTF-16, which gdb would otherwise read as UTF-32.
    try:
        gdb.execute("set target-wide-charset UTF-16", to_string=True)
    except gdb.error:
        pass
