"""Load a run's adapter the way an incremental `ga train` continues it, and a fresh LoRA the
way a full run starts: print whether the continued weights are the parent's (not a fresh
init) and trainable. Its own process: Unsloth must not patch the test session."""

import json
import sys
from pathlib import Path

from safetensors.torch import load_file

from ga_cli.training import recipe as recipes
from ga_cli.training import trainer


def lora(model) -> dict:
    return {n: p for n, p in model.named_parameters() if "lora_" in n}


def main() -> None:
    base, adapter, recipe_path = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    rec = recipes.load(recipe_path)
    continued, _ = trainer.load_model(base, rec, adapter=adapter)
    fresh, _ = trainer.load_model(base, rec)
    saved = load_file(str(adapter / "adapter_model.safetensors"))
    got, new = lora(continued), lora(fresh)

    def short(name: str) -> str:  # PEFT names parameters with the adapter name; files without
        return name.replace(".default", "")

    matched = [
        n for n in got if any(short(n).endswith(k.replace("base_model.model.", "")) for k in saved)
    ]
    same_as_saved = all(
        bool((got[n].detach().cpu() == saved[k].to(got[n].dtype)).all())
        for n in got
        for k in saved
        if short(n).endswith(k.replace("base_model.model.", ""))
    )
    lora_b = [n for n in got if "lora_B" in n]
    print(
        json.dumps(
            {
                "lora_params": len(got),
                "matched_saved": len(matched),
                "equal_to_saved": same_as_saved,
                "differs_from_fresh": any(
                    not bool((got[n].detach() == new[n].detach()).all()) for n in lora_b if n in new
                ),
                "fresh_lora_b_zero": all(bool((new[n] == 0).all()) for n in lora_b if n in new),
                "trainable": all(p.requires_grad for p in got.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
