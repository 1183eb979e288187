"""LoRA SFT, then DPO on the correction pairs, with Unsloth (its CPU backend without a GPU).

`unsloth` must be imported before transformers/trl/peft in a process for its patches to apply,
so this module imports it first and is only imported by `ga train` (as its own process).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ga_cli.errors import GaError, TrainingStopped
from ga_cli.models.local import quiet_transformers

try:  # must precede transformers, trl and peft
    quiet_transformers()  # before Unsloth imports torchao and transformers
    # its import prints a banner ("no GPU found, training on CPU ...") that ga's own line
    # about the run says better; GA_DEBUG=1 shows it
    with contextlib.redirect_stdout(io.StringIO()) as _banner:
        import unsloth  # noqa: F401
        from unsloth import FastLanguageModel
    if os.environ.get("GA_DEBUG"):
        sys.stderr.write(_banner.getvalue())
except ImportError as exc:  # pragma: no cover - exercised only where unsloth is missing
    raise GaError(
        f"Unsloth is not installed ({exc})",
        "run `make install`, or: pip install --no-deps unsloth==2026.10.9 "
        "unsloth_zoo==2026.10.9 cut_cross_entropy==25.1.1",
    ) from exc

import torch
from transformers import TrainerCallback

from ga_cli.models import chat_tokens, gguf_vocab
from ga_cli.progress import Report
from ga_cli.training.data import TrlRow
from ga_cli.training.recipe import Dpo, Recipe, Sft


@dataclass
class StageResult:
    steps: int = 0
    seconds: float = 0.0
    tokens: int = 0
    final_loss: float | None = None
    losses: list[float] = field(default_factory=list)
    checkpoint_seconds: float = 0.0  # saving the epochs' adapters (checkpoints.py)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


class _Progress(TrainerCallback):
    def __init__(self, stage: str, report: Report, result: StageResult):
        self.stage, self.report, self.result = stage, report, result
        self.start = time.perf_counter()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        """The stage's first line (off a terminal) comes before its first optimiser step."""
        self.report({"stage": self.stage, "step": state.global_step, "total": state.max_steps})

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
        logs = logs or {}
        if "loss" in logs:
            self.result.losses.append(float(logs["loss"]))
        tokens = int(state.num_input_tokens_seen or 0) or int(float(logs.get("num_tokens", 0)))
        if tokens:
            self.result.tokens = tokens
        elapsed = time.perf_counter() - self.start
        self.report(
            {
                "stage": self.stage,
                "step": state.global_step,
                "total": state.max_steps,
                "loss": logs.get("loss"),
                "tokens_per_s": tokens / elapsed if elapsed else 0,
            }
        )


class _EpochCheckpoints(TrainerCallback):
    """The adapter at the end of every epoch, for checkpoints.rescue (LoRA weights only)."""

    def __init__(self, stage: str, work: Path, result: StageResult):
        self.stage, self.work, self.result = stage, work, result

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        import math

        from ga_cli.training import checkpoints

        t = time.perf_counter()
        epoch = max(1, math.ceil(round(state.epoch or 0, 4)))
        path = checkpoints.folder_for(self.work, self.stage, epoch)
        kw["model"].save_pretrained(str(path))
        epochs = max(epoch, int(state.num_train_epochs or epoch))
        saved = checkpoints.Checkpoint(self.stage, epoch, epochs, path, state.global_step)
        checkpoints.record(self.work, saved)
        self.result.checkpoint_seconds += time.perf_counter() - t


def _callbacks(stage: str, report: Report, result: StageResult, work: Path | None) -> list[Any]:
    """Progress, and (with `work`) the epoch checkpoints."""
    calls: list[Any] = [_Progress(stage, report, result)]
    return calls + ([_EpochCheckpoints(stage, work, result)] if work is not None else [])


