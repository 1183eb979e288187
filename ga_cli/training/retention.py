"""What training cost the model: drift on general prompts and generation health, against the base.

- Probe set: probes.yaml, general prompts written for ga. The base model answers each greedily
  once; those reference answers (and the base's own numbers) are cached per base model, keyed by
  the probe set, the generation settings, the model's config and tokenizer files and its weight
  files' names and sizes.
- Drift: the base's minus the personal model's mean per-token log-prob of the reference answers
  (nats/token; > 0 means the personal model finds the base's fluent answers less likely). The
  same on the principal's own example answers, where training should raise it.
- Generation health, on every HEALTH_EVERY-th probe, greedy and sampled (seeded): repetition
  (share of repeated word 3-grams), longest repeated span (words), degenerate outputs (empty,
  a copy of the prompt, stopped mid-word by the model, or running to the token limit while
  repeating itself), mean length in tokens and its ratio to the base's.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

from ga_cli import paths
from ga_cli.dataset.rows import Turn
from ga_cli.fileio import atomic_write
from ga_cli.models.base import GenerationParams
from ga_cli.progress import Report, Steps
from ga_cli.training.recipe import Gate

PROBES = Path(__file__).with_name("probes.yaml")
VERSION = 1  # bump when what is measured changes: it is part of the cache key
MAX_TOKENS = 96
HEALTH_EVERY = 3
SAMPLED: dict[str, Any] = {"temperature": 0.8, "top_p": 0.95, "seed": 1234}
MAX_EXAMPLES = 64


@dataclass(frozen=True)
class Health:
    """Generation health of one model on the health probes, in one mode (greedy or sampled)."""

    outputs: int
    repetition: float  # share of repeated word 3-grams
    longest_repeat: int  # words
    degenerate: float  # share of degenerate outputs
    degenerate_kinds: dict[str, int]
    mean_tokens: float
    samples: list[dict[str, Any]]  # up to three degenerate outputs: prompt, answer, why


@dataclass(frozen=True)
class HealthChange:
    base: Health
    personal: Health
    length_ratio: float | None  # personal's mean length / base's


@dataclass(frozen=True)
class LogprobDrift:
    """Mean per-token log-prob (nats) of the same answers under each model."""

    base: float | None
    personal: float | None


@dataclass(frozen=True)
class ExampleDrift:
    count: int
    base: float | None
    personal: float | None
    drift: float | None


@dataclass(frozen=True)
class Retention:
    """What training cost: `measure`'s result; `to_json()` is what run.json and --json keep."""

    probes: int
    health_prompts: int
    max_tokens: int
    probe_logprob: LogprobDrift
    drift: float | None  # on the general probes; None for a blown-up model
    examples: ExampleDrift | None  # on the principal's own examples, when there are any
    health: dict[str, HealthChange]  # "greedy", "sampled"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@cache
def probes() -> list[dict[str, str]]:
    from ruamel.yaml import YAML

    areas = YAML(typ="safe").load(PROBES.read_text(encoding="utf-8"))
    return [
        {"id": f"{area}-{i}", "area": area, "prompt": p}
        for area, prompts in areas.items()
        for i, p in enumerate(prompts, 1)
    ]


def health_probes() -> list[dict[str, str]]:
    return probes()[::HEALTH_EVERY]


def user_turn(prompt: str) -> list[dict[str, str]]:
    """A conversation of one user message and no system message: the base model's own format."""
    return [{"role": "user", "content": prompt}]


def cache_key(model_path: str, source: Path = PROBES, settings: Any = None) -> str:
    """Names what a base model made from `source` with `settings`, so a change to either, or
    another model, never reads a stale cache."""
    settings = [VERSION, MAX_TOKENS, HEALTH_EVERY, SAMPLED] if settings is None else settings
    h = hashlib.sha256(json.dumps(settings).encode())
    h.update(source.read_bytes())
    folder = Path(model_path)
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.suffix == ".json" or f.name.endswith(".jinja"):
                h.update(f.name.encode() + f.read_bytes())
            elif f.suffix in (".safetensors", ".bin", ".gguf"):
                h.update(f"{f.name}:{f.stat().st_size}".encode())
    else:  # a Hugging Face id resolved from the local cache
        h.update(model_path.encode())
    return h.hexdigest()[:16]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def mean_logprob(
    backend: Any,
    rows: list[tuple[list[dict[str, str]], str]],
    step: Callable[[], None] | None = None,
) -> float:
    """The mean over answers of each answer's mean per-token log-prob."""
    means = []
    for msgs, answer in rows:
        means.append(_mean(backend.answer_logprobs(msgs, answer)))
        if step is not None:
            step()
    return _mean(means)


