"""Tokenize rows the way `ga train` does (TRL's trainers under Unsloth) and count control tokens.

Run as its own process: Unsloth patches transformers when imported, which must not leak into the
rest of the test session. Prints JSON: control tokens per tokenized SFT row and DPO side.
"""

import json
import sys
import tempfile
from pathlib import Path

from ga_cli.models.chat_tokens import control_ids
from ga_cli.training import recipe as recipes
from ga_cli.training import trainer


def main() -> None:
    base, rows_file = sys.argv[1], Path(sys.argv[2])
    spec = json.loads(rows_file.read_text())
    rec = recipes.load("cpu-tiny")
    model, tok = trainer.load_model(base, rec)
    ctl = control_ids(tok)
    out = {}
    with tempfile.TemporaryDirectory() as work:
        sft = trainer.sft_trainer(model, tok, rec, spec["sft"], Path(work) / "sft", 1, [])
        out["sft"] = [sum(i in ctl for i in ids) for ids in sft.train_dataset["input_ids"]]
        dpo = trainer.dpo_trainer(model, tok, rec, spec["prefs"], Path(work) / "dpo", 1, [])
        ds = dpo.train_dataset
        out["dpo_prompt"] = [sum(i in ctl for i in ids) for ids in ds["prompt_ids"]]
        out["dpo_chosen"] = [sum(i in ctl for i in ids) for ids in ds["chosen_ids"]]
        out["dpo_rejected"] = [sum(i in ctl for i in ids) for ids in ds["rejected_ids"]]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
