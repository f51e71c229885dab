"""Which process owns a running run, and whether that process is still there.

A run row records the pid, the process start time (Linux: field 22 of /proc/PID/stat,
in clock ticks since boot) and the host name of its writer. The owner is gone when, on
this host, the pid no longer exists, is a zombie, or now belongs to a process that
started at another time (the pid was reused). Runs owned by another host are assumed
alive: we cannot look.
"""

from __future__ import annotations

import os
import socket

__all__ = ["host_name", "process_start", "owner_gone", "orphan_message"]


def host_name() -> str:
    return socket.gethostname()


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat (after the parenthesised command name), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def process_start(pid: int | None = None) -> int | None:
    """Start time of `pid` (default: this process) in clock ticks since boot; None off Linux."""
    fields = _stat_fields(os.getpid() if pid is None else pid)
    if fields is None or len(fields) < 20:
        return None
    try:
        return int(fields[19])  # field 22 overall; fields[0] is field 3
    except ValueError:
        return None


def owner_gone(pid: int | None, start: int | None, host: str | None, this_host: str) -> bool:
    """True when the process that wrote a running row has certainly ended."""
    if pid is None or pid <= 0 or (host is not None and host != this_host):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, owned by another user
    except OSError:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        # With /proc the process vanished since kill(); without /proc, trust kill().
        return os.path.isdir("/proc/self")
    if fields and fields[0] in ("Z", "X"):
        return True  # exited, not yet reaped
    if start is not None:
        now = process_start(pid)
        return now is not None and now != start
    return False


def orphan_message(pid: int | None) -> str:
    return f"process {pid} ended without finishing the run"
