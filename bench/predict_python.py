"""The Python path of bench/predict.mjs: transformers tokenizer + onnxruntime (Python) + softmax, as
RapidFit's inference guide does it, on a bundle's <task>_int8.onnx graphs, in the bridge venv.

stdin: {"bundle": dir, "texts": [...], "tasks": [...], "batch_size": 32, "max_length": 128,
        "rounds": 3, "sort": false, "variant": "int8"}
stdout: {"seconds": [per round], "tokenize_seconds": [per round], "predictions": {task: [[label id, confidence], ...]}}
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402


def main() -> None:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    bundle = request["bundle"]
    texts = request["texts"]
    tasks = request["tasks"]
    batch_size = int(request["batch_size"])
    max_length = int(request["max_length"])
    suffix = "_int8.onnx" if request.get("variant", "int8") == "int8" else ".onnx"
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(bundle, "tokenizer"), local_files_only=True)
    sessions = {task: ort.InferenceSession(os.path.join(bundle, task + suffix), providers=["CPUExecutionProvider"]) for task in tasks}

    order = list(range(len(texts)))
    if request.get("sort"):
        # what `rapidfit-export predict` does: longest first by token count, ties in input order
        lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
        order.sort(key=lambda index: (-lengths[index], index))

    def run() -> tuple[float, dict]:
        tokenize_seconds = 0.0
        predictions = {task: [None] * len(texts) for task in tasks}
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            started = time.perf_counter()
            inputs = tokenizer([texts[i] for i in indices], padding=True, truncation=True, max_length=max_length, return_tensors="np")
            feeds = {"input_ids": inputs["input_ids"].astype(np.int64), "attention_mask": inputs["attention_mask"].astype(np.int64)}
            tokenize_seconds += time.perf_counter() - started
            for task, session in sessions.items():
                logits = session.run(None, feeds)[0]
                shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
                probs = shifted / shifted.sum(axis=-1, keepdims=True)
                for row, index in enumerate(indices):
                    best = int(probs[row].argmax())
                    predictions[task][index] = [best, float(probs[row, best])]
        return tokenize_seconds, predictions

    warm = tokenizer(texts[:batch_size], padding=True, truncation=True, max_length=max_length, return_tensors="np")
    for session in sessions.values():
        session.run(None, {"input_ids": warm["input_ids"].astype(np.int64), "attention_mask": warm["attention_mask"].astype(np.int64)})
    seconds, tokenize = [], []
    predictions = {}
    for _round in range(int(request.get("rounds", 3))):
        started = time.perf_counter()
        tokenize_seconds, predictions = run()
        seconds.append(time.perf_counter() - started)
        tokenize.append(tokenize_seconds)
    sys.stdout.write(json.dumps({"seconds": seconds, "tokenize_seconds": tokenize, "predictions": predictions}))


if __name__ == "__main__":
    main()