# -- generation health -----------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text.lower())


def repetition(text: str) -> float:
    """Share of word 3-grams that repeat an earlier one (0 = none, near 1 = a loop)."""
    w = _words(text)
    grams = [tuple(w[i : i + 3]) for i in range(len(w) - 2)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def longest_repeat(text: str) -> int:
    """Length in words of the longest span that occurs twice."""
    w = _words(text)
    best = 0
    for k in range(1, len(w)):
        seen, found = set(), False
        for i in range(len(w) - k + 1):
            gram = tuple(w[i : i + k])
            if gram in seen:
                found = True
                break
            seen.add(gram)
        if not found:
            break
        best = k
    return best


def degenerate(text: str, finish: str, prompt: str) -> str | None:
    """Why an output is degenerate, or None."""
    body = text.strip()
    if not re.search(r"\w", body):
        return "empty"
    norm = " ".join(_words(body))
    if len(norm) > 8 and norm.startswith(" ".join(_words(prompt))):
        return "copies the prompt"
    if finish == "length" and repetition(body) >= 0.5:
        return "runs on repeating"
    if finish == "stop" and len(_words(body)) > 3 and re.search(r"[A-Za-z,:;(\-]$", body):
        return "stops mid-sentence"
    return None


def health(outputs: list[tuple[str, str, int]], prompts: list[str]) -> Health:
    why = [degenerate(t, f, p) for (t, f, _), p in zip(outputs, prompts)]
    bad = [w for w in why if w]
    return Health(
        outputs=len(outputs),
        repetition=round(_mean([repetition(t) for t, _, _ in outputs]), 4),
        longest_repeat=max((longest_repeat(t) for t, _, _ in outputs), default=0),
        degenerate=round(len(bad) / len(outputs), 4) if outputs else 0.0,
        degenerate_kinds={k: bad.count(k) for k in sorted(set(bad))},
        mean_tokens=round(_mean([float(n) for _, _, n in outputs]), 1),
        samples=[
            {"prompt": p, "answer": t[:240], "why": w}
            for (t, _, _), p, w in zip(outputs, prompts, why)
            if w
        ][:3],
    )


def _generate(backend: Any, step: Callable[[], None] | None = None) -> dict[str, Health]:
    prompts = [p["prompt"] for p in health_probes()]
    convs = [user_turn(p) for p in prompts]
    out = {}
    for mode, params in (
        ("greedy", GenerationParams(temperature=0.0, max_tokens=MAX_TOKENS)),
        ("sampled", GenerationParams(max_tokens=MAX_TOKENS, **SAMPLED)),
    ):
        out[mode] = health(backend.generate_batch(convs, params), prompts)
        if step is not None:
            step()
    return out


# -- the base side, cached ---------------------------------------------------------------------
def cached(folder: str, key: str, make: Callable[[], Any]) -> Any:
    """make()'s JSON-able result, kept in the cache as folder/key.json: made once per key."""
    path = paths.cache_dir() / folder / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    found = make()
    atomic_write(path, (json.dumps(found, indent=1, ensure_ascii=False) + "\n").encode())
    return found


def references(backend: Any, report: Report | None = None) -> dict[str, Any]:
    """The base model's answers to the probes and its own numbers, computed once per base model
    (with the adapter switched off) and cached."""
    key = cache_key(backend.model_path)

    def make() -> dict[str, Any]:
        convs = [user_turn(p["prompt"]) for p in probes()]
        # ETA weights, measured on a 2-core CPU: generating the probes' answers takes about as
        # long as 2 log-prob passes over them, each health batch about as long as one
        gen_weight, health_weight = 2 * len(convs), len(convs)
        step = Steps(
            report,
            "base model: reference answers (once)",
            gen_weight + len(convs) + 2 * health_weight,
        )
        with backend.base_only():
            answers = [
                t
                for t, _, _ in backend.generate_batch(
                    convs, GenerationParams(temperature=0.0, max_tokens=MAX_TOKENS)
                )
            ]
            step(gen_weight)
            return {
                "key": key,
                "model_path": backend.model_path,
                "max_tokens": MAX_TOKENS,
                "answers": [
                    {"id": p["id"], "prompt": p["prompt"], "answer": a}
                    for p, a in zip(probes(), answers)
                ],
                "logprob": mean_logprob(backend, list(zip(convs, answers)), step),
                "health": {
                    m: asdict(h) for m, h in _generate(backend, lambda: step(health_weight)).items()
                },
            }

    return cached("probes", key, make)


def measure(backend: Any, examples: list[Turn], report: Report | None = None) -> Retention:
    """Base vs this model: drift on the probes and on the principal's examples, and health.
    `examples` are sft.jsonl rows ({messages: [..., assistant]})."""
    ref = references(backend, report)
    rows = [(user_turn(a["prompt"]), a["answer"]) for a in ref["answers"]]
    ex_rows = [(r["messages"][:-1], r["messages"][-1]["content"]) for r in examples[:MAX_EXAMPLES]]
    base_health = {m: Health(**h) for m, h in ref["health"].items()}
    personal = backend.adapter is not None
    health_weight = len(rows)  # one health batch takes about one log-prob pass over the probes
    total = len(ex_rows) + (len(rows) + len(ex_rows) + 2 * health_weight if personal else 0)
    step = Steps(report, "retention: drift and generation health", total)
    if not personal:
        personal_lp, ex_personal, gen = ref["logprob"], None, base_health
    else:
        personal_lp = mean_logprob(backend, rows, step)
        ex_personal = mean_logprob(backend, ex_rows, step) if ex_rows else None
        gen = _generate(backend, lambda: step(health_weight))
    ex_base = None
    if ex_rows:
        with backend.base_only():
            ex_base = mean_logprob(backend, ex_rows, step)
    ex_personal = ex_base if ex_personal is None else ex_personal
    health_changes = {}
    for mode in ("greedy", "sampled"):
        b, p = base_health[mode], gen[mode]
        ratio = p.mean_tokens / b.mean_tokens if b.mean_tokens else float("nan")
        health_changes[mode] = HealthChange(b, p, _r(ratio))
    return Retention(
        probes=len(rows),
        health_prompts=len(health_probes()),
        max_tokens=MAX_TOKENS,
        probe_logprob=LogprobDrift(_r(ref["logprob"]), _r(personal_lp)),
        drift=_r(ref["logprob"] - personal_lp),
        examples=None
        if not ex_rows
        else ExampleDrift(
            len(ex_rows),
            _r(ex_base),
            _r(ex_personal),
            _r(ex_base - ex_personal) if ex_base is not None and ex_personal is not None else None,
        ),
        health=health_changes,
    )


def _r(x: float | None) -> float | None:
    """Rounded; None for a missing or non-finite number (a blown-up model), so JSON stays valid."""
    return None if x is None or not math.isfinite(x) else round(x, 4)


# -- the gate ------------------------------------------------------------------------------------
def gate(result: Retention, limits: Gate) -> list[str]:
    """Every threshold of the recipe's `gate` the result fails, each naming its number."""
    fails = []

    def bad(x: float | None) -> bool:
        return x is None or not math.isfinite(x)

    drift = result.drift
    if drift is None or bad(drift) or drift > limits.max_drift:
        fails.append(
            f"drift on general prompts {_n(drift)} nats/token > gate.max_drift {limits.max_drift}"
        )
    for mode, h in result.health.items():
        rep = h.personal.repetition - h.base.repetition
        if bad(rep) or rep > limits.max_repetition_rise:
            fails.append(
                f"{mode} repetition rose {_n(rep)} ({h.base.repetition:.2f} -> "
                f"{h.personal.repetition:.2f}) > gate.max_repetition_rise "
                f"{limits.max_repetition_rise}"
            )
        deg = h.personal.degenerate - h.base.degenerate
        if deg > limits.max_degenerate_rise:
            fails.append(
                f"{mode} degenerate outputs rose {deg:.2f} ({h.base.degenerate:.2f}"
                f" -> {h.personal.degenerate:.2f}) > gate.max_degenerate_rise "
                f"{limits.max_degenerate_rise}"
            )
        ratio = h.length_ratio
        if (
            ratio is None
            or bad(ratio)
            or not limits.min_length_ratio <= ratio <= limits.max_length_ratio
        ):
            fails.append(
                f"{mode} length ratio {_n(ratio)} outside gate.min_length_ratio.."
                f"max_length_ratio [{limits.min_length_ratio}, "
                f"{limits.max_length_ratio}]"
            )
    return fails


def _n(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"
