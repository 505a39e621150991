"""Calling iosim_inspect() in the stopped iosim process (libiosim_io) and returning its
text, with the settings and the selected frame put back afterwards."""

import gdb

from .values import as_address


def _c_literal(text):
    out = ['"']
    for b in text.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\%03o" % b)  # octal: never swallows the next character
    out.append('"')
    return "".join(out)


class _TemporarySetting:
    def __init__(self, name, value):
        self.name, self.value, self.old = name, value, None

    def __enter__(self):
        try:
            self.old = gdb.parameter(self.name)
        except (gdb.error, RuntimeError):
            self.old = None
        try:
            gdb.execute("set %s %s" % (self.name, self.value), to_string=True)
        except gdb.error:
            self.old = None
        return self

    def __exit__(self, *exc):
        if self.old is None:
            return False
        old = self.old
        if isinstance(old, bool):
            old = "on" if old else "off"
        try:
            gdb.execute("set %s %s" % (self.name, old), to_string=True)
        except gdb.error:
            pass
        return False


def require_process():
    inferior = gdb.selected_inferior()
    if inferior is None or inferior.pid == 0:
        raise gdb.GdbError("iosim is not running: 'run' it and stop somewhere (a breakpoint) first.")


def inspect(command_line):
    """Runs iosim_inspect(command_line) in the stopped iosim process; returns its text."""
    require_process()
    try:
        gdb.parse_and_eval("iosim_inspect")
    except gdb.error:
        raise gdb.GdbError("iosim_inspect() is not in this process (libiosim_io is not loaded yet, or this build "
                           "predates it). 'p *Irp' and the other pretty-printers work without it.")
    call = "((const char *(*)(const char *))iosim_inspect)(%s)" % _c_literal(command_line)
    language = "c" if _frame_language() not in ("c", "c++") else None
    saved = _selected_frame()
    try:
        # If iosim_inspect itself faults, come back to where we were instead of stopping in it.
        with _TemporarySetting("unwindonsignal", "on"):
            if language:
                with _TemporarySetting("language", language):
                    result = gdb.parse_and_eval(call)
            else:
                result = gdb.parse_and_eval(call)
        if as_address(result) == 0:
            return "(iosim_inspect returned NULL)\n"
        return result.string("utf-8", "replace")
    except gdb.error as e:
        raise gdb.GdbError("calling iosim_inspect(%s) failed: %s" % (_c_literal(command_line), e))
    finally:
        _reselect(saved)


def _selected_frame():
    try:
        return gdb.selected_frame()
    except gdb.error:
        return None


def _reselect(frame):
    """Selects `frame` again after a call into the inferior. gdb forgets, across an inferior
    call, that it had hidden an inlined function starting at the stop address (a breakpoint on
    a dispatch routine whose first line is IoGetCurrentIrpStackLocation): the inlined frame
    then shows up as #0 and becomes the selected frame, so 'p DeviceObject' or 'finish' would
    no longer mean the dispatch routine. Selecting the frame the user had keeps them right."""
    if frame is None:
        return
    try:
        if frame.is_valid() and frame != gdb.selected_frame():
            frame.select()
    except (gdb.error, RuntimeError):
        pass


def _frame_language():
    try:
        frame = gdb.selected_frame()
        lang = frame.language() if hasattr(frame, "language") else None
        if lang is None:
            sal = frame.find_sal()
            name = sal.symtab.filename if sal and sal.symtab else ""
            return "c++" if name.endswith((".cpp", ".cc", ".cxx")) else ("c" if name.endswith(".c") else None)
        return lang
    except (gdb.error, RuntimeError):
        return None
