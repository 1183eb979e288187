"""GGUF files for llama.cpp, made with llama.cpp's own converters.

- `lora(adapter, base)`: a LoRA adapter folder (PEFT) as a GGUF adapter, made once, next to the
  adapter (`<run>/adapter-gguf/lora-f16.gguf`); llama.cpp applies it on top of the base GGUF.
- `base_for(folder, exact)`: the GGUF llama.cpp runs for a base model folder — the embedded
  model's own file (Q4_1), the GGUF a base came from, else (or when `exact`) the model as f16,
  made once in the cache (a GGUF base from its own file, by `gguf_merge`).
- `model(folder, dest, quant)`: a whole Hugging Face folder as one GGUF file (f16, q8_0, or
  q4_k_m through llama.cpp's quantizer): what `ga export --gguf` writes.

The converters (`convert_lora_to_gguf.py`, `convert_hf_to_gguf.py` and the `conversion/` and
`gguf-py/` packages beside them) come from the llama-cpp-python source distribution that `make
install` builds, unpacked into `<venv>/share/llama.cpp`; GA_LLAMA_CPP_CONVERTERS points at
another copy (a llama.cpp checkout). They run offline, in a child process.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.fileio import cachefill

CONVERTERS_ENV = "GA_LLAMA_CPP_CONVERTERS"
LORA_FILE = "lora-f16.gguf"
QUANTS = ("f16", "q8_0", "q4_k_m")
_INSTALL = f"run `make install` (it unpacks them from llama-cpp-python), or set {CONVERTERS_ENV}"


def converters() -> Path | None:
    """The folder holding llama.cpp's converter scripts, or None."""
    found = os.environ.get(CONVERTERS_ENV)
    for folder in ([Path(found)] if found else []) + [Path(sys.prefix) / "share" / "llama.cpp"]:
        if (folder / "convert_lora_to_gguf.py").is_file():
            return folder
    return None


def can_convert() -> bool:
    return converters() is not None


