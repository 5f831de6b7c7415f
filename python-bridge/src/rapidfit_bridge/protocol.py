"""JSON-lines protocol over stdio.

stdout carries protocol lines only (stdio.py: fd 1 is pointed at stderr, the protocol gets a private
descriptor), so prints from user code, libraries and C extensions end up in stderr.

Messages (one JSON object per line):
  bridge -> ts  {"event": "ready", "protocol": 1, "versions": {...}}
  ts -> bridge  {"id": 7, "method": "inspect", "params": {...}}
  bridge -> ts  {"event": "progress", "id": 7, "message": "..."}   (zero or more)
  bridge -> ts  {"event": "heartbeat", "id": 7}                    (every HEARTBEAT_SECONDS while 7 runs)
  bridge -> ts  {"id": 7, "ok": true, "result": {...}}
             or {"id": 7, "ok": false, "error": {"code": "...", "message": "...", "file": "..."}}
"""

from __future__ import annotations

import errno
import json
import os
import sys
import threading
import traceback

from rapidfit_bridge import PROTOCOL_VERSION, heap
from rapidfit_bridge.errors import BridgeError
from rapidfit_bridge.stdio import open_protocol_stream

_write_lock = threading.Lock()

# While a request runs, a thread says so at this interval; the TypeScript side declares the bridge hung
# when a request hears nothing (answer, progress or heartbeat) for its --bridge-timeout.
# The client sets a shorter interval for a short timeout (a quarter of it).
HEARTBEAT_SECONDS = float(os.environ.get("RAPIDFIT_BRIDGE_HEARTBEAT_SECONDS") or 2.0)

# File-system failures while writing (the bridge's temp dir, the output): the environment, exit 4.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


def _disk_error(exc: OSError) -> dict:
    error = {"code": "DISK", "message": f"cannot write: {exc.strerror or exc}"}
    if exc.filename:
        error["file"] = str(exc.filename)
    error["hint"] = "free disk space (or point TMPDIR at a larger disk), then run again"
    return error


def _heartbeat(send, request_id, done: threading.Event) -> None:
    while not done.wait(HEARTBEAT_SECONDS):
        try:
            send({"event": "heartbeat", "id": request_id})
        except (OSError, ValueError):  # the pipe closed: the tool is gone
            return


def serve() -> None:
    out = open_protocol_stream()

    def send(message: dict) -> None:
        line = json.dumps(message, ensure_ascii=False, allow_nan=False)
        with _write_lock:
            out.write(line + "\n")
            out.flush()

    heap.defer_collection()
    try:
        from rapidfit_bridge import handlers
    except Exception as exc:  # a broken venv shows up here (missing or corrupt packages)
        send({
            "event": "fatal",
            "error": {
                "code": "ENV_BROKEN",
                "message": f"the bridge environment cannot import its packages: {type(exc).__name__}: {exc}",
            },
        })
        sys.exit(3)

    send({"event": "ready", "protocol": PROTOCOL_VERSION, "versions": handlers.versions({})})

    for raw in sys.stdin:
        raw = raw.strip()
        if not raw:
            continue
        try:
            request = json.loads(raw)
            request_id = request["id"]
            method = request["method"]
            params = request.get("params") or {}
        except (ValueError, KeyError, TypeError) as exc:
            send({"id": None, "ok": False, "error": {"code": "BAD_REQUEST", "message": str(exc)}})
            continue
        if method == "shutdown":
            send({"id": request_id, "ok": True, "result": {}})
            break

        def progress(message: str, _id=request_id) -> None:
            send({"event": "progress", "id": _id, "message": message})

        done = threading.Event()
        threading.Thread(target=_heartbeat, args=(send, request_id, done), daemon=True).start()
        try:
            result = handlers.dispatch(method, params, progress)
            send({"id": request_id, "ok": True, "result": result})
        except BridgeError as exc:
            send({"id": request_id, "ok": False, "error": exc.to_json()})
        except Exception as exc:  # noqa: BLE001 - everything else is an internal error with details
            if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
                send({"id": request_id, "ok": False, "error": _disk_error(exc)})
                continue
            send({
                "id": request_id,
                "ok": False,
                "error": {
                    "code": "INTERNAL",
                    "message": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                },
            })
        finally:
            done.set()
