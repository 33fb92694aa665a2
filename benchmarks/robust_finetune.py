"""Collect fine-tuning runs across randomized worlds into benchmarks/results/robustness/pick_place_robust-finetune.json.

Each run is a directory written by `simscale train pick_place --resume FILE --randomize SPEC [--action-history N] --seed S ...`
(see the "Training across worlds" section of nbs/08d_robustness.ipynb). What is recorded comes from the run's own run.json and
eval_curve.json: the worlds it trained in, what it observed, its seed, learning rate, steps and every held-out evaluation.

    python benchmarks/robust_finetune.py runs/pp-hist2-s0 runs/pp-hist2-s1 --label "preset, last 2 actions observed"
"""
import argparse, json, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simscaleai.utils import atomic_write

RESULTS = Path(__file__).resolve().parent / "results" / "robustness" / "pick_place_robust-finetune.json"

def run_record(run_dir:Path, label:str, resumed_as:str|None=None) -> dict:
    "One run's record: its label, worlds, observations, seed, lr, steps trained and held-out curve."
    meta = json.loads((run_dir / "run.json").read_text())
    curve = json.loads((run_dir / "eval_curve.json").read_text())
    if meta.get("status") != "complete": raise SystemExit(f"{run_dir}: the run is not complete (status {meta.get('status')!r})")
    import torch
    start = torch.load(meta["resumed_from"], weights_only=True)["counters"]["num_timesteps"]   # the steps the file had already trained
    hist = (meta.get("env_config") or {}).get("action_history", 0)
    resumed = meta.get("resumed_from") or ""
    if resumed_as: resumed = resumed_as                                        # a file made on the way, e.g. a stage's checkpoint
    elif "simscaleai/policies/" in resumed: resumed = "simscaleai/policies/" + resumed.split("simscaleai/policies/")[1]
    command = (f"simscale train pick_place --resume {resumed} --randomize '{json.dumps(meta.get('randomize'), separators=(',', ':'))}'"
               + (f" --action-history {hist}" if hist else "") + f" --seed {meta['seed']} --total-timesteps {meta['total_timesteps'] - start}"
               + " --stop-at none")
    return {"command": command, "label": label, "run": run_dir.name, "randomize": meta.get("randomize"),
            "action_history": (meta.get("env_config") or {}).get("action_history", 0), "seed": meta["seed"],
            "lr": meta["config"]["lr"], "resumed_from": resumed,
            "start_timesteps": start, "fine_tune_steps": meta["total_timesteps"] - start, "train_seconds": meta["train_seconds"],
            "curve": [{"timesteps": r["timesteps"], "success_rate": r["success_rate"]} for r in curve]}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="run directories of simscale train")
    p.add_argument("--label", required=True, help="what these runs are, e.g. 'preset, last 2 actions observed'")
    p.add_argument("--resumed-as", nargs="*", default=None, help="per run, what its --resume file was (when the path recorded is a temporary copy)")
    args = p.parse_args(argv)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    new = [run_record(r, args.label, None if not args.resumed_as else args.resumed_as[i]) for i, r in enumerate(args.runs)]
    names = {r["run"] for r in new}
    data["runs"] = [r for r in data.get("runs", []) if r["run"] not in names] + new   # a run collected again replaces its record
    with atomic_write(RESULTS, "w") as f: json.dump(data, f, indent=1)
    for r in new: print(f"{r['run']}: seed {r['seed']}, {r['curve'][0]['success_rate']:.0%} -> best {max(c['success_rate'] for c in r['curve']):.0%}, "
                        f"last {r['curve'][-1]['success_rate']:.0%} over {r['fine_tune_steps']:,} steps")

if __name__ == "__main__": main()
