"""GGUF to GGUF, in GGUF's own tensor space: a base file as f16, with a GGUF LoRA adapter merged
in if one is given. For a base that came from a GGUF file (a Q4 download, an Ollama blob), this
is how ga makes the f16 file evaluation scores batches on and the file `ga export --gguf` writes,
without a round trip through Hugging Face's format: the metadata (architecture, tokenizer, chat
template) is copied from the original as it is, so the exported model tokenizes exactly as the
file the principal brought. The adapter is the one llama.cpp applies at run time
(`gguf_convert.lora`), so its tensors already have the base's names and layout:
W += (alpha / r) * B @ A, as llama.cpp computes it.

Tensors are converted one at a time (memory: one tensor, not the model).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ga_cli.errors import GaError

_SKIP = ("GGUF.", "general.architecture", "general.file_type", "general.quantization_version")


def f16(
    source: Path,
    dest: Path,
    adapter: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write `source` (any GGUF llama.cpp reads) to `dest` as f16 (1-D tensors f32), with the
    GGUF LoRA `adapter` merged in. Written beside `dest`, then renamed."""
    import gguf

    reader = _read(source)
    deltas = _adapter(adapter, reader) if adapter is not None else {}
    tmp = dest.with_name(f".{dest.name}.merge.tmp")
    if progress:
        what = f"{source.name} with its adapter" if adapter else source.name
        progress(f"Writing {what} as an f16 GGUF: {dest}")
    try:
        arch = _architecture(reader, source)
        writer = gguf.GGUFWriter(tmp, arch=arch, endianess=reader.endianess)
        _copy_metadata(reader, writer)
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        for tensor in reader.tensors:
            shape, dtype = _target(tensor)
            writer.add_tensor_info(tensor.name, shape, dtype, _nbytes(shape, dtype))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for tensor in reader.tensors:
            writer.write_tensor_data(_weights(tensor, deltas.get(tensor.name)))
        writer.close()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def is_f16(source: Path) -> bool:
    """Whether every tensor of `source` is already f16/f32 (nothing to de-quantise)."""
    import gguf

    plain = {gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F32}
    return all(t.tensor_type in plain for t in _read(source).tensors)


def _read(path: Path) -> Any:
    import gguf

    try:
        return gguf.GGUFReader(path)
    except (OSError, ValueError) as exc:
        raise GaError(f"cannot read the GGUF file {path}: {exc}") from exc


def _architecture(reader: Any, path: Path) -> str:
    field = reader.get_field("general.architecture")
    if field is None:
        raise GaError(f"the GGUF file {path} names no architecture")
    return str(field.contents())


def _copy_metadata(reader: Any, writer: Any) -> None:
    import gguf

    for field in reader.fields.values():
        if field.name.startswith(_SKIP):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)


def _target(tensor: Any) -> tuple[tuple[int, ...], Any]:
    """The numpy shape (outermost first) and dtype the tensor is written with."""
    import numpy as np

    shape = tuple(int(n) for n in reversed(tensor.shape.tolist()))
    return shape, np.dtype(np.float32 if len(shape) == 1 else np.float16)


def _nbytes(shape: tuple[int, ...], dtype: Any) -> int:
    count = 1
    for n in shape:
        count *= n
    return count * dtype.itemsize


def _weights(tensor: Any, lora: tuple[Any, Any, float] | None) -> Any:
    import gguf
    import numpy as np

    shape, dtype = _target(tensor)
    data = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(shape)
    if lora is not None:  # one tensor's update at a time: (alpha / r) * B @ A
        mat_a, mat_b, scale = lora
        data = data.astype(np.float32) + scale * (mat_b @ mat_a)
    return np.ascontiguousarray(data.astype(dtype))


def _adapter(path: Path, base: Any) -> dict[str, tuple[Any, Any, float]]:
    """The adapter's low-rank factors (A, B, alpha / r) for each base tensor it touches."""
    import gguf
    import numpy as np

    reader = _read(path)
    alpha_field = reader.get_field("adapter.lora.alpha")
    alpha = float(alpha_field.contents()) if alpha_field is not None else 0.0
    parts = {t.name: t for t in reader.tensors}
    names = {t.name for t in base.tensors}
    deltas = {}
    for name, a in parts.items():
        if not name.endswith(".lora_a"):
            continue
        target = name[: -len(".lora_a")]
        b = parts.get(f"{target}.lora_b")
        if b is None or target not in names:
            raise GaError(
                f"the adapter {path} does not fit this base ({target})",
                "convert the adapter against the base it was trained on",
            )
        mat_a = gguf.quants.dequantize(a.data, a.tensor_type).reshape(_target(a)[0])
        mat_b = gguf.quants.dequantize(b.data, b.tensor_type).reshape(_target(b)[0])
        rank = mat_a.shape[0]
        scale = alpha / rank if alpha else 1.0
        deltas[target] = (mat_a.astype(np.float32), mat_b.astype(np.float32), scale)
    return deltas
