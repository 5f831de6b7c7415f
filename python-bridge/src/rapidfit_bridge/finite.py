"""NaN and Inf weights, found at inspect and named in the user's file.

Left to the export, a non-finite weight surfaces later as an internal tensor of a temporary ONNX file
(e.g. "heads.intent.0.weight_Transposed" when the quantizer refuses it).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch

from rapidfit_bridge.errors import BridgeError

_SAFETENSORS_FLOATS = ("F64", "F32", "F16", "BF16")


@contextmanager
def _one_thread():
    # Small reductions on torch's thread pool wait for the other threads at every op: on a busy 2-core
    # machine MiniLM's 103 encoder tensors took 0.6 s with 2 threads and 0.006-0.012 s with one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _is_finite(value: torch.Tensor) -> bool:
    # min and max propagate NaN and keep +-Inf, in one pass that allocates nothing the size of the
    # tensor (isfinite(value).all() builds a bool tensor as large as the weight)
    if value.numel() == 0:
        return True
    low, high = torch.aminmax(value)
    return bool(torch.isfinite(low)) and bool(torch.isfinite(high))


def _count(value: torch.Tensor) -> str:
    return f"{int((~torch.isfinite(value)).sum())} of {value.numel()} values"


def check_finite_state(state: dict, heads_file: Path) -> None:
    """Every float tensor of task_heads.pt's head state dict is finite."""
    with _one_thread():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.is_floating_point() and not _is_finite(value):
                raise BridgeError(
                    "BAD_TASK_HEADS",
                    f'parameter "{key}" contains NaN or Inf ({_count(value)})',
                    file=str(heads_file),
                    hint="retrain the head or restore task_heads.pt from a good checkpoint",
                )


def check_finite_safetensors(path: Path, unused_prefixes: tuple[str, ...] = ()) -> None:
    """Every float tensor of a safetensors file (checked by check_safetensors first) is finite, except
    those of modules the exported graph never reads (a NaN there changes no output)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle, _one_thread():
        for key in handle.keys():
            if key.startswith(unused_prefixes) or handle.get_slice(key).get_dtype() not in _SAFETENSORS_FLOATS:
                continue
            value = handle.get_tensor(key)
            if not _is_finite(value):
                raise BridgeError(
                    "BAD_WEIGHTS",
                    f'tensor "{key}" contains NaN or Inf ({_count(value)})',
                    file=str(path),
                    hint="the weights are damaged or diverged in training; restore them from a good checkpoint",
                )
