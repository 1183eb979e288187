"""Train only DPO (no SFT) on a dataset's preference pairs, the way `ga train` builds them,
and save the adapter. Its own process: Unsloth must not patch the test session."""

import sys
from dataclasses import replace
from pathlib import Path

from ga_cli.training import data, trainer
from ga_cli.training import recipe as recipes


def main() -> None:
    base, dataset, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    rec = recipes.load("cpu-tiny")
    rec = replace(
        rec, dpo=replace(rec.dpo, max_steps=12, learning_rate=0.002, beta=0.5, batch_size=2)
    )
    model, tok = trainer.load_model(base, rec)
    t = trainer.dpo_trainer(model, tok, rec, data.pref_rows(dataset), out / "work", None, [])
    t.train()
    model.save_pretrained(str(out / "adapter"))
    tok.save_pretrained(str(out / "adapter"))


if __name__ == "__main__":
    main()
