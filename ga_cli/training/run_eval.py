"""`ga eval RUN`: a trained run against its base model on the principal's data, measured and
saved in the run's record (run.json `last_eval`) unless other pairs were scored."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ga_cli.errors import GaError
from ga_cli.progress import Report
from ga_cli.registry import Run
from ga_cli.training import compare as C
from ga_cli.training import recipe as R
from ga_cli.training.recipe import Gate

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger


@dataclass(frozen=True)
class RunEval:
    run: Run
    comparison: C.Comparison
    limits: Gate  # the recipe's gate the run was trained under

    def to_json(self) -> dict[str, Any]:
        """What run.json keeps as `last_eval` (and `ga eval --json` prints)."""
        cmp = self.comparison
        result: dict[str, Any] = {
            "run": self.run.id,
            "base": cmp.reference.brief(),
            "personal": cmp.candidate.brief(),
            "regressions": cmp.regressions,
        }
        if cmp.retention is not None:
            result["retention"] = cmp.retention.to_json()
            result["gate"] = {"limits": asdict(self.limits), "failures": cmp.gate_failures}
        if cmp.judgement is not None:
            result["generation"] = cmp.judgement.to_json()
        return result


def evaluate_run(
    run: Run,
    ledger: Ledger,
    pairs: Path | None,
    retention: bool,
    generate: bool,
    report: Report | None,
    teacher: tuple[str, str | None] | None,
) -> RunEval:
    """Score the base model and `run` side by side on the held-out split of the dataset the
    run's recipe builds (or on `pairs`); with `generate`, judge every held-out answer too."""
    from ga_cli.training import run as T

    if pairs is not None and not pairs.is_file():
        raise GaError(f"--pairs {pairs}: no such file")
    rec = R.from_run(run.info)
    built = T.dataset_for(ledger, rec.max_seq_len, run.base_path)
    cmp = C.compare(
        C.Side("base", run.base_path),
        C.Side(run.id, run.base_path, run.adapter),
        built.out,
        ledger.root,
        rec.gate,
        pairs,
        retention,
        report=report,
        generate=-1 if generate else 0,
        teacher=teacher,
    )
    measured = RunEval(run, cmp, rec.gate)
    if pairs is None:
        run.save(run.info.with_eval(measured.to_json()))
    return measured
