"""Cheap structural checks of the model's weight files, so that a truncated or foreign file is
reported as such (exit 2, file named) instead of as a library's raw error.

Nothing here unpickles or maps tensors: safetensors headers are plain JSON, and a torch.save() file
is recognised by its first bytes (a zip archive, or a legacy pickle stream).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from rapidfit_bridge.errors import BridgeError

# safetensors: 8-byte little-endian header length, then a JSON header; 100 MB is the format's own limit.
_MAX_SAFETENSORS_HEADER = 100_000_000

# Messages of torch's weights-only unpickler that mean "this byte stream is not a valid pickle" rather
# than "this pickle asks for objects we refuse" (the latter stays UNSAFE_PICKLE).
_CORRUPT_PICKLE_MARKERS = ("Unsupported operand", "stack underflow", "persistent_load", "persistent load")


def check_safetensors(path: Path) -> None:
    """Raises BAD_WEIGHTS naming `path` when its header is unreadable or its data is cut short."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            _bad(path, f"is truncated or corrupt: {size} bytes, too short for a safetensors header")
        (header_length,) = struct.unpack("<Q", prefix)
        if header_length > _MAX_SAFETENSORS_HEADER or 8 + header_length > size:
            _bad(path, f"is truncated or corrupt: its header claims {header_length} bytes but the file holds {size}")
        try:
            header = json.loads(handle.read(header_length))
        except ValueError:
            _bad(path, "is corrupt: its safetensors header is not valid JSON")
    if not isinstance(header, dict):
        _bad(path, "is corrupt: its safetensors header is not a JSON object")
    data_end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            _bad(path, f"is corrupt: tensor {name!r} has no valid data_offsets")
        data_end = max(data_end, offsets[1])
    available = size - 8 - header_length
    if data_end > available:
        _bad(path, f"is truncated: its tensors need {data_end} bytes of data, the file holds {available}")


def _bad(path: Path, message: str) -> None:
    raise BridgeError(
        "BAD_WEIGHTS",
        message,
        file=str(path),
        hint="copy or save the model again; the file is damaged or incomplete",
    )


def not_a_checkpoint(path: Path, detail: str) -> BridgeError:
    return BridgeError(
        "BAD_TASK_HEADS",
        f"is not a PyTorch checkpoint, or it is corrupt ({detail})",
        file=str(path),
        hint="task_heads.pt must be the file RapidFit's MultiheadClassifier.save() wrote; copy it again",
    )


def check_torch_file_magic(path: Path) -> None:
    """torch.save() writes a zip archive (PK\\x03\\x04) or, in its legacy format, a pickle (\\x80 + protocol)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK\x03\x04"):
        return
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return
    if not head:
        raise not_a_checkpoint(path, "the file is empty")
    raise not_a_checkpoint(path, f"it starts with bytes {head.hex()}, not a zip archive or a pickle")


def is_corrupt_pickle_message(message: str) -> bool:
    """True when torch's weights-only unpickler failed on a malformed stream, not on a refused object."""
    return any(marker in message for marker in _CORRUPT_PICKLE_MARKERS)
