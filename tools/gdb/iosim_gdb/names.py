"""Naming what an address points at: code as module!symbol ('hello!HelloCreateClose'),
devices and drivers by their object names, and IRPs by the number iosim gives them (read
from the IrpPrivate iosim keeps in front of each IRP)."""

import os
import re

import gdb

from .ntdefs import IRP_PRIVATE_FREED, IRP_PRIVATE_LIVE, IRP_PRIVATE_TYPE
from .strings import unicode_string_text, utf16z
from .values import as_address, deref, hexaddr, lookup_type


def _stem(path):
    if not path:
        return None
    base = os.path.basename(path)
    for ext in (".sys", ".exe", ".so"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            if ext == ".so" and base.startswith("lib"):
                base = base[3:]
            break
    return base


def module_stem(addr):
    """'hello' for an address inside hello.sys (shared objects only), or None."""
    try:
        return _stem(gdb.solib_name(addr))
    except (gdb.error, RuntimeError):
        return None


_INFO_SYMBOL = re.compile(r"^(.*?)(?: \+ (\d+))? in section \S+(?: of (.*))?$")


def symbol_name(addr):
    """(name, offset, module) for a code address ('HelloCreateClose', 0, 'hello'), or None."""
    if addr == 0:
        return None
    try:
        block = gdb.block_for_pc(addr)
        while block is not None and block.function is None:
            block = block.superblock
        if block is not None:
            fn = block.function
            name = fn.print_name
            if not name.startswith("operator"):
                name = name.split("(")[0]
            module = None
            if fn.symtab is not None and fn.symtab.objfile is not None:
                module = _stem(fn.symtab.objfile.filename)
            return name, addr - block.start, module or module_stem(addr)
    except (gdb.error, RuntimeError):
        pass
    try:
        out = gdb.execute("info symbol 0x%x" % addr, to_string=True).strip()
    except gdb.error:
        return None
    m = _INFO_SYMBOL.match(out)
    if not m:
        return None
    module = _stem(m.group(3)) if m.group(3) else _stem(gdb.current_progspace().filename)
    return m.group(1).split("(")[0], int(m.group(2) or 0), module


def code_text(value):
    """'0x7ffff7df031a <hello!HelloCreateClose>' for a function pointer; '0x0' for NULL."""
    addr = as_address(value)
    if addr == 0:
        return "0x0"
    sym = symbol_name(addr)
    if sym is None:
        return hexaddr(addr)
    name, offset, module = sym
    full = "%s!%s" % (module, name) if module else name
    return "%s <%s%s>" % (hexaddr(addr), full, "+%d" % offset if offset else "")


def routine_name(value):
    sym = symbol_name(as_address(value))
    return sym[0] if sym else None


def irp_private(irp_addr):
    """What iosim keeps in the IrpPrivate just before an IRP (sim_io_manager/irp.h):
    {'id': 1, 'live': True, 'completed': False}, or None when that is not readable here."""
    t = lookup_type(IRP_PRIVATE_TYPE)
    if t is None or irp_addr == 0:
        return None
    size = (t.sizeof + 15) & ~15  # kPrivateSize in irp.cpp
    try:
        priv = gdb.Value(irp_addr - size).cast(t.pointer()).dereference()
        magic = int(priv["magic"])
        if magic not in (IRP_PRIVATE_LIVE, IRP_PRIVATE_FREED):
            return None
        return {"id": int(priv["id"]), "live": magic == IRP_PRIVATE_LIVE, "completed": bool(int(priv["completed"]))}
    except (gdb.error, gdb.MemoryError):
        return None


def device_name(dev_ptr):
    """The name of a DEVICE_OBJECT* ('\\Device\\IosimHello'), or None when unnamed/unknown."""
    addr = as_address(dev_ptr)
    if addr == 0:
        return None
    try:
        ext_ptr = dev_ptr.dereference()["DeviceObjectExtension"]
        if as_address(ext_ptr) == 0:
            return None
        ext = deref(ext_ptr, ["_DEVOBJ_EXTENSION", "struct _DEVOBJ_EXTENSION"])
        field = ext["last_name"]
        units = field.type.strip_typedefs().range()[1] + 1
        name = utf16z(as_address(field.address), units)
        return name or None
    except (gdb.error, gdb.MemoryError, RuntimeError):
        return None


def driver_name(drv_ptr):
    addr = as_address(drv_ptr)
    if addr == 0:
        return None
    try:
        return unicode_string_text(drv_ptr.dereference()["DriverName"], lengths=False)
    except (gdb.error, gdb.MemoryError):
        return None


def plain_name(unicode_text):
    """u"\\Driver\\hello" -> \\Driver\\hello, for headers."""
    if unicode_text and unicode_text.startswith('u"') and unicode_text.endswith('"'):
        return unicode_text[2:-1].replace("\\\\", "\\")
    return unicode_text


def device_text(dev_ptr):
    """'0x5555555ffd30 (\\Device\\IosimHello)' for a DEVICE_OBJECT*."""
    addr = as_address(dev_ptr)
    if addr == 0:
        return "0x0"
    name = device_name(dev_ptr)
    if name is None:
        drv = None
        try:
            drv = driver_name(dev_ptr.dereference()["DriverObject"])
        except (gdb.error, gdb.MemoryError):
            pass
        return "%s (unnamed device of %s)" % (hexaddr(addr), plain_name(drv)) if drv else hexaddr(addr)
    return "%s (%s)" % (hexaddr(addr), name)


def driver_text(drv_ptr):
    addr = as_address(drv_ptr)
    if addr == 0:
        return "0x0"
    name = driver_name(drv_ptr)
    return "%s (%s)" % (hexaddr(addr), plain_name(name)) if name else hexaddr(addr)
