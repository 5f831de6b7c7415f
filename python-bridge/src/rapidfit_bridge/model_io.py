"""The exported graphs' inputs, outputs and dynamic axes, in one place.

The same names as the TypeScript side's src/plan/model-io.ts (test/unit/plan.test.ts checks that both
agree). The bundle's tokenizer is saved to return exactly these inputs (no token_type_ids), so that
`session.run(None, dict(tokenizer(text, return_tensors="np")))`, as in RapidFit's inference guide,
feeds a graph as it is.
"""

from __future__ import annotations

BATCH = "batch"
SEQUENCE = "sequence"

#: Graph inputs, in order: token ids and attention mask, int64 [batch, sequence].
INPUT_NAMES = ["input_ids", "attention_mask"]
#: A task graph's one output: logits [batch, num_labels].
OUTPUT_NAME = "logits"

INPUT_DYNAMIC_AXES = {name: {0: BATCH, 1: SEQUENCE} for name in INPUT_NAMES}
OUTPUT_DYNAMIC_AXES = {0: BATCH}


def multihead_output(task: str) -> str:
    """The multihead graph's output for a task."""
    return f"{task}_{OUTPUT_NAME}"


def dynamic_axes(output_names: list[str]) -> dict:
    """torch.onnx.export's dynamic_axes for the inputs and these outputs."""
    return {**INPUT_DYNAMIC_AXES, **{name: dict(OUTPUT_DYNAMIC_AXES) for name in output_names}}
