"""Load a model the way ga train does, with the recipe's gradient_checkpointing on and off, a
fresh LoRA and a run's adapter continued: print which layers checkpoint. Its own process:
Unsloth must not patch the test session."""

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from ga_cli.training import recipe as recipes
from ga_cli.training import trainer


def checkpointed(model) -> list[bool]:
    return sorted(
        {m.gradient_checkpointing for m in model.modules() if hasattr(m, "gradient_checkpointing")}
    )


def main() -> None:
    base, recipe_path = sys.argv[1], sys.argv[2]
    rec = recipes.load(recipe_path)
    on, off = replace(rec, gradient_checkpointing=True), replace(rec, gradient_checkpointing=False)
    seen = {}
    with tempfile.TemporaryDirectory() as tmp:
        adapter = Path(tmp) / "adapter"
        model, tok = trainer.load_model(base, on)
        seen["fresh_on"] = checkpointed(model)
        model.save_pretrained(str(adapter))
        tok.save_pretrained(str(adapter))
        seen["fresh_off"] = checkpointed(trainer.load_model(base, off)[0])
        seen["continued_on"] = checkpointed(trainer.load_model(base, on, adapter=adapter)[0])
        seen["continued_off"] = checkpointed(trainer.load_model(base, off, adapter=adapter)[0])
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
