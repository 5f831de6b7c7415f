"""Writes fuzzed task_heads.pt files for test/fuzz/task-heads.test.ts (run in the bridge venv).

argv: <source task_heads.pt> <cases.json>. cases.json is a list of {"dir": ..., "metadata": {...}, "drop": [...]}:
the metadata (task_num_labels, task_label2id, task_id2label with string keys, head_config, pooling) replaces
the source file's, id2label keys that are decimal integers become ints again (as RapidFit saves them), and the
state-dict keys listed in "drop" are removed. Each file is written with torch.save, so it is a well-formed
checkpoint whose metadata is what the fuzzer chose.
"""
import json
import sys
from pathlib import Path

import torch


def int_keys(value):
    if not isinstance(value, dict):
        return value
    return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in value.items()}


def main() -> None:
    source = torch.load(sys.argv[1], weights_only=True)
    for case in json.loads(Path(sys.argv[2]).read_text()):
        data = dict(source)
        metadata = dict(case["metadata"])
        id2label = metadata.get("task_id2label")
        if isinstance(id2label, dict):
            metadata["task_id2label"] = {task: int_keys(labels) for task, labels in id2label.items()}
        data.update(metadata)
        for key in ("task_num_labels", "task_label2id", "task_id2label", "head_config", "pooling"):
            if key not in metadata:
                data.pop(key, None)
        state = dict(source["task_heads"])
        for key in case.get("drop", []):
            state.pop(key, None)
        data["task_heads"] = state
        torch.save(data, Path(case["dir"]) / "task_heads.pt")


if __name__ == "__main__":
    main()
