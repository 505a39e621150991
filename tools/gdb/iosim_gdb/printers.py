"""The iosim pretty-printer collection: the printers for strings and scalar typedefs
(UNICODE_STRING, ANSI_STRING, NTSTATUS, BOOLEAN, KPROCESSOR_MODE, KIRQL), and
IosimPrettyPrinter, which picks a printer by type name at every level of a typedef chain
(the structure printers are in irp_printers.py and object_printers.py)."""

import gdb
import gdb.printing

from .irp_printers import IrpPrinter, StackLocationPrinter
from .ntdefs import KIRQL_NAMES, MODE_NAMES
from .object_printers import DeviceObjectPrinter, DriverObjectPrinter, MdlPrinter
from .status import status_text
from .strings import ansi_string_text, unicode_string_text
from .values import bool_text, guard


class UnicodeStringPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return guard("UNICODE_STRING", self.val, lambda: unicode_string_text(self.val))


class AnsiStringPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return guard("STRING", self.val, lambda: ansi_string_text(self.val))


class NtStatusPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return status_text(int(self.val))


class BooleanPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return bool_text(self.val)


class ModePrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        v = int(self.val)
        return MODE_NAMES.get(v, str(v))


class KirqlPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        v = int(self.val) & 0xFF
        return KIRQL_NAMES.get(v, str(v))


class _Subprinter(gdb.printing.SubPrettyPrinter):
    def __init__(self, name, type_names, factory):
        super().__init__(name)
        self.type_names = frozenset(type_names)
        self.factory = factory


class IosimPrettyPrinter(gdb.printing.PrettyPrinter):
    """Looks a value's type up by name at every level of its typedef chain, so NTSTATUS
    (a typedef of LONG) is found as well as IRP (a typedef of struct _IRP)."""

    def __init__(self):
        super().__init__("iosim", [])
        self.subprinters = [
            _Subprinter("UNICODE_STRING", ["UNICODE_STRING", "_UNICODE_STRING"], UnicodeStringPrinter),
            _Subprinter("ANSI_STRING", ["ANSI_STRING", "STRING", "_STRING", "OEM_STRING"], AnsiStringPrinter),
            _Subprinter("NTSTATUS", ["NTSTATUS"], NtStatusPrinter),
            _Subprinter("BOOLEAN", ["BOOLEAN"], BooleanPrinter),
            _Subprinter("KPROCESSOR_MODE", ["KPROCESSOR_MODE"], ModePrinter),
            _Subprinter("KIRQL", ["KIRQL"], KirqlPrinter),
            _Subprinter("IRP", ["IRP", "_IRP"], IrpPrinter),
            _Subprinter("IO_STACK_LOCATION", ["IO_STACK_LOCATION", "_IO_STACK_LOCATION"], StackLocationPrinter),
            _Subprinter("DEVICE_OBJECT", ["DEVICE_OBJECT", "_DEVICE_OBJECT"], DeviceObjectPrinter),
            _Subprinter("DRIVER_OBJECT", ["DRIVER_OBJECT", "_DRIVER_OBJECT"], DriverObjectPrinter),
            _Subprinter("MDL", ["MDL", "_MDL"], MdlPrinter),
        ]

    def __call__(self, val):
        t = val.type
        for _ in range(16):  # typedef chains are short; the bound guards against cycles
            t = t.unqualified()
            names = {t.name, t.tag} - {None}
            for sp in self.subprinters:
                if sp.enabled and names & sp.type_names:
                    # A typedef name alone (NTSTATUS, BOOLEAN) must stay an integer underneath,
                    # a struct name must be a struct: guards against unrelated same-named types.
                    target = t.strip_typedefs()
                    if sp.factory in (NtStatusPrinter, BooleanPrinter, ModePrinter, KirqlPrinter):
                        if target.code not in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_BOOL):
                            continue
                    elif target.code != gdb.TYPE_CODE_STRUCT:
                        continue
                    return sp.factory(val)
            if t.code != gdb.TYPE_CODE_TYPEDEF:
                return None
            t = t.target()
        return None
