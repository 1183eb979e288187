"""Which sampling defaults keep a small model out of loops: the degenerate-output rate of
retention.py's health check on its probe prompts, with and without a repetition penalty.

For each setting it generates, on the same model, greedy and sampled (seeded) answers to the
health probes under ga's system prompt (what `ga ask` sends without a ledger), at the terminal
answer limit, and reports the share of degenerate outputs (empty, copying the prompt, running to
the limit while repeating, stopping mid-sentence), repeated 3-grams, answers cut off by the
limit, and mean length. Also `ga ask "hi"`'s answer (greedy) under each setting.

The figures are counts of what the model wrote, not timings: they do not depend on the load.

Usage: python bench/sampling.py [--model embedded] [--max-tokens 256] [--penalties 1.0,1.1,1.2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--penalties", default="1.0,1.1,1.2,1.3")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("GA_HOME", tempfile.mkdtemp())
    from ga_cli import models
    from ga_cli.models.base import GenerationParams
    from ga_cli.prompt import conversation
    from ga_cli.training import retention as RT

    backend = models.load(args.model)
    prompts = [p["prompt"] for p in RT.health_probes()]

    def convs(qs: list[str]) -> list[list[dict[str, str]]]:
        return [conversation.prepare(backend, q, context=None).messages for q in qs]

    asked = convs(prompts)
    rows = []
    for penalty in (float(x) for x in args.penalties.split(",")):
        row: dict[str, object] = {"repetition_penalty": penalty}
        for mode, extra in (("greedy", {"temperature": 0.0}), ("sampled", RT.SAMPLED)):
            params = GenerationParams(
                max_tokens=args.max_tokens, repetition_penalty=penalty, **extra
            )
            outs = backend.generate_batch(asked, params)
            h = RT.health(outs, prompts)
            row[mode] = {
                "degenerate": h.degenerate,
                "kinds": h.degenerate_kinds,
                "repetition": h.repetition,
                "cut_off": sum(f == "length" for _, f, _ in outs) / len(outs),
                "mean_tokens": h.mean_tokens,
            }
        greedy = GenerationParams(
            temperature=0.0, max_tokens=args.max_tokens, repetition_penalty=penalty
        )
        text, finish, n = backend.generate_batch(convs(["hi"]), greedy)[0]
        row["hi"] = {"answer": text[:200], "finish": finish, "tokens": n}
        rows.append(row)
    if args.json:
        print(json.dumps({"model": backend.name, "prompts": len(prompts), "rows": rows}, indent=1))
        return
    print(f"{backend.name}: {len(prompts)} health probes, max_tokens {args.max_tokens}")
    print("penalty  mode     degenerate  repeated-3grams  cut-off  mean-tokens")
    for row in rows:
        for mode in ("greedy", "sampled"):
            m = row[mode]
            assert isinstance(m, dict)
            print(
                f"{row['repetition_penalty']:<8} {mode:<8} {m['degenerate']:<11.2f} "
                f"{m['repetition']:<16.3f} {m['cut_off']:<8.2f} {m['mean_tokens']}"
            )
        hi = row["hi"]
        assert isinstance(hi, dict)
        print(f"         hi: {hi['tokens']} tokens ({hi['finish']}): {hi['answer'][:100]!r}")


if __name__ == "__main__":
    main()
