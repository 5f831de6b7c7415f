"""Safe loading of RapidFit and Hugging Face models, and the graph that is exported.

Never unpickles code: task_heads.pt is read with torch.load(weights_only=True), encoders with
safetensors (transformers also refuses unsafe pickles), and no remote code is trusted.
The forward pass mirrors rapidfit 0.1.8 (classifiers/components/pooling.py and heads.py); the
integration tests check it against rapidfit's own MultiheadClassifier.load() on real fixtures.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from rapidfit_bridge.errors import BridgeError
from rapidfit_bridge.file_checks import check_safetensors, check_torch_file_magic, is_corrupt_pickle_message, not_a_checkpoint
from rapidfit_bridge.finite import check_finite_safetensors, check_finite_state

REQUIRED_HEAD_KEYS = ("task_heads", "task_num_labels", "task_label2id", "task_id2label")
ACTIVATIONS: dict[str, type[nn.Module]] = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh}
POOLINGS = ("mean", "cls", "max")
# MultiheadGraph pools last_hidden_state itself: the encoder's own pooler (BERT's "pooler.dense") runs but
# its output is discarded, so a NaN there changes nothing and does not refuse the model
UNUSED_ENCODER_PREFIXES = ("pooler.",)
# rapidfit 0.1.8 HeadConfig defaults, for files saved without a head_config
DEFAULT_HEAD_CONFIG = {"hidden_layers": 1, "hidden_multiplier": 1.0, "activation": "gelu", "dropout": 0.2}


class Pooler(nn.Module):
    def __init__(self, strategy: str) -> None:
        super().__init__()
        self.strategy = strategy

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.strategy == "cls":
            return hidden_states[:, 0]
        if self.strategy == "max":
            mask = attention_mask.unsqueeze(-1).expand(hidden_states.size())
            return hidden_states.masked_fill(~mask.bool(), float("-inf")).max(dim=1).values
        mask = attention_mask.unsqueeze(-1).expand(hidden_states.size()).float()
        summed = torch.sum(hidden_states * mask, dim=1)
        return summed / torch.clamp(mask.sum(dim=1), min=1e-9)


def build_head(input_size: int, num_labels: int, head_config: dict) -> nn.Sequential:
    hidden_size = int(input_size * head_config["hidden_multiplier"])
    activation = ACTIVATIONS[head_config["activation"]]
    layers: list[nn.Module] = []
    in_features = input_size
    for _ in range(int(head_config["hidden_layers"])):
        layers.extend([nn.Linear(in_features, hidden_size), activation(), nn.Dropout(head_config["dropout"])])
        in_features = hidden_size
    layers.append(nn.Linear(in_features, num_labels))
    return nn.Sequential(*layers)


class MultiheadGraph(nn.Module):
    """encoder -> pooling -> one head per task; returns one logits tensor per task, in `tasks` order."""

    def __init__(self, encoder: nn.Module, pooling: str, heads: nn.ModuleDict, tasks: list[str]) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooler = Pooler(pooling)
        self.heads = heads
        self.tasks = list(tasks)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = self.pooler(hidden, attention_mask)
        return tuple(self.heads[task](pooled) for task in self.tasks)


class SequenceClassifierGraph(nn.Module):
    """A Hugging Face *ForSequenceClassification model as a single-task graph."""

    def __init__(self, model: nn.Module, task: str) -> None:
        super().__init__()
        self.model = model
        self.tasks = [task]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return (self.model(input_ids=input_ids, attention_mask=attention_mask).logits,)


@dataclass
class LoadedModel:
    facts: dict
    graph: nn.Module
    tokenizer_dir: Path
    cache_key: tuple = field(default_factory=tuple)

    def select(self, tasks: list[str]) -> nn.Module:
        """A graph that outputs only `tasks`, sharing all weights with the full graph."""
        if isinstance(self.graph, MultiheadGraph):
            return MultiheadGraph(self.graph.encoder, self.graph.pooler.strategy, self.graph.heads, tasks).eval()
        return self.graph


def _load_task_heads_file(path: Path) -> dict:
    check_torch_file_magic(path)
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if is_corrupt_pickle_message(str(exc)):
            detail = next((line.strip() for line in str(exc).splitlines() if "Unsupported operand" in line), "a malformed pickle stream")
            raise not_a_checkpoint(path, detail[:200]) from None
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        first_line = next((line for line in lines if "GLOBAL" in line or "Unsupported" in line), lines[0] if lines else type(exc).__name__)
        raise BridgeError(
            "UNSAFE_PICKLE",
            "refused to load: the file holds Python objects that a weights-only load does not allow "
            f"(they could run code when unpickled). {first_line[:300]}",
            file=str(path),
            hint="re-save the model with rapidfit's MultiheadClassifier.save(); never load pickles you do not trust",
        ) from None
    except Exception as exc:  # noqa: BLE001 - RuntimeError, EOFError, KeyError, zip errors...: not a readable torch file
        raise BridgeError(
            "BAD_TASK_HEADS",
            f"cannot be read as a PyTorch file ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); "
            "it may be truncated or not a torch.save() file",
            file=str(path),
        ) from None
    if not isinstance(data, dict):
        raise BridgeError("BAD_TASK_HEADS", f"is not a RapidFit task_heads dict (found {type(data).__name__})", file=str(path))
    missing = [key for key in REQUIRED_HEAD_KEYS if key not in data]
    if missing:
        raise BridgeError(
            "BAD_TASK_HEADS",
            f"is not a RapidFit task_heads dict: missing keys {', '.join(missing)}",
            file=str(path),
        )
    return data


def _check_encoder_weights(encoder_dir: Path, unused_prefixes: tuple[str, ...] = ()) -> int | None:
    """Checks model.safetensors (readable, every float the graph reads finite); returns its parameter count."""
    weights = encoder_dir / "model.safetensors"
    if not weights.is_file():
        return None
    from safetensors import safe_open

    check_safetensors(weights)
    check_finite_safetensors(weights, unused_prefixes)
    total = 0
    with safe_open(str(weights), framework="pt") as handle:
        for key in handle.keys():
            count = 1
            for dim in handle.get_slice(key).get_shape():
                count *= int(dim)
            total += count
    return total


def _config_facts(config) -> dict:
    return {
        "model_type": getattr(config, "model_type", None),
        "hidden_size": getattr(config, "hidden_size", None),
        "num_layers": getattr(config, "num_hidden_layers", None),
        "vocab_size": getattr(config, "vocab_size", None),
        "max_position_embeddings": getattr(config, "max_position_embeddings", None),
    }


def _read_config(directory: Path):
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(str(directory), local_files_only=True, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad config
        raise BridgeError(
            "BAD_CONFIG",
            f"is not a loadable Hugging Face config: {str(exc).splitlines()[0][:300]}",
            file=str(directory / "config.json"),
        ) from None


def _head_layers(state: dict, task: str) -> list[list[int]]:
    """[[out, in], ...] of the Linear layers of one head, in order, from its state dict."""
    prefix = f"{task}."
    indices = sorted({int(key[len(prefix):].split(".")[0]) for key in state if key.startswith(prefix)})
    layers = []
    for index in indices:
        weight = state.get(f"{prefix}{index}.weight")
        if isinstance(weight, torch.Tensor) and weight.dim() == 2:
            layers.append([int(weight.shape[0]), int(weight.shape[1])])
    return layers


def inspect_rapidfit(model_dir: Path) -> tuple[dict, dict]:
    try:
        return _inspect_rapidfit(model_dir)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        # task_heads.pt loaded but its metadata has the wrong types (e.g. head_config.dropout = ""): the user's file, not a bug
        raise BridgeError(
            "BAD_TASK_HEADS",
            f"has malformed RapidFit metadata ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})",
            file=str(model_dir / "task_heads.pt"),
        ) from None


def _inspect_rapidfit(model_dir: Path) -> tuple[dict, dict]:
    heads_file = model_dir / "task_heads.pt"
    data = _load_task_heads_file(heads_file)
    encoder_dir = model_dir / "encoder"
    config = _read_config(encoder_dir)
    state = data["task_heads"]
    if not isinstance(state, dict):
        raise BridgeError("BAD_TASK_HEADS", "'task_heads' is not a state dict", file=str(heads_file))
    check_finite_state(state, heads_file)
    tasks = []
    for name, num_labels in dict(data["task_num_labels"]).items():
        id2label = data["task_id2label"].get(name, {}) if isinstance(data["task_id2label"], dict) else {}
        label2id = data["task_label2id"].get(name, {}) if isinstance(data["task_label2id"], dict) else {}
        head_params = sum(int(v.numel()) for k, v in state.items() if k.startswith(f"{name}.") and isinstance(v, torch.Tensor))
        tasks.append({
            "name": str(name),
            "num_labels": int(num_labels),
            "id2label": {str(k): str(v) for k, v in dict(id2label).items()},
            "label2id": {str(k): int(v) for k, v in dict(label2id).items()},
            "layers": _head_layers(state, str(name)),
            "parameter_count": head_params,
        })
    head_config = {**DEFAULT_HEAD_CONFIG, **dict(data.get("head_config") or {})}
    facts = {
        "format": "rapidfit",
        "model_dir": str(model_dir),
        "weights_file": str(heads_file),
        "encoder": {
            **_config_facts(config),
            "parameter_count": _check_encoder_weights(encoder_dir, UNUSED_ENCODER_PREFIXES),
        },
        "pooling": str(data.get("pooling", "mean")),
        "head_config": {
            "hidden_layers": int(head_config["hidden_layers"]),
            "hidden_multiplier": float(head_config["hidden_multiplier"]),
            "activation": str(head_config["activation"]),
            "dropout": float(head_config["dropout"]),
        },
        "tasks": tasks,
        "tokenizer_dir": str(encoder_dir),
    }
    return facts, data


def inspect_sequence_classifier(model_dir: Path, task_name: str) -> dict:
    config = _read_config(model_dir)
    id2label = {str(k): str(v) for k, v in (getattr(config, "id2label", None) or {}).items()}
    label2id = {str(k): int(v) for k, v in (getattr(config, "label2id", None) or {}).items()}
    num_labels = int(getattr(config, "num_labels", len(id2label)))
    parameter_count = _check_encoder_weights(model_dir)
    return {
        "format": "hf-sequence-classification",
        "model_dir": str(model_dir),
        "weights_file": str(model_dir / "model.safetensors"),
        "encoder": {**_config_facts(config), "parameter_count": parameter_count},
        "pooling": None,
        "head_config": None,
        "tasks": [{
            "name": task_name,
            "num_labels": num_labels,
            "id2label": id2label,
            "label2id": label2id,
            "layers": [[num_labels, int(getattr(config, "hidden_size", 0) or 0)]],
            "parameter_count": None,
        }],
        "tokenizer_dir": str(model_dir),
    }


def detect_format(model_dir: Path) -> str:
    if (model_dir / "task_heads.pt").exists() or (model_dir / "encoder").exists():
        return "rapidfit"
    return "hf-sequence-classification"


def inspect_model(model_dir: Path, task_name: str | None) -> dict:
    if detect_format(model_dir) == "rapidfit":
        facts, _ = inspect_rapidfit(model_dir)
        return facts
    return inspect_sequence_classifier(model_dir, task_name or model_dir.name)


def _load_pretrained(loader, directory: Path, what: str):
    try:
        return loader.from_pretrained(str(directory), local_files_only=True, trust_remote_code=False).eval()
    except Exception as exc:  # noqa: BLE001
        raise BridgeError(
            "BAD_WEIGHTS",
            f"the {what} cannot be loaded: {str(exc).splitlines()[0][:300]}",
            file=str(directory),
        ) from None


def load_model(model_dir: Path, task_name: str | None) -> LoadedModel:
    if detect_format(model_dir) == "rapidfit":
        from transformers import AutoModel

        facts, data = inspect_rapidfit(model_dir)
        if facts["pooling"] not in POOLINGS:
            raise BridgeError("BAD_TASK_HEADS", f"unknown pooling {facts['pooling']!r}", file=facts["weights_file"])
        if facts["head_config"]["activation"] not in ACTIVATIONS:
            raise BridgeError(
                "BAD_TASK_HEADS", f"unknown head activation {facts['head_config']['activation']!r}", file=facts["weights_file"]
            )
        encoder = _load_pretrained(AutoModel, model_dir / "encoder", "encoder")
        hidden = int(encoder.config.hidden_size)
        heads = nn.ModuleDict({
            task["name"]: build_head(hidden, task["num_labels"], facts["head_config"]) for task in facts["tasks"]
        })
        try:
            heads.load_state_dict(data["task_heads"], strict=True)
        except RuntimeError as exc:
            raise BridgeError(
                "HEAD_MISMATCH",
                "head weights do not match the head config and label counts: " + " ".join(str(exc).split())[:400],
                file=facts["weights_file"],
            ) from None
        graph = MultiheadGraph(encoder, facts["pooling"], heads, [t["name"] for t in facts["tasks"]]).eval()
        return LoadedModel(facts=facts, graph=graph, tokenizer_dir=model_dir / "encoder")

    from transformers import AutoModelForSequenceClassification

    name = task_name or model_dir.name
    facts = inspect_sequence_classifier(model_dir, name)
    model = _load_pretrained(AutoModelForSequenceClassification, model_dir, "model")
    return LoadedModel(facts=facts, graph=SequenceClassifierGraph(model, name).eval(), tokenizer_dir=model_dir)
