"""Pretty-printers for IRP and IO_STACK_LOCATION: the IRP's number, current major function
and device, its fields decoded; a stack location's Parameters member chosen by its major
function."""

import gdb

from .names import code_text, device_name, device_text, irp_private
from .ntdefs import (CREATE_DISPOSITIONS, CREATE_OPTIONS, IO_TYPES, IRP_FLAGS, IRP_MJ, MODE_NAMES, SHARE_ACCESS,
                     SL_CONTROL, SL_CREATE_FLAGS, SL_RW_FLAGS, ioctl_text, major_name, minor_name)
from .status import status_text
from .values import (Fields, as_address, bool_text, enum_text, flag_names, guard, hex_flags, hexaddr,
                     large_integer_text)


def _stack_location_summary(sp_ptr):
    """'IRP_MJ_CREATE -> \\Device\\IosimHello' for an IO_STACK_LOCATION*."""
    sp = sp_ptr.dereference()
    major = int(sp["MajorFunction"])
    text = major_name(major)
    if major in (IRP_MJ["IRP_MJ_PNP"], IRP_MJ["IRP_MJ_POWER"]):
        mn = minor_name(major, sp["MinorFunction"])
        text += "/" + mn.split(" ")[0]
    dev = sp["DeviceObject"]
    if as_address(dev):
        name = device_name(dev)
        text += " -> " + (name if name else device_text(dev))
    return text


class IrpPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return guard("IRP", self.val, self._render)

    def _render(self):
        irp = self.val
        addr = as_address(irp.address) if irp.address is not None else 0
        priv = irp_private(addr)
        header = "IRP#%d" % priv["id"] if priv else "IRP"
        if priv and not priv["live"]:
            header += " (FREED: iosim has released this IRP)"
        if addr:
            header += " at 0x%x" % addr
        count, current = int(irp["StackCount"]), int(irp["CurrentLocation"])
        sp_ptr = irp["Tail"]["Overlay"]["CurrentStackLocation"]
        if 1 <= current <= count and as_address(sp_ptr):
            header += ": %s, stack location %d of %d" % (_stack_location_summary(sp_ptr), current, count)
        elif current == count + 1 and count > 0 and as_address(sp_ptr):
            first = major_name((sp_ptr - 1).dereference()["MajorFunction"])
            if priv and priv["completed"]:
                header += ": %s, completed (IoCompleteRequest has run)" % first
            elif priv:
                header += ": %s, not sent down yet" % first
            else:
                header += ": %s, no current stack location (not sent yet, or completed)" % first
        else:
            header += ": CurrentLocation %d of %d (no current stack location)" % (current, count)
        if priv and priv["completed"] and 1 <= current <= count:
            header += ", completed (IoCompleteRequest has run)"

        f = Fields(header)
        t = int(irp["Type"])
        f.add("Type", "%s (%d)" % (IO_TYPES[t], t) if t == 6 else "%d (not IO_TYPE_IRP!)" % t)
        f.add("Size", str(int(irp["Size"])))
        f.add("StackCount", str(count))
        f.add("CurrentLocation", str(current))
        f.add("Flags", hex_flags(irp["Flags"], IRP_FLAGS, 8))
        f.add("IoStatus", "{Status = %s, Information = %d}" % (
            status_text(irp["IoStatus"]["Status"]), int(irp["IoStatus"]["Information"])))
        f.add("AssociatedIrp.SystemBuffer", hexaddr(as_address(irp["AssociatedIrp"]["SystemBuffer"])))
        f.add("MdlAddress", hexaddr(as_address(irp["MdlAddress"])))
        f.add("UserBuffer", hexaddr(as_address(irp["UserBuffer"])))
        f.add("RequestorMode", MODE_NAMES.get(int(irp["RequestorMode"]), str(int(irp["RequestorMode"]))))
        f.add("PendingReturned", bool_text(irp["PendingReturned"]))
        f.add("Cancel", bool_text(irp["Cancel"]))
        f.add("CancelRoutine", code_text(irp["CancelRoutine"]))
        f.add("UserIosb", hexaddr(as_address(irp["UserIosb"])))
        f.add("UserEvent", hexaddr(as_address(irp["UserEvent"])))
        f.add("Tail.Overlay.Thread", hexaddr(as_address(irp["Tail"]["Overlay"]["Thread"])))
        f.add("Tail.Overlay.CurrentStackLocation", hexaddr(as_address(sp_ptr)))
        f.add("Tail.Overlay.OriginalFileObject", hexaddr(as_address(irp["Tail"]["Overlay"]["OriginalFileObject"])))
        return f.render()


class StackLocationPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return guard("IO_STACK_LOCATION", self.val, self._render)

    def _render(self):
        sp = self.val
        major = int(sp["MajorFunction"])
        minor = int(sp["MinorFunction"])
        header = major_name(major)
        if major in (IRP_MJ["IRP_MJ_PNP"], IRP_MJ["IRP_MJ_POWER"]):
            header += "/" + minor_name(major, minor).split(" ")[0]
        dev = sp["DeviceObject"]
        if as_address(dev):
            name = device_name(dev)
            header += " -> " + (name if name else device_text(dev))
        f = Fields(header)
        f.add("MajorFunction", "%s (0x%02x)" % (major_name(major), major))
        f.add("MinorFunction", minor_name(major, minor))
        flags_table = SL_CREATE_FLAGS if major == IRP_MJ["IRP_MJ_CREATE"] else (
            SL_RW_FLAGS if major in (IRP_MJ["IRP_MJ_READ"], IRP_MJ["IRP_MJ_WRITE"]) else [])
        f.add("Flags", hex_flags(sp["Flags"], flags_table, 2))
        f.add("Control", hex_flags(sp["Control"], SL_CONTROL, 2))
        name, text = self._parameters(major, minor, sp["Parameters"])
        f.add(name, text)
        f.add("DeviceObject", device_text(dev))
        f.add("FileObject", hexaddr(as_address(sp["FileObject"])))
        f.add("CompletionRoutine", code_text(sp["CompletionRoutine"]))
        f.add("Context", hexaddr(as_address(sp["Context"])))
        return f.render()

    @staticmethod
    def _parameters(major, minor, p):
        def block(items):
            return "{%s}" % ", ".join("%s = %s" % item for item in items)

        if major == IRP_MJ["IRP_MJ_CREATE"]:
            c = p["Create"]
            sc = c["SecurityContext"]
            sc_text = hexaddr(as_address(sc))
            if as_address(sc):
                try:
                    sc_text += " (DesiredAccess 0x%08x)" % (int(sc.dereference()["DesiredAccess"]) & 0xFFFFFFFF)
                except (gdb.error, gdb.MemoryError):
                    pass
            options = int(c["Options"]) & 0xFFFFFFFF
            disposition = options >> 24
            disp = CREATE_DISPOSITIONS[disposition] if disposition < len(CREATE_DISPOSITIONS) else str(disposition)
            opts = options & 0xFFFFFF
            options_text = "0x%08x (%s%s)" % (options, disp, "; " + flag_names(opts, CREATE_OPTIONS) if opts else "")
            return "Parameters.Create", block([
                ("SecurityContext", sc_text), ("Options", options_text),
                ("FileAttributes", "0x%04x" % (int(c["FileAttributes"]) & 0xFFFF)),
                ("ShareAccess", hex_flags(c["ShareAccess"], SHARE_ACCESS, 4)),
                ("EaLength", str(int(c["EaLength"])))])
        if major in (IRP_MJ["IRP_MJ_READ"], IRP_MJ["IRP_MJ_WRITE"]):
            member = "Read" if major == IRP_MJ["IRP_MJ_READ"] else "Write"
            rw = p[member]
            return "Parameters." + member, block([
                ("Length", str(int(rw["Length"]) & 0xFFFFFFFF)), ("Key", str(int(rw["Key"]) & 0xFFFFFFFF)),
                ("ByteOffset", large_integer_text(rw["ByteOffset"]))])
        if major in (IRP_MJ["IRP_MJ_DEVICE_CONTROL"], IRP_MJ["IRP_MJ_INTERNAL_DEVICE_CONTROL"]):
            d = p["DeviceIoControl"]
            return "Parameters.DeviceIoControl", block([
                ("OutputBufferLength", str(int(d["OutputBufferLength"]) & 0xFFFFFFFF)),
                ("InputBufferLength", str(int(d["InputBufferLength"]) & 0xFFFFFFFF)),
                ("IoControlCode", ioctl_text(d["IoControlCode"])),
                ("Type3InputBuffer", hexaddr(as_address(d["Type3InputBuffer"])))])
        if major == IRP_MJ["IRP_MJ_QUERY_INFORMATION"]:
            q = p["QueryFile"]
            return "Parameters.QueryFile", block([
                ("Length", str(int(q["Length"]) & 0xFFFFFFFF)),
                ("FileInformationClass", enum_text(q["FileInformationClass"]))])
        if major == IRP_MJ["IRP_MJ_SET_INFORMATION"]:
            s = p["SetFile"]
            return "Parameters.SetFile", block([
                ("Length", str(int(s["Length"]) & 0xFFFFFFFF)),
                ("FileInformationClass", enum_text(s["FileInformationClass"])),
                ("FileObject", hexaddr(as_address(s["FileObject"])))])
        if major == IRP_MJ["IRP_MJ_QUERY_VOLUME_INFORMATION"]:
            q = p["QueryVolume"]
            return "Parameters.QueryVolume", block([
                ("Length", str(int(q["Length"]) & 0xFFFFFFFF)),
                ("FsInformationClass", enum_text(q["FsInformationClass"]))])
        if major in (IRP_MJ["IRP_MJ_CLOSE"], IRP_MJ["IRP_MJ_CLEANUP"], IRP_MJ["IRP_MJ_FLUSH_BUFFERS"],
                     IRP_MJ["IRP_MJ_SHUTDOWN"]):
            return "Parameters", "(none for %s)" % major_name(major)
        if major == IRP_MJ["IRP_MJ_PNP"]:
            if minor == 0x07:
                return "Parameters.QueryDeviceRelations", block([
                    ("Type", enum_text(p["QueryDeviceRelations"]["Type"]))])
            if minor == 0x13:
                return "Parameters.QueryId", block([("IdType", enum_text(p["QueryId"]["IdType"]))])
        if major == IRP_MJ["IRP_MJ_POWER"] and minor in (0x02, 0x03):
            pw = p["Power"]
            state_type = enum_text(pw["Type"])
            state = pw["State"]["DeviceState" if state_type == "DevicePowerState" else "SystemState"]
            return "Parameters.Power", block([
                ("SystemContext", "0x%x" % (int(pw["SystemContext"]) & 0xFFFFFFFF)), ("Type", state_type),
                ("State", enum_text(state)), ("ShutdownType", enum_text(pw["ShutdownType"]))])
        o = p["Others"]
        return "Parameters.Others", block([("Argument%d" % i, hexaddr(as_address(o["Argument%d" % i])))
                                           for i in range(1, 5)])
