#!/usr/bin/env python3
"""shell_pty_test.py - drive `iosim shell` through a pseudo-terminal.

Usage: shell_pty_test.py IOSIM HISTORY_FILE
Each step types keys and waits (select with a deadline, never a sleep) until the expected
text appears on the terminal. Checks: the prompt, a command's output, an error for a
mistyped line, tab completion of a command and of an object name, history recall with the
Up arrow, history saved to the file, and a clean exit.
"""
import os
import pty
import re
import select
import subprocess
import sys

TIMEOUT = 20.0


class Terminal:
    def __init__(self, argv):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, pattern, what):
        """Read until `pattern` (a regex) matches text that arrived since the last expect."""
        import time
        deadline = time.monotonic() + TIMEOUT
        buffer = ""
        while True:
            match = re.search(pattern, buffer)
            if match:
                self.seen += buffer
                return buffer
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: waited for {pattern!r}, got:\n{buffer}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096).decode("utf-8", "replace")
                except OSError:
                    chunk = ""
                if not chunk:
                    raise AssertionError(f"{what}: the shell ended early; got:\n{buffer}")
                buffer += chunk

    def type(self, keys):
        os.write(self.master, keys.encode())


def main():
    iosim, history = sys.argv[1], sys.argv[2]
    if os.path.exists(history):
        os.remove(history)
    t = Terminal([iosim, "shell", "--history", history])
    t.expect(r"iosim> ", "first prompt")

    t.type("load hello.sys\r")
    out = t.expect(r"iosim> ", "load")
    assert "DriverEntry of \\Driver\\hello returned STATUS_SUCCESS" in out, out

    t.type("bogus thing\r")
    out = t.expect(r"iosim> ", "a mistyped line")
    assert re.search(r"<shell>:\d+:\d+: error: ", out), out

    # Completion of a command word: "!drv" + Tab becomes "!drvobj".
    t.type("!drv\t")
    t.expect(r"!drvobj", "completing !drv")
    t.type("hello 2\r")  # completion added the space after the word
    out = t.expect(r"iosim> ", "!drvobj hello 2")
    assert "[00] IRP_MJ_CREATE" in out and "hello!HelloCreateClose" in out, out

    # Completion of an object name.
    t.type("!devobj \\Device\\IosimHe\t")
    t.expect(r"IosimHello", "completing an object name")
    t.type("\r")
    out = t.expect(r"iosim> ", "!devobj")
    assert "DO_DEVICE_HAS_NAME" in out or "Device" in out, out

    # History: Up twice recalls the !drvobj line.
    t.type("\x1b[A\x1b[A")
    t.expect(r"hello 2", "history recall")  # readline redraws only what changed
    t.type("\r")
    out = t.expect(r"iosim> ", "recalled command")
    assert "[00] IRP_MJ_CREATE" in out, out

    t.type("quit\r")
    code = t.proc.wait(timeout=TIMEOUT)
    assert code == 0, f"exit code {code}"
    saved = open(history).read()
    assert "load hello.sys" in saved and "!drvobj hello 2" in saved, saved
    print("shell: prompt, output, errors, completion, history: ok")


if __name__ == "__main__":
    main()
