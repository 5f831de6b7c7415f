"""Keeping the protocol channel private.

At start-up the real stdout is duplicated to a private file descriptor for protocol lines and fd 1 is
pointed at stderr, so `print()`, `sys.stdout` and C-level `printf` from user code, libraries and C
extensions land in stderr (which the TypeScript side captures for error reports) instead of corrupting
the JSON lines. `stdout_isolated` checks that this still holds.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

_protocol: TextIO | None = None


def open_protocol_stream() -> TextIO:
    global _protocol
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _protocol = os.fdopen(protocol_fd, "w", encoding="utf-8", buffering=1)
    return _protocol


def _open_file(fd: int) -> tuple[int, int] | None:
    """The open file behind a descriptor (two descriptors that share it write to the same place)."""
    try:
        stat = os.fstat(fd)
    except OSError:  # closed: a write there fails, it cannot reach the protocol
        return None
    return (stat.st_dev, stat.st_ino)


def _stream_fd(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both OSError and ValueError
        return None


def stdout_isolated(protocol: TextIO | None = None) -> bool:
    """True when nothing written to `sys.stdout`, `sys.__stdout__` or fd 1 reaches the protocol stream.

    A pipe or file is compared by device and inode, so a descriptor duplicated from the protocol's (or
    a stderr that the parent pointed at the same pipe as stdout) counts as the protocol.
    """
    protocol = protocol if protocol is not None else _protocol
    if protocol is None:
        return False
    target = _open_file(protocol.fileno())
    if target is None:
        return False
    for stream in (sys.stdout, sys.__stdout__):
        if stream is protocol:
            return False
        fd = _stream_fd(stream)
        if fd is not None and _open_file(fd) == target:
            return False
    return _open_file(1) != target