def _convert(script: str, args: list[str], what: str) -> None:
    folder = converters()
    if folder is None:
        raise GaError(f"{what} needs llama.cpp's GGUF converters, and none were found", _INSTALL)
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}  # their own gguf-py
    done = subprocess.run(
        [sys.executable, str(folder / script), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        raise GaError(f"{what} failed: {lines[-1] if lines else f'exit {done.returncode}'}")


def lora(adapter: Path, base: str, progress: Callable[[str], None] | None = None) -> Path:
    """The adapter as a GGUF LoRA for llama.cpp (f16), converted once and kept beside it
    (`adapter` -> `adapter-gguf`; each folder of a run's checkpoints gets its own)."""
    target = Path(adapter).parent / f"{Path(adapter).name}-gguf"

    def make(tmp: Path) -> None:
        if progress:
            progress("Converting the adapter to GGUF for llama.cpp (once, seconds)…")
        _convert(
            "convert_lora_to_gguf.py",
            ["--base", base, "--outtype", "f16", "--outfile", str(tmp / LORA_FILE), str(adapter)],
            f"converting the adapter {adapter} to GGUF",
        )

    cachefill.fill_dir(target, make, ready=lambda t: (t / LORA_FILE).is_file())
    return target / LORA_FILE


def base_for(
    folder: str, exact: bool = False, progress: Callable[[str], None] | None = None
) -> Path:
    """The GGUF llama.cpp runs for this base model folder: the embedded model's shipped file
    (Q4_1, fastest for one conversation), or the GGUF a base folder was converted from, unless
    `exact`, else the folder made once into f16
    under the cache (the weights as trained; fastest for batches on a CPU)."""
    from ga_cli.models import embedded, gguf_base

    if is_embedded(folder) and not exact:
        return embedded.gguf_path()
    source = gguf_base.source_of(folder)
    if source is not None:  # a GGUF base: the file it came from, or that file as f16
        return source if not exact else _f16_of(source, progress)
    src = Path(folder).expanduser().resolve()
    if not (src / "config.json").is_file():
        raise GaError(f"{folder} is not a model folder (no config.json)")
    stamp = f"{src}|{(src / 'config.json').stat().st_mtime_ns}".encode()
    target = paths.cache_dir() / "gguf" / f"{src.name}-{hashlib.sha256(stamp).hexdigest()[:12]}"

    def make(tmp: Path) -> None:
        if progress:
            progress(f"Converting {folder} to an f16 GGUF for llama.cpp (once): {target}")
        model(src, tmp / "model-f16.gguf", "f16")

    cachefill.fill_dir(target, make, ready=lambda t: (t / "model-f16.gguf").is_file())
    return target / "model-f16.gguf"


def _f16_of(source: Path, progress: Callable[[str], None] | None) -> Path:
    """A GGUF base as f16 (the weights transformers trained on), made once from the file
    itself (its own tokenizer and metadata kept); the file when it is f16 already."""
    from ga_cli.models import gguf_merge

    if gguf_merge.is_f16(source):
        return source
    name = f"{source.stem[:60]}-{cachefill.file_key(source.absolute())}"
    target = paths.cache_dir() / "gguf" / name

    def make(tmp: Path) -> None:
        gguf_merge.f16(source, tmp / "model-f16.gguf", progress=progress)

    cachefill.fill_dir(target, make, ready=lambda t: (t / "model-f16.gguf").is_file())
    return target / "model-f16.gguf"


def is_embedded(spec: str) -> bool:
    """Whether this spec is the embedded model: `embedded`, or its converted folder (either way
    its GGUF is the shipped file)."""
    from ga_cli.models import embedded

    if spec == "embedded":
        return True
    try:
        return Path(spec).expanduser().resolve() == embedded.converted_dir().resolve()
    except OSError:
        return False


def model(folder: Path, dest: Path, quant: str = "f16") -> Path:
    """A Hugging Face model folder as one GGUF file at `dest` (written whole, then renamed)."""
    check_quant(quant)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # the converter writes f16 and q8_0 itself; k-quants come from llama.cpp's quantizer
    converted = dest.with_name(f".{dest.name}.convert.tmp")
    quantized = dest.with_name(f".{dest.name}.quantize.tmp")
    try:
        outtype = "f16" if quant == "q4_k_m" else quant
        with _byte_level_view(Path(folder)) as source:
            _convert(
                "convert_hf_to_gguf.py",
                [str(source), "--outtype", outtype, "--outfile", str(converted)],
                f"converting {folder} to GGUF",
            )
        if quant == "q4_k_m":
            quantize(converted, quantized, quant)
            os.replace(quantized, dest)
        else:
            os.replace(converted, dest)
    finally:
        converted.unlink(missing_ok=True)
        quantized.unlink(missing_ok=True)
    return dest


@contextmanager
def _byte_level_view(folder: Path) -> Iterator[Path]:
    """The folder as the converter should read it. A tokenizer that transformers rebuilt from
    a GGUF (the embedded model's) is byte-level BPE marked `byte_fallback` with a sentencepiece
    decoder in front; byte-level BPE never falls back to bytes, but the converter takes that
    flag for a Llama sentencepiece vocabulary and writes one that llama.cpp cannot run. The
    view (links to the folder's files) carries the plain byte-level form: the same ids."""
    tokenizer = folder / "tokenizer.json"
    data = json.loads(tokenizer.read_text(encoding="utf-8")) if tokenizer.is_file() else {}
    model, pre = data.get("model") or {}, data.get("pre_tokenizer") or {}
    if not (model.get("type") == "BPE" and model.get("byte_fallback") and _byte_level(pre)):
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="ga-gguf-") as tmp:
        view = Path(tmp)
        for f in folder.iterdir():
            if f.name != "tokenizer.json":
                (view / f.name).symlink_to(f.resolve())
        model["byte_fallback"] = False
        data["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True}
        data["decoder"]["use_regex"] = True
        (view / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")
        yield view


def _byte_level(pre: dict[str, Any]) -> bool:
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else [pre]
    return any(s.get("type") == "ByteLevel" for s in steps or [])


def check_quant(quant: str) -> None:
    """Refuse an unknown quantization before any work is done."""
    if quant not in QUANTS:
        raise GaError(
            f"unknown quantization `{quant}` (--quant)", f"choose one of {', '.join(QUANTS)}"
        )


def quantize(src: Path, dest: Path, quant: str) -> None:
    """llama.cpp's quantizer, in this process (llama_model_quantize)."""
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quant.upper()}")
    params.nthread = os.cpu_count() or 1
    from llama_cpp._utils import suppress_stdout_stderr

    with suppress_stdout_stderr(disable=False):  # the C code logs every tensor to stderr
        failed = llama_cpp.llama_model_quantize(
            str(src).encode(), str(dest).encode(), ctypes.byref(params)
        )
    if failed:
        raise GaError(f"llama.cpp could not quantize {src} to {quant}")
