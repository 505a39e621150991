"""NTSTATUS names, read from shim/common/ntstatus.h (the IOSIM_NTSTATUS_LIST X-macro, the
same list iosim's own status_name() is built from), and status_text(), which formats a
status as iosim does: 'STATUS_SUCCESS (0x00000000)'."""

import os
import re

import gdb

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

_X_ENTRY = re.compile(r"\bX\(\s*(STATUS_\w+)\s*,\s*(0[xX][0-9A-Fa-f]+|\d+)\s*\)")
_DEFINE_ENTRY = re.compile(r"^\s*#\s*define\s+(STATUS_\w+)\s+\(\(NTSTATUS\)\s*(0[xX][0-9A-Fa-f]+|\d+)[Ll]?\)",
                           re.MULTILINE)


class _StatusTable:
    def __init__(self):
        self.configure(None)

    def configure(self, configured_path):
        """configured_path: the header's path as CMake wrote it into the build's copy of the
        loader (None from the source tree's loader). Forgets what was read, as loading the
        extension afresh would."""
        self.configured_path = configured_path
        self.by_value = None  # value -> first-listed name (as iosim's status_name does)
        self.by_name = None
        self.path = None
        self.warned = False

    def _candidates(self):
        env = os.environ.get("IOSIM_NTSTATUS_H")
        if env:
            yield env
        if self.configured_path:
            yield self.configured_path
        # The source tree around this package (tools/gdb/iosim_gdb/).
        yield os.path.join(_PACKAGE_DIR, "..", "..", "..", "shim", "common", "ntstatus.h")
        # The source tree libiosim_kernel was built from, as its debug info records it.
        try:
            sym = gdb.lookup_global_symbol("iosim::status_name")
            if sym is None:
                sym = gdb.lookup_symbol("iosim::status_name")[0]
            if sym is not None and sym.symtab is not None:
                src = sym.symtab.fullname()  # .../sim_kernel/rtl/status_names.cpp
                root = os.path.dirname(os.path.dirname(os.path.dirname(src)))
                yield os.path.join(root, "shim", "common", "ntstatus.h")
        except (gdb.error, RuntimeError):
            pass

    def load(self):
        if self.by_value is not None:
            return True
        for path in self._candidates():
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            entries = [(m.group(1), int(m.group(2), 0)) for m in _X_ENTRY.finditer(text)]
            entries += [(m.group(1), int(m.group(2), 0)) for m in _DEFINE_ENTRY.finditer(text)]
            if not entries:
                continue
            by_value, by_name = {}, {}
            for name, value in entries:
                value &= 0xFFFFFFFF
                by_value.setdefault(value, name)
                by_name.setdefault(name, value)
            self.by_value, self.by_name, self.path = by_value, by_name, os.path.normpath(path)
            return True
        if not self.warned:
            self.warned = True
            gdb.write("iosim: cannot find shim/common/ntstatus.h, so NTSTATUS values are shown as numbers; "
                      "set IOSIM_NTSTATUS_H to its path.\n", gdb.STDERR)
        return False

    def name(self, value):
        if self.load():
            return self.by_value.get(value & 0xFFFFFFFF)
        return None

    def value(self, name):
        if self.load():
            return self.by_name.get(name)
        return None


STATUS = _StatusTable()


def status_text(value):
    """'STATUS_SUCCESS (0x00000000)', or '0xC0001234' without a name (iosim's status_text)."""
    value = int(value) & 0xFFFFFFFF
    name = STATUS.name(value)
    return "%s (0x%08X)" % (name, value) if name else "0x%08X" % value
