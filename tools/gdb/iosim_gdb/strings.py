"""Reading strings out of the iosim process: UNICODE_STRING (UTF-16, lengths in bytes),
ANSI_STRING/STRING/OEM_STRING, and NUL-terminated UTF-16, escaped as gdb escapes strings
and cut at 'set print elements'."""

import gdb

from .values import as_address, read_memory


def _print_elements():
    try:
        limit = gdb.parameter("print elements")
    except (gdb.error, RuntimeError):
        limit = 200
    return limit if limit else None  # None or 0: unlimited


def _host_is_utf8():
    try:
        charset = gdb.host_charset()
    except AttributeError:
        charset = gdb.parameter("host-charset") or ""
    return "UTF-8" in str(charset).upper().replace("_", "-") or "UTF8" in str(charset).upper()


def _escape(text, quote='"'):
    utf8 = _host_is_utf8()
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append("\\%03o" % o)
        elif o > 0x7E and (not utf8 or o <= 0x9F or 0xD800 <= o <= 0xDFFF):
            out.append("\\u%04x" % o if o <= 0xFFFF else "\\U%08x" % o)
        else:
            out.append(ch)
    return "".join(out)


def _utf16(addr, units):
    """Reads `units` UTF-16 code units at addr; returns (text, truncated)."""
    limit = _print_elements()
    truncated = limit is not None and units > limit
    if truncated:
        units = limit
    raw = read_memory(addr, units * 2)
    return raw.decode("utf-16-le", errors="replace"), truncated


def utf16z(addr, max_units):
    """A NUL-terminated UTF-16 string of at most max_units units."""
    raw = read_memory(addr, max_units * 2)
    units = [raw[i:i + 2] for i in range(0, len(raw), 2)]
    end = next((i for i, u in enumerate(units) if u == b"\0\0"), len(units))
    return b"".join(units[:end]).decode("utf-16-le", errors="replace")


def unicode_string_text(val, lengths=True):
    """u"\\Device\\X" for a UNICODE_STRING value (Length counts bytes)."""
    length, maximum, buf = int(val["Length"]), int(val["MaximumLength"]), as_address(val["Buffer"])
    notes = []
    if length % 2:
        notes.append("odd Length: UNICODE_STRING lengths count bytes")
    if length > maximum:
        notes.append("Length > MaximumLength")
    if buf == 0:
        text = "(null)"
    else:
        try:
            s, truncated = _utf16(buf, length // 2)
            text = 'u"%s"%s' % (_escape(s), "..." if truncated else "")
        except gdb.MemoryError:
            text = "<Buffer 0x%x not readable>" % buf
    if lengths:
        text += " [Length %d, MaximumLength %d%s]" % (length, maximum, "".join("; " + n for n in notes))
    elif notes:
        text += " [Length %d: %s]" % (length, "; ".join(notes))
    return text


def ansi_string_text(val, lengths=True):
    length, maximum, buf = int(val["Length"]), int(val["MaximumLength"]), as_address(val["Buffer"])
    if buf == 0:
        text = "(null)"
    else:
        limit = _print_elements()
        n = min(length, limit) if limit is not None else length
        try:
            s = read_memory(buf, n).decode("latin-1")
            text = '"%s"%s' % (_escape(s), "..." if n < length else "")
        except gdb.MemoryError:
            text = "<Buffer 0x%x not readable>" % buf
    if lengths:
        text += " [Length %d, MaximumLength %d%s]" % (length, maximum,
                                                       "; Length > MaximumLength" if length > maximum else "")
    return text