def _common(stage_cfg: Sft | Dpo, out: Path, seed: int, steps: int | None) -> dict[str, Any]:
    cuda = torch.cuda.is_available()
    max_steps = steps or stage_cfg.max_steps or -1
    return dict(
        output_dir=str(out),
        num_train_epochs=stage_cfg.epochs,
        max_steps=max_steps,
        learning_rate=stage_cfg.learning_rate,
        per_device_train_batch_size=stage_cfg.batch_size,
        seed=seed,
        data_seed=seed,
        logging_steps=1,
        save_strategy="steps",
        save_steps=10,
        save_total_limit=2,
        report_to=[],
        disable_tqdm=True,
        gradient_checkpointing=False,
        use_cpu=not cuda,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        fp16=False,
        include_num_input_tokens_seen=True,
    )


def _dpo_loss(sft_weight: float) -> dict[str, Any]:
    """DPO's sigmoid loss, plus (RPO-style) the SFT loss on the chosen answers when weighted."""
    if not sft_weight:
        return {"loss_type": ["sigmoid"]}
    return {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, float(sft_weight)]}


def _latest_checkpoint(folder: Path) -> str | None:
    """The newest complete checkpoint: a process killed while writing one leaves a folder
    without trainer_state.json (written last), which must not be resumed from."""
    found = (
        sorted(
            (p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").is_file()),
            key=lambda p: int(p.name.split("-")[1]),
        )
        if folder.is_dir()
        else []
    )
    return str(found[-1]) if found else None


def _run(trainer: Any, folder: Path, resume: bool) -> None:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for noisy in (PrinterCallback, ProgressCallback):  # ga draws its own progress bar
        trainer.remove_callback(noisy)
    try:
        trainer.train(resume_from_checkpoint=_latest_checkpoint(folder) if resume else None)
    except KeyboardInterrupt:
        trainer._save_checkpoint(trainer.model, trial=None)  # what --resume continues from
        raise TrainingStopped(folder) from None  # a GaError: one line, exit 1


def load_model(base: str, recipe: Recipe, adapter: Path | None = None) -> tuple[Any, Any]:
    """The model to train: `base` with a fresh LoRA, or with `adapter` (a run continued). The
    recipe's gradient_checkpointing decides both ways (Unsloth's own: it recomputes each
    layer's activations on a CPU; Unsloth would turn it on for a loaded adapter by itself)."""
    checkpointing = "unsloth" if recipe.gradient_checkpointing else False
    source = str(adapter) if adapter else base
    model, tokenizer = FastLanguageModel.from_pretrained(
        source,
        max_seq_length=recipe.max_seq_len,
        load_in_4bit=False,
        dtype=None,
        use_gradient_checkpointing=checkpointing,
    )
    chat_tokens.guard(tokenizer)  # text in a training row never becomes a turn marker
    gguf_vocab.attach(tokenizer, base)  # a GGUF base: the ids llama.cpp will see at run time
    if adapter is None:
        lora = recipe.lora
        model = FastLanguageModel.get_peft_model(
            model,
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=target_modules(model, lora.target_modules),
            use_gradient_checkpointing=checkpointing,
            random_state=recipe.seed,
        )
    return model, tokenizer


# families that fuse projections (Phi-3): the recipe's names map onto the fused module
_FUSED = {"q_proj": "qkv_proj", "k_proj": "qkv_proj", "v_proj": "qkv_proj"}
_FUSED |= {"gate_proj": "gate_up_proj", "up_proj": "gate_up_proj"}


def target_modules(model: Any, wanted: list[str]) -> list[str]:
    """The recipe's LoRA targets as this model names them (Phi-3's fused qkv_proj and
    gate_up_proj stand for q/k/v and gate/up); a target the model lacks is a clear error."""
    have = {name.rsplit(".", 1)[-1] for name, m in model.named_modules() if _is_linear(m)}
    found: list[str] = []
    for name in wanted:
        mapped = name if name in have else _FUSED.get(name, name)
        if mapped not in have:
            raise GaError(
                f"the recipe's lora.target_modules names `{name}`, which this model lacks",
                f"use some of: {', '.join(sorted(have - {'lm_head'}))}",
            )
        found += [] if mapped in found else [mapped]
    return found


def _is_linear(module: Any) -> bool:
    return isinstance(module, torch.nn.Linear)


def sft_trainer(
    model: Any,
    tokenizer: Any,
    recipe: Recipe,
    rows: list[TrlRow],
    out: Path,
    steps: int | None,
    callbacks: list[Any],
) -> Any:
    """TRL's SFTTrainer on prompt/completion rows (loss on the completion only)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    cfg = SFTConfig(
        **_common(recipe.sft, out, recipe.seed, steps),
        max_length=recipe.max_seq_len,
        warmup_steps=recipe.sft.warmup_steps,
        lr_scheduler_type=recipe.sft.scheduler,
        max_grad_norm=recipe.sft.grad_clip,
        completion_only_loss=True,
    )
    return SFTTrainer(
        model=model,
        processing_class=chat_tokens.guard(tokenizer),
        args=cfg,
        train_dataset=Dataset.from_list(rows),
        callbacks=callbacks,
    )


def dpo_trainer(
    model: Any,
    tokenizer: Any,
    recipe: Recipe,
    pairs: list[TrlRow],
    out: Path,
    steps: int | None,
    callbacks: list[Any],
) -> Any:
    """TRL's DPOTrainer (the frozen reference is the adapter as it stands when DPO starts)."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    cfg = DPOConfig(
        **_common(recipe.dpo, out, recipe.seed, max(1, steps // 2) if steps else None),
        beta=recipe.dpo.beta,
        max_length=recipe.max_seq_len,
        **_dpo_loss(recipe.dpo.sft_weight),
    )
    return DPOTrainer(
        model=model,
        ref_model=None,
        processing_class=chat_tokens.guard(tokenizer),
        args=cfg,
        train_dataset=Dataset.from_list(pairs),
        callbacks=callbacks,
    )


def train(
    base: str,
    recipe: Recipe,
    sft_rows: list[TrlRow],
    pref_rows: list[TrlRow],
    work: Path,
    report: Report,
    steps: int | None = None,
    resume: bool = False,
    parent: Path | None = None,
) -> dict[str, StageResult]:
    """Train in `work` (sft/, dpo/, adapter/) on prompt/completion rows (SFT), then on
    preference rows (DPO, when the recipe enables it); returns per-stage results. `parent`: an
    adapter to continue training (an incremental run) instead of a fresh LoRA."""
    import datasets
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results: dict[str, StageResult] = {}
    saving = recipe.gate.checkpoints > 0
    sft_dir, sft_final = work / "sft", work / "sft" / "final"
    if (sft_final / "adapter_config.json").is_file():
        model, tokenizer = load_model(base, recipe, adapter=sft_final)
        done = sft_final / "ga_stage.json"  # what SFT measured before an interruption
        results["sft"] = (
            StageResult(**json.loads(done.read_text())) if done.is_file() else StageResult()
        )
    else:
        model, tokenizer = load_model(base, recipe, adapter=parent)
        if not sft_rows:
            raise GaError("the dataset has no SFT records", "add examples or corrections first")
        res = results["sft"] = StageResult()
        calls = _callbacks("sft", report, res, work if saving else None)
        trainer = sft_trainer(model, tokenizer, recipe, sft_rows, sft_dir, steps, calls)
        t = time.perf_counter()
        _run(trainer, sft_dir, resume)
        res.seconds, res.steps = time.perf_counter() - t, trainer.state.global_step
        res.final_loss = res.losses[-1] if res.losses else None
        model.save_pretrained(str(sft_final))
        tokenizer.save_pretrained(str(sft_final))
        (sft_final / "ga_stage.json").write_text(json.dumps(asdict(res)))
    if recipe.dpo.enabled and pref_rows:
        res = results["dpo"] = StageResult()
        dpo_dir = work / "dpo"
        calls = _callbacks("dpo", report, res, work if saving else None)
        trainer = dpo_trainer(model, tokenizer, recipe, pref_rows, dpo_dir, steps, calls)
        t = time.perf_counter()
        _run(trainer, dpo_dir, resume and _latest_checkpoint(dpo_dir) is not None)
        res.seconds, res.steps = time.perf_counter() - t, trainer.state.global_step
        res.final_loss = res.losses[-1] if res.losses else None
    adapter = work / "adapter"
    model.save_pretrained(str(adapter))
    tokenizer.save_pretrained(str(adapter))
    return results


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("torch", "transformers", "peft", "trl", "unsloth", "unsloth_zoo", "datasets"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "missing"
    return out
