# iosim_gdb.py - gdb support for iosim: pretty-printers for the NT I/O structures and
# WinDbg-style inspection commands (irp, devstack, drvobj, object).
#
# Load it with
#     gdb -x build/dev/bin/iosim-gdb.py --args build/dev/bin/iosim exec -d hello.sys hello_open.exe
# or let gdb auto-load build/dev/bin/iosim-gdb.py (it sits next to the iosim program) after
#     add-auto-load-safe-path /path/to/build/dev/bin
# See docs/debugging.md. The build copies this file from tools/gdb/iosim_gdb.py.
#
# Pretty-printers (global, so they apply to every objfile: iosim, libiosim_*, every .sys
# and .exe module; matched by type name, following typedefs; 'p/r' prints the raw struct):
#   UNICODE_STRING, ANSI_STRING/STRING/OEM_STRING, NTSTATUS, BOOLEAN, KPROCESSOR_MODE,
#   KIRQL, IRP, IO_STACK_LOCATION, DEVICE_OBJECT, DRIVER_OBJECT, MDL.
# The structure printers honour 'set print pretty' (one field per line when on).
#
# Commands: irp, devstack, drvobj, object and iosim-inspect call iosim_inspect() in
# the stopped iosim process (libiosim_io), so gdb shows exactly the text the iosim shell
# and scripts show; ntstatus and $ntstatus() name NTSTATUS values.
#
# Status names are read from shim/common/ntstatus.h (the IOSIM_NTSTATUS_LIST X-macro), the
# same list iosim's own status_name() is built from. The header is found through
# $IOSIM_NTSTATUS_H, the path CMake writes into the build's copy of this file, the source
# tree around the package, or the source path recorded in libiosim_kernel's debug info.
#
# This file only loads the code: it is the package iosim_gdb/ next to it in the source tree
# (tools/gdb/iosim_gdb/, one module per concept), found through the path CMake writes into
# the build's copy, or else through this file's own directory. Python writes no bytecode
# cache into the source tree for it. After changing the package, restart gdb.

import os
import sys

# Replaced by CMake (configure_file @ONLY) in build/<preset>/bin/iosim-gdb.py.
_CONFIGURED_GDB_DIR = "@IOSIM_GDB_DIR@"
_CONFIGURED_NTSTATUS_H = "@IOSIM_NTSTATUS_H@"


def _iosim_gdb_configured(value):
    """The value CMake substituted, or None in the source tree's copy (still '@NAME@')."""
    return value if value and not value.startswith(chr(64)) else None


def _iosim_gdb_import():
    here = globals().get("__file__")
    gdb_dir = _iosim_gdb_configured(_CONFIGURED_GDB_DIR) or (os.path.dirname(os.path.abspath(here)) if here else None)
    if gdb_dir is None or not os.path.isfile(os.path.join(gdb_dir, "iosim_gdb", "__init__.py")):
        raise ImportError("iosim: cannot find the iosim_gdb package (tools/gdb/iosim_gdb/ in the source tree), "
                          "looked in %s" % gdb_dir)
    if gdb_dir not in sys.path:
        sys.path.insert(0, gdb_dir)
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    try:
        import iosim_gdb
    finally:
        sys.dont_write_bytecode = saved
    return iosim_gdb


iosim_gdb = _iosim_gdb_import()
from iosim_gdb import *  # noqa: E402,F401,F403 - status_text() and friends, for 'python ...' in gdb
iosim_gdb.register(ntstatus_h=_iosim_gdb_configured(_CONFIGURED_NTSTATUS_H))
