"""Small helpers for reading and formatting gdb values: addresses, flag sets, BOOLEANs,
enums, memory reads, complete types behind opaque pointers, and Fields, which renders a
structure as 'Header {a = 1, b = 2}' (one field per line under 'set print pretty on')."""

import gdb


def _pretty():
    try:
        return bool(gdb.parameter("print pretty"))
    except (gdb.error, RuntimeError):
        return False


def flag_names(value, table):
    value = int(value)
    names, rest = [], value
    for bit, name in table:
        if value & bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append("0x%x" % rest)
    return " | ".join(names) if names else "0"


def hex_flags(value, table, width=0):
    value = int(value)
    text = "0x%0*x" % (width, value)
    return "%s (%s)" % (text, flag_names(value, table)) if value else text


def as_address(value):
    return int(value) & 0xFFFFFFFFFFFFFFFF


def hexaddr(addr):
    return "0x%x" % addr


def bool_text(value):
    v = int(value)
    return "FALSE" if v == 0 else ("TRUE" if v == 1 else "TRUE (0x%02x)" % (v & 0xFF))


def read_memory(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def lookup_type(name):
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        return None


def deref(ptr_value, type_names):
    """Dereferences a pointer; if the target is opaque here, uses the complete type."""
    target = ptr_value.dereference()
    try:
        if target.type.strip_typedefs().fields():
            return target
    except TypeError:
        pass
    for name in type_names:
        t = lookup_type(name)
        if t is not None:
            return ptr_value.cast(t.pointer()).dereference()
    return target


def large_integer_text(val):
    try:
        return str(int(val["QuadPart"]))
    except gdb.error:
        return str(val)


def enum_text(val):
    try:
        return str(val)
    except gdb.error:
        return str(int(val))


class Fields:
    """Renders 'Header {a = 1, b = 2}', or one field per line under 'set print pretty on'."""

    def __init__(self, header):
        self.header = header
        self.items = []

    def add(self, name, text):
        self.items.append((name, text))

    def render(self):
        if not self.items:
            return self.header
        if _pretty():
            body = ",\n".join("  %s = %s" % item for item in self.items)
            return "%s {\n%s\n}" % (self.header, body)
        return "%s {%s}" % (self.header, ", ".join("%s = %s" % item for item in self.items))


def guard(kind, val, render):
    try:
        return render()
    except gdb.MemoryError as e:
        addr = val.address
        where = " at 0x%x" % as_address(addr) if addr is not None else ""
        return "<%s%s: cannot read memory (%s)>" % (kind, where, e)
