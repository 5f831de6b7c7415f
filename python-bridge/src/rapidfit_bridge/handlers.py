"""Request handlers. Each takes a params dict and returns a JSON-able dict."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rapidfit_bridge import heap
from rapidfit_bridge.errors import BridgeError
from rapidfit_bridge.model import LoadedModel, inspect_model, load_model
from rapidfit_bridge.model_io import BATCH, INPUT_NAMES, OUTPUT_NAME, SEQUENCE, dynamic_axes, multihead_output
from rapidfit_bridge.stdio import stdout_isolated

Progress = Callable[[str], None]

torch.set_num_threads(max(1, os.cpu_count() or 1))
_loaded: dict[tuple, LoadedModel] = {}

# The inputs of every exported graph (model_io.py): the bundle's tokenizer returns exactly these.
GRAPH_INPUT_NAMES = INPUT_NAMES


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions(_params: dict, _progress: Progress | None = None) -> dict:
    names = ["torch", "transformers", "tokenizers", "safetensors", "onnx", "onnxscript", "onnxruntime", "numpy", "rapidfit"]
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        **{name: _version(name) for name in names},
    }


def _model_dir(params: dict) -> Path:
    directory = Path(params["model_dir"]).resolve()
    if not directory.is_dir():
        raise BridgeError("INPUT_MISSING", "model directory does not exist", file=str(directory))
    return directory


def _cache_key(directory: Path, task_name: str | None) -> tuple:
    stamps = []
    for name in ("task_heads.pt", "encoder/model.safetensors", "model.safetensors", "config.json", "encoder/config.json"):
        path = directory / name
        if path.exists():
            stat = path.stat()
            stamps.append((name, stat.st_mtime_ns, stat.st_size))
    return (str(directory), task_name, tuple(stamps))


def _get_model(params: dict, progress: Progress | None = None) -> LoadedModel:
    directory = _model_dir(params)
    key = _cache_key(directory, params.get("task_name"))
    if key not in _loaded:
        if progress:
            progress("loading model weights")
        _loaded.clear()
        _loaded[key] = load_model(directory, params.get("task_name"))
        heap.settle()
    return _loaded[key]


def inspect(params: dict, _progress: Progress | None = None) -> dict:
    return inspect_model(_model_dir(params), params.get("task_name"))


def _check_tasks(model: LoadedModel, tasks: list[str] | None) -> list[str]:
    known = [task["name"] for task in model.facts["tasks"]]
    if not tasks:
        return known
    unknown = [task for task in tasks if task not in known]
    if unknown:
        raise BridgeError("UNKNOWN_TASK", f"unknown task(s) {', '.join(unknown)}; the model has {', '.join(known)}")
    return list(tasks)


def _dummy_inputs(max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    # Batch of two with padding in the second row, so that a trace cannot specialise on an
    # all-ones attention mask (some transformers versions skip masking when the mask is all ones).
    length = max(2, min(16, max_length))
    input_ids = torch.full((2, length), 5, dtype=torch.long)
    attention_mask = torch.ones((2, length), dtype=torch.long)
    attention_mask[1, length // 2:] = 0
    return input_ids, attention_mask


def _export_graph(
    graph: torch.nn.Module, out_file: Path, output_names: list[str], opset: int, max_length: int, exporter: str,
    infer_shapes: bool = True,
) -> None:
    input_ids, attention_mask = _dummy_inputs(max_length)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            batch = torch.export.Dim(BATCH)
            sequence = torch.export.Dim(SEQUENCE)
            program = torch.onnx.export(
                graph,
                (input_ids, attention_mask),
                input_names=GRAPH_INPUT_NAMES,
                output_names=output_names,
                opset_version=opset,
                dynamo=True,
                dynamic_shapes=({0: batch, 1: sequence}, {0: batch, 1: sequence}),
                external_data=False,
            )
            program.save(str(out_file), external_data=False)
        else:
            torch.onnx.export(
                graph,
                (input_ids, attention_mask),
                str(out_file),
                input_names=GRAPH_INPUT_NAMES,
                output_names=output_names,
                dynamic_axes=dynamic_axes(output_names),
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    if not infer_shapes:
        return
    # Shape information lets onnxruntime apply the same fusions to our graphs as to graphs that went
    # through its own quantizer (which runs shape inference); the path API also works past 2 GB.
    import onnx

    onnx.shape_inference.infer_shapes_path(str(out_file), str(out_file))


def export(params: dict, progress: Progress | None = None) -> dict:
    """Export the encoder once with one output per task (mode "shared"), or re-trace per task
    (mode "per-task", what RapidFit does; kept for the benchmark)."""
    model = _get_model(params, progress)
    tasks = _check_tasks(model, params.get("tasks"))
    opset = int(params.get("opset", 17))
    max_length = int(params.get("max_length", 128))
    exporter = params.get("exporter", "torchscript")
    mode = params.get("mode", "shared")
    infer_shapes = bool(params.get("infer_shapes", True))
    out_dir = Path(params["out_dir"])
    started = time.perf_counter()
    try:
        if mode == "per-task":
            files = {}
            for task in tasks:
                if progress:
                    progress(f"tracing {task}")
                path = out_dir / f"{task}.onnx"
                _export_graph(model.select([task]), path, [OUTPUT_NAME], opset, max_length, exporter, infer_shapes)
                files[task] = {"file": str(path), "output": OUTPUT_NAME}
        else:
            if progress:
                progress(f"tracing the shared encoder with {len(tasks)} task output(s)")
            # the bundle's multihead.onnx keeps these names: one "<task>_logits" output per task
            outputs = [multihead_output(task) for task in tasks]
            path = out_dir / "multihead-export.onnx"
            _export_graph(model.select(tasks), path, outputs, opset, max_length, exporter, infer_shapes)
            files = {task: {"file": str(path), "output": output} for task, output in zip(tasks, outputs)}
    except BridgeError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise BridgeError(
            "EXPORT_FAILED",
            f"PyTorch could not export the model to ONNX ({exporter} exporter, opset {opset}): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:400] if str(exc) else ''}",
            file=str(model.facts["model_dir"]),
            hint="try --exporter dynamo or another --opset",
        ) from None
    return {"files": files, "seconds": time.perf_counter() - started, "tasks": tasks}


def _load_tokenizer(directory: Path, **kwargs):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(directory), local_files_only=True, trust_remote_code=False, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise BridgeError(
            "BAD_TOKENIZER", f"the tokenizer cannot be loaded: {str(exc).splitlines()[0][:300]}", file=str(directory)
        ) from None


_tokenizers: dict[tuple, object] = {}


def _model_tokenizer(tokenizer_dir: Path):
    """The model's tokenizer, loaded once per directory state (loading costs far more than tokenizing a batch)."""
    stamps = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(tokenizer_dir.iterdir()) if p.is_file())
    key = (str(tokenizer_dir), stamps)
    if key not in _tokenizers:
        _tokenizers.clear()
        _tokenizers[key] = _load_tokenizer(tokenizer_dir)
    return _tokenizers[key]


