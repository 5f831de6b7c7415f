"""How much weight precision a model's INT8 gate needs: fake-quantized weights in PyTorch, judged like the tool.

    <bridge venv>/bin/python bench/int8_headroom.py <model_dir> <bundle_dir>

<bundle_dir> is a bundle (or `<out>.unverified`) exported with `--samples` and `--int8 auto`, so that its
verification.json marks the calibration and judged splits. Every Linear weight of the model is replaced
by its quantized-then-dequantized value (the embedding stays float), and the top-1 agreement with the
float model is measured on the judged split, with the mean absolute logit difference:
- round-to-nearest 8-bit, one scale per 16 weights along K (what `--int8 weight-only` stores);
- the same grid 2x and 4x finer (9 and 10 bits: more than the 30% size goal allows);
- GPTQ (error feedback with the calibration split's X^T X, block 16, 8 bits): the same size, less error;
- float16 weights.
It answers "would more careful 8-bit rounding pass this model's gate, or does it need more bits?".
"""
from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python-bridge" / "src"))
from rapidfit_bridge.model import load_model  # noqa: E402


def batches(verification: dict, split: str):
    for batch in verification["batches"]:
        if batch["split"] == split:
            yield torch.tensor(batch["inputIds"]), torch.tensor(batch["attentionMask"])


@torch.no_grad()
def logits(model, verification: dict, split: str, tasks: list[str]) -> list[torch.Tensor]:
    outputs = [model(ids, mask) for ids, mask in batches(verification, split)]
    return [torch.cat([out[index] for out in outputs]) for index in range(len(tasks))]


def round_to_nearest(weight: torch.Tensor, block: int, bits: int = 8) -> torch.Tensor:
    rows, columns = weight.shape  # torch Linear: [out, in]; blocks run along `in` (ONNX MatMul's K)
    blocks = weight.reshape(rows, columns // block, block)
    qmax = 2 ** (bits - 1) - 1
    scale = blocks.abs().amax(2, keepdim=True) / qmax
    scale[scale == 0] = 1
    return (torch.clamp(torch.round(blocks / scale), -qmax, qmax) * scale).reshape(rows, columns)


def gptq(weight: torch.Tensor, hessian: torch.Tensor, block: int, bits: int = 8, damp: float = 0.01) -> torch.Tensor:
    """GPTQ (Frantar et al. 2022) with one symmetric scale per `block` inputs: each column's rounding
    error is pushed onto the columns not yet quantized, weighted by the inverse Hessian."""
    work = weight.double().clone()
    columns = work.shape[1]
    qmax = 2 ** (bits - 1) - 1
    h = hessian.clone()
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    work[:, dead] = 0
    h += damp * torch.mean(torch.diag(h)) * torch.eye(columns, dtype=torch.double)
    inverse = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    quantized = torch.zeros_like(work)
    for start in range(0, columns, block):
        scale = work[:, start:start + block].abs().amax(1) / qmax
        scale[scale == 0] = 1
        for j in range(start, start + block):
            column = work[:, j]
            q = torch.clamp(torch.round(column / scale), -qmax, qmax) * scale
            quantized[:, j] = q
            error = (column - q) / inverse[j, j]
            work[:, j + 1:] -= error.unsqueeze(1) * inverse[j, j + 1:].unsqueeze(0)
    return quantized.float()


def linear_layers(model):
    return [(name, module) for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]


def input_hessians(model, verification: dict) -> dict[str, torch.Tensor]:
    hessians: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in linear_layers(model):
        def hook(_module, inputs, _output, name=name):
            rows = inputs[0].reshape(-1, inputs[0].shape[-1]).double()
            hessians[name] = hessians.get(name, 0) + rows.T @ rows
        hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        for ids, mask in batches(verification, "calibration"):
            model(ids, mask)
    for handle in hooks:
        handle.remove()
    return hessians


def main() -> int:
    model_dir, bundle_dir = Path(sys.argv[1]), Path(sys.argv[2])
    torch.set_num_threads(2)
    verification = json.loads((bundle_dir / "verification.json").read_text())
    tasks = sorted(verification["batches"][0]["reference"])
    model = load_model(model_dir, None).select(tasks).eval()
    reference = logits(model, verification, "judged", tasks)
    judged = reference[0].shape[0]
    hessians = input_hessians(model, verification)
    variants = {
        "8-bit, block 16, round to nearest (weight-only)": lambda w, n: round_to_nearest(w, 16),
        "9-bit, block 16 (2x finer; over the size goal)": lambda w, n: round_to_nearest(w, 16, 9),
        "10-bit, block 16 (4x finer; over the size goal)": lambda w, n: round_to_nearest(w, 16, 10),
        "8-bit, block 16, GPTQ on the calibration split": lambda w, n: gptq(w, hessians[n], 16),
        "float16": lambda w, n: w.half().float(),
    }
    print(f"judged split: {judged} texts; tasks {', '.join(tasks)}; embedding left in float")
    print(f"| weights | {' | '.join(f'{t} agreement | {t} mean abs logit diff' for t in tasks)} | seconds |")
    print(f"|---|{'---:|---:|' * len(tasks)}---:|")
    for label, quantize in variants.items():
        started = time.time()
        candidate = copy.deepcopy(model)
        for name, module in linear_layers(candidate):
            module.weight.data = quantize(module.weight.data, name)
        out = logits(candidate, verification, "judged", tasks)
        cells = []
        for index in range(len(tasks)):
            agreement = (out[index].argmax(1) == reference[index].argmax(1)).float().mean().item()
            cells.append(f"{agreement * 100:.2f}% | {(out[index] - reference[index]).abs().mean().item():.4f}")
        print(f"| {label} | {' | '.join(cells)} | {time.time() - started:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
