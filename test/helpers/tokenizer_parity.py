"""Tokenizer parity helper, run in the bridge venv by the tests and bench/predict.mjs (no network).

Reads one JSON request on stdin and writes one JSON answer on stdout:

  {"command": "build", "out_dir": "...", "corpus": ["text", ...]}
      Trains real tokenizers offline with the `tokenizers` library and saves them with
      transformers' PreTrainedTokenizerFast(...).save_pretrained, as a model's tokenizer/ would be:
        unigram/   sentencepiece-style Unigram, XLM-R layout (<s> <pad> </s> <unk>, NFKC + space
                   collapsing, Metaspace "▁", "<s> $A </s>")
        bpe/       byte-level BPE, RoBERTa layout (ByteLevel, RobertaProcessing)
        bpe-left/  the same BPE, saved with padding_side="left" and truncation_side="left"
      Answers {"dirs": {"unigram": "...", ...}}.

  {"command": "encode", "jobs": [{"dir": "...", "max_length": 16, "batches": [["a", "b"], ...]}]}
      Loads each directory with AutoTokenizer and answers, per job and batch, what
      tokenizer(texts, padding=True, truncation=True, max_length=L, return_tensors="np") gives:
      {"results": [[{"input_ids": [[...]], "attention_mask": [[...]]}, ...], ...]}
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def _fast(tokenizer, **kwargs):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        **kwargs,
    )


def build_unigram(corpus: list[str], out_dir: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=600, special_tokens=[*SPECIALS, "<mask>"], unk_token="<unk>", shrinking_factor=0.75, show_progress=False
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    _fast(tokenizer, model_max_length=512).save_pretrained(str(out_dir))


def build_bpe(corpus: list[str], out_dir: Path, left_dir: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=800,
        special_tokens=[*SPECIALS, "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=1,
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", tokenizer.token_to_id("</s>")), ("<s>", tokenizer.token_to_id("<s>")), trim_offsets=True, add_prefix_space=False
    )
    _fast(tokenizer, model_max_length=512).save_pretrained(str(out_dir))
    _fast(tokenizer, model_max_length=512, padding_side="left", truncation_side="left").save_pretrained(str(left_dir))


def build(request: dict) -> dict:
    out_dir = Path(request["out_dir"])
    corpus = [str(text) for text in request["corpus"]]
    dirs = {name: out_dir / name for name in ("unigram", "bpe", "bpe-left")}
    build_unigram(corpus, dirs["unigram"])
    build_bpe(corpus, dirs["bpe"], dirs["bpe-left"])
    return {"dirs": {name: str(path) for name, path in dirs.items()}}


def encode(request: dict) -> dict:
    from transformers import AutoTokenizer

    results = []
    for job in request["jobs"]:
        tokenizer = AutoTokenizer.from_pretrained(job["dir"], local_files_only=True)
        batches = []
        for texts in job["batches"]:
            encoded = tokenizer(
                list(texts), padding=True, truncation=True, max_length=int(job["max_length"]), return_tensors="np"
            )
            batches.append(
                {
                    "input_ids": encoded["input_ids"].astype("int64").tolist(),
                    "attention_mask": encoded["attention_mask"].astype("int64").tolist(),
                }
            )
        results.append(batches)
    return {"results": results}


def main() -> None:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    answer = {"build": build, "encode": encode}[request["command"]](request)
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
