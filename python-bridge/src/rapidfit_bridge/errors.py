"""Typed errors sent back to the TypeScript side instead of tracebacks."""

from __future__ import annotations


class BridgeError(Exception):
    """An error the user can act on. `code` is stable and mapped to an exit code in TypeScript."""

    def __init__(self, code: str, message: str, file: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.file = file
        self.hint = hint

    def to_json(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.file is not None:
            out["file"] = self.file
        if self.hint is not None:
            out["hint"] = self.hint
        return out