def tokenize(params: dict, _progress: Progress | None = None) -> dict:
    model_dir = _model_dir(params)
    tokenizer_dir = model_dir / "encoder" if (model_dir / "encoder").is_dir() else model_dir
    tokenizer = _model_tokenizer(tokenizer_dir)
    texts = [str(text) for text in params["texts"]]
    encoded = tokenizer(
        texts, padding=True, truncation=True, max_length=int(params.get("max_length", 128)), return_tensors="np"
    )
    out_dir = Path(params["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / f"{name}.npy" for name in INPUT_NAMES}
    for name, path in paths.items():
        np.save(path, encoded[name].astype(np.int64))
    return {**{name: str(path) for name, path in paths.items()}, "shape": list(encoded[INPUT_NAMES[0]].shape)}


def predict(params: dict, progress: Progress | None = None) -> dict:
    model = _get_model(params, progress)
    tasks = _check_tasks(model, params.get("tasks"))
    input_ids, attention_mask = (torch.from_numpy(np.load(params[name], allow_pickle=False)) for name in INPUT_NAMES)
    out_dir = Path(params["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        logits = model.select(tasks)(input_ids, attention_mask)
    files = {}
    for index, (task, values) in enumerate(zip(tasks, logits)):
        path = out_dir / f"torch-logits-{index}.npy"
        np.save(path, values.detach().float().numpy())
        files[task] = str(path)
    return {"files": files}


def save_tokenizer(params: dict, _progress: Progress | None = None) -> dict:
    """Saves the model's tokenizer for the bundle, returning exactly the graph's inputs when called.

    `model_input_names` is given at load time (not set as an attribute afterwards): only init
    arguments are written to tokenizer_config.json, and AutoTokenizer.from_pretrained of the bundle
    reads it back from there.
    """
    model_dir = _model_dir(params)
    tokenizer_dir = model_dir / "encoder" if (model_dir / "encoder").is_dir() else model_dir
    input_names = list(params.get("input_names") or GRAPH_INPUT_NAMES)
    tokenizer = _load_tokenizer(tokenizer_dir, model_input_names=input_names)
    out_dir = Path(params["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    written = tokenizer.save_pretrained(str(out_dir))
    return {"files": sorted(Path(path).name for path in written if Path(path).exists())}


def diagnose(_params: dict, _progress: Progress | None = None) -> dict:
    """Checks that stdout is isolated from the protocol, then writes to stdout the ways user code and
    libraries do (the protocol must survive all of them; when it is not isolated the probes would
    write into it, so they are skipped)."""
    import ctypes

    if not stdout_isolated():
        return {"stdout_isolated": False, "threads": torch.get_num_threads(), "gc": heap.state()}
    print("diagnose: print() to stdout")
    sys.stdout.write("diagnose: sys.stdout.write\n")
    sys.stdout.flush()
    os.write(1, b"diagnose: os.write(1)\n")
    try:
        libc = ctypes.CDLL(None)
        libc.printf(b"diagnose: C printf\n")
        libc.fflush(None)
    except (OSError, AttributeError):
        pass
    return {"stdout_isolated": stdout_isolated(), "threads": torch.get_num_threads(), "gc": heap.state()}


def check_tokenizer(params: dict, _progress: Progress | None = None) -> dict:
    """Loads the bundle's tokenizer/ and checks that calling it returns exactly the graph's inputs
    (no token_type_ids: `session.run(None, dict(inputs))` would refuse them) and the same input_ids
    and attention_mask as the model's tokenizer."""
    model_dir = _model_dir(params)
    original = _load_tokenizer(model_dir / "encoder" if (model_dir / "encoder").is_dir() else model_dir)
    bundled = _load_tokenizer(Path(params["tokenizer_dir"]))
    input_names = list(params.get("input_names") or GRAPH_INPUT_NAMES)
    texts = [str(text) for text in params["texts"]]
    max_length = int(params.get("max_length", 128))
    a = original(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
    b = bundled(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
    extra = [key for key in b.keys() if key not in input_names]
    if extra:
        return {
            "same": False,
            "detail": f"the saved tokenizer also returns {', '.join(extra)}, which the graphs do not take "
            f"(their inputs: {', '.join(input_names)}); save it with model_input_names={input_names}",
        }
    for key in input_names:
        if key not in b:
            return {"same": False, "detail": f"the saved tokenizer does not produce {key}"}
        if a[key].shape != b[key].shape or not (a[key] == b[key]).all():
            return {"same": False, "detail": f"the saved tokenizer gives different {key} than the model's"}
    return {"same": True, "detail": ""}


HANDLERS = {
    "check_tokenizer": check_tokenizer,
    "diagnose": diagnose,
    "versions": versions,
    "inspect": inspect,
    "export": export,
    "tokenize": tokenize,
    "predict": predict,
    "save_tokenizer": save_tokenizer,
    "ping": lambda params, progress=None: {"pong": True},
}


# The method names are shared with the TypeScript side through one file: a handler added or renamed
# here without methods.json (or the other way round) fails at start-up, not at the first request.
_METHODS = json.loads((Path(__file__).parent / "methods.json").read_text(encoding="utf-8"))["methods"]
if sorted(_METHODS) != sorted(HANDLERS):
    raise RuntimeError(f"methods.json {sorted(_METHODS)} and HANDLERS {sorted(HANDLERS)} differ")


def dispatch(method: str, params: dict, progress: Progress) -> dict:
    handler = HANDLERS.get(method)
    if handler is None:
        raise BridgeError("BAD_REQUEST", f"unknown method {method!r}")
    return handler(params, progress)
