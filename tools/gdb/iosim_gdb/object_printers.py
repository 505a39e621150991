"""Pretty-printers for DEVICE_OBJECT (name, driver, attached devices, flags, type),
DRIVER_OBJECT (name, devices, entry points, the non-default dispatch routines by symbol)
and MDL (address, byte count, flags)."""

import gdb

from .names import (code_text, device_name, device_text, driver_name, driver_text, module_stem, plain_name,
                    routine_name, symbol_name)
from .ntdefs import (DEFAULT_DISPATCH, DEVICE_CHARACTERISTICS, DO_FLAGS, DOE_FLAGS, DRVO_FLAGS, FILE_DEVICE_NAMES,
                     IO_TYPES, MDL_FLAGS, major_name)
from .strings import unicode_string_text
from .values import Fields, as_address, deref, guard, hex_flags, hexaddr


class DeviceObjectPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return guard("DEVICE_OBJECT", self.val, self._render)

    def _render(self):
        d = self.val
        addr = as_address(d.address) if d.address is not None else 0
        name = device_name(d.address) if addr else None
        drv = driver_name(d["DriverObject"])
        header = "DEVICE_OBJECT %s" % (name if name else "(unnamed)")
        if drv:
            header += " of %s" % plain_name(drv)
        f = Fields(header)
        t = int(d["Type"])
        f.add("Type", "%s (%d)" % (IO_TYPES[t], t) if t == 3 else "%d (not IO_TYPE_DEVICE!)" % t)
        f.add("Size", str(int(d["Size"])))
        f.add("ReferenceCount", str(int(d["ReferenceCount"])))
        f.add("DriverObject", driver_text(d["DriverObject"]))
        f.add("NextDevice", device_text(d["NextDevice"]))
        f.add("AttachedDevice", device_text(d["AttachedDevice"]))
        lower, doe_flags = None, None
        ext_ptr = d["DeviceObjectExtension"]
        if as_address(ext_ptr):
            try:
                ext = deref(ext_ptr, ["_DEVOBJ_EXTENSION"])
                lower = device_text(ext["AttachedTo"])
                doe_flags = int(ext["ExtensionFlags"])
            except (gdb.error, gdb.MemoryError):
                pass
        if lower is not None:
            f.add("DeviceObjectExtension->AttachedTo", lower)
        f.add("CurrentIrp", hexaddr(as_address(d["CurrentIrp"])))
        f.add("Flags", hex_flags(d["Flags"], DO_FLAGS, 8))
        f.add("Characteristics", hex_flags(d["Characteristics"], DEVICE_CHARACTERISTICS, 8))
        dt = int(d["DeviceType"]) & 0xFFFFFFFF
        f.add("DeviceType", "%s (0x%x)" % (FILE_DEVICE_NAMES[dt], dt) if dt in FILE_DEVICE_NAMES else "0x%x" % dt)
        f.add("StackSize", str(int(d["StackSize"])))
        f.add("DeviceExtension", hexaddr(as_address(d["DeviceExtension"])))
        f.add("AlignmentRequirement", "0x%x" % int(d["AlignmentRequirement"]))
        if doe_flags:
            f.add("DeviceObjectExtension->ExtensionFlags", hex_flags(doe_flags, DOE_FLAGS, 8))
        return f.render()


class DriverObjectPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return guard("DRIVER_OBJECT", self.val, self._render)

    def _render(self):
        d = self.val
        name = unicode_string_text(d["DriverName"], lengths=False)
        f = Fields("DRIVER_OBJECT %s" % plain_name(name))
        t = int(d["Type"])
        f.add("Type", "%s (%d)" % (IO_TYPES[t], t) if t == 4 else "%d (not IO_TYPE_DRIVER!)" % t)
        f.add("DriverName", name)
        f.add("Flags", hex_flags(d["Flags"], DRVO_FLAGS, 8))
        devices, dev, seen = [], d["DeviceObject"], 0
        while as_address(dev) and seen < 32:
            devices.append(device_text(dev))
            dev = dev.dereference()["NextDevice"]
            seen += 1
        f.add("DeviceObject", "{%s}" % ", ".join(devices) if devices else "0x0 (no devices)")
        start = as_address(d["DriverStart"])
        module = module_stem(start) if start else None
        if module is None and start and as_address(d["DriverInit"]):
            entry = symbol_name(as_address(d["DriverInit"]))
            module = entry[2] if entry else None
        f.add("DriverStart", "%s%s" % (hexaddr(start), " (%s)" % module if module else ""))
        f.add("DriverSize", "0x%x" % (int(d["DriverSize"]) & 0xFFFFFFFF))
        ext = d["DriverExtension"]
        if as_address(ext):
            try:
                f.add("DriverExtension->ServiceKeyName",
                      unicode_string_text(ext.dereference()["ServiceKeyName"], lengths=False))
            except (gdb.error, gdb.MemoryError):
                pass
        f.add("DriverInit", code_text(d["DriverInit"]))
        f.add("DriverStartIo", code_text(d["DriverStartIo"]))
        f.add("DriverUnload", code_text(d["DriverUnload"]))
        majors = d["MajorFunction"]
        count = majors.type.strip_typedefs().range()[1] + 1
        set_, default = [], 0
        for i in range(count):
            routine = majors[i]
            if as_address(routine) and routine_name(routine) == DEFAULT_DISPATCH:
                default += 1
                continue
            set_.append("[%02x] %s = %s" % (i, major_name(i), code_text(routine)))
        text = "{%s}" % ", ".join(set_) if set_ else "{}"
        if default:
            text += " (the other %d: %s)" % (default, DEFAULT_DISPATCH) if set_ else " (all %d: %s)" % (
                default, DEFAULT_DISPATCH)
        f.add("MajorFunction", text)
        return f.render()


class MdlPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return guard("MDL", self.val, self._render)

    def _render(self):
        m = self.val
        start = as_address(m["StartVa"])
        offset, count = int(m["ByteOffset"]) & 0xFFFFFFFF, int(m["ByteCount"]) & 0xFFFFFFFF
        f = Fields("MDL: %d bytes at 0x%x" % (count, start + offset))
        f.add("Next", hexaddr(as_address(m["Next"])))
        f.add("Size", str(int(m["Size"])))
        f.add("MdlFlags", hex_flags(int(m["MdlFlags"]) & 0xFFFF, MDL_FLAGS, 4))
        f.add("Process", hexaddr(as_address(m["Process"])))
        f.add("MappedSystemVa", hexaddr(as_address(m["MappedSystemVa"])))
        f.add("StartVa", hexaddr(start))
        f.add("ByteCount", str(count))
        f.add("ByteOffset", "0x%x" % offset)
        return f.render()
