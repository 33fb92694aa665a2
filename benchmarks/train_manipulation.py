"""PPO on lift and pick_place: learning curves of deterministic success, steps to 50/80/90/95%, wall-clock, peak memory.

    python benchmarks/train_manipulation.py --task lift --seed 0                  # PPOConfig.preset("lift"), 1M steps
    python benchmarks/train_manipulation.py --task pick_place --seed 1 --budget 5000000
    python benchmarks/train_manipulation.py --task lift --seed 0 --config default # the spec's PPOConfig() instead
    python benchmarks/train_manipulation.py --task lift --seed 0 --set gamma=0.95  # an ablation of one preset value

A thin caller of the package: the evaluation during training is simscaleai.rl.callbacks.EvalCallback, the one `simscale train`
uses. Every --eval-every env steps (at the next update boundary) the deterministic policy runs --eval-episodes evaluation
episodes, reset seeds --eval-seed + i (1,000,000 + i by default: training resets draw their seeds from
SeedSequence([seed, env, episode]), so the two sets do not meet), success judged at the last step, as `simscale eval` does.
Evaluation time is not training time (agent.history["time_s"] leaves callbacks out). What this script adds to `simscale
train`: the --set ablations of one preset value, the summary of steps to 50/80/90/95%, and peak memory.

Writes into --out (default benchmarks/results/<task>-<config>-s<seed>/, a new directory; an existing one is refused):
  curve.json        every evaluation: env steps, success rate, mean return, training seconds (the PPO chapter's format)
  eval_curve.json   the same evaluations as EvalCallback writes them (as in a `simscale train` run directory)
  summary.json      steps and training seconds to the first evaluation >= 50/80/90/95%, the best success, peak memory
  best.pt           the agent at its best evaluation (first of equals), resumable exactly (optimizer, episodes in progress)
  final.pt          the agent at the end
With --stop-at X training ends at the first evaluation >= X (default: run the whole budget). Ctrl-C, `kill -INT` or
`kill -TERM` end it at the next update boundary (PPOAgent.train's checkpoint: final.pt then resumes exactly; a second
Ctrl-C ends it at once), and summary.json is still written from the evaluations so far. This holds for a run started in the
background with `&` too, where the shell makes the process ignore SIGINT: train() installs its own handler.
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
import argparse, json, platform, resource, sys, time
from pathlib import Path

import torch
from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.rl.agents.long_runs import TrainingInterrupted
from simscaleai.rl.callbacks import EvalCallback
from simscaleai.utils import atomic_write

THRESHOLDS = (0.5, 0.8, 0.9, 0.95)

def parse_value(text:str):
    "FIELD=VALUE's value: int, float, bool or None when it reads as one, else the string."
    for conv in (int, float):
        try: return conv(text)
        except ValueError: pass
    return {"True": True, "False": False, "None": None}.get(text, text)

def make_config(task:str, which:str, seed:int, overrides:list) -> PPOConfig:
    sets = {}
    for item in overrides:
        if "=" not in item: raise SystemExit(f"--set takes FIELD=VALUE, got {item!r}")
        k, v = item.split("=", 1); sets[k] = parse_value(v)
    base = dict(seed=seed, progress_bar=False, checkpoint_every=None, checkpoint_every_s=None)
    if which == "preset": return PPOConfig.preset(task, **base, **sets)
    return PPOConfig(**base, **sets)

def write_json(path:Path, obj):
    with atomic_write(path, "w") as f: json.dump(obj, f, indent=1)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["lift", "pick_place"], required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", choices=["preset", "default"], default="preset", help="PPOConfig.preset(task) or the spec's PPOConfig()")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a PPOConfig field")
    p.add_argument("--budget", type=int, default=None, help="env steps (default: the preset's total_timesteps, 1M for --config default)")
    p.add_argument("--eval-every", type=int, default=50_000)
    p.add_argument("--eval-episodes", type=int, default=100)
    p.add_argument("--eval-seed", type=int, default=1_000_000)
    p.add_argument("--stop-at", type=float, default=None)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--env-workers", type=int, default=None, help="PPOConfig.env_workers (threads; results do not depend on it)")
    p.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR[/CHECKPOINT.pt]",
                   help="continue an earlier run of this script from RUN_DIR/best.pt, or from the checkpoint named (e.g. "
                        "RUN_DIR/final.pt): its weights, optimizer, normalisers, counters and episodes in progress (a best.pt "
                        "written before PPO's callback recorded them has none: those episodes restart; a final.pt of a run stopped "
                        "by a second Ctrl-C is not exact either: it lands inside a rollout, whose steps are counted but not "
                        "learned from); keeps the run's curve up to that point")
    a = p.parse_args(argv)
    config = make_config(a.task, a.config, a.seed, a.set)
    if a.env_workers is not None: config.env_workers = a.env_workers
    budget = a.budget or config.total_timesteps
    tag = a.config + "".join(f"-{s.replace('=', '')}" for s in a.set)
    out = a.out or Path(__file__).parent / "results" / f"{a.task}-{tag}-s{a.seed}"
    if a.resume is not None:      # checked before anything is written
        ckpt = a.resume if a.resume.suffix == ".pt" else a.resume / "best.pt"
        if not ckpt.is_file(): p.error(f"--resume: no checkpoint at {ckpt}")
        a.resume = ckpt.parent
    out.mkdir(parents=True, exist_ok=False)     # never write over another run's results
    torch.set_num_threads(1)
    env = make_env(a.task)
    agent = PPOAgent.for_env(env, config)
    old_curve = []
    if a.resume is not None:      # the agent and its optimizer as they were at that checkpoint
        agent = PPOAgent.from_checkpoint(ckpt)
        agent.config.env_workers, agent.config.progress_bar = config.env_workers, False
        old_curve = [r for r in json.loads((a.resume / "curve.json").read_text()) if r["steps"] <= agent.num_timesteps]
        budget -= agent.num_timesteps
    evaluation = EvalCallback(a.task, a.eval_every, a.eval_episodes, a.eval_seed, best_path=out / "best.pt",
                              curve_path=out / "eval_curve.json", stop_at=a.stop_at, verbose=False)
    t0 = time.time()

    curve = list(old_curve)
    def chapter_curve(agent):     # curve.json in the format the PPO chapter reads, after each new evaluation
        for r in evaluation.curve:
            if curve and r["timesteps"] <= curve[-1]["steps"]: continue
            curve.append(dict(steps=r["timesteps"], success=r["success_rate"], mean_reward=r["mean_reward"], train_s=r["train_s"],
                              wall_s=time.time() - t0))
            print(f"{a.task} {tag} seed {a.seed}: {r['timesteps']:>8,} steps  success {r['success_rate']:.0%}  "
                  f"return {r['mean_reward']:.1f}  train {r['train_s']:.0f}s", flush=True)
            write_json(out / "curve.json", curve)

    stopped_by_hand = False
    try: agent.train(env, total_timesteps=budget, callback=[evaluation, chapter_curve], checkpoint=out / "final.pt")
    except TrainingInterrupted: stopped_by_hand = True    # Ctrl-C / kill: keep what was measured, write the summary
    except KeyboardInterrupt:                             # a second Ctrl-C, inside a rollout: train() wrote nothing
        stopped_by_hand = True; agent.save(out / "final.pt")
    if not stopped_by_hand: evaluation.finish(agent); chapter_curve(agent)
    evaluation.close()
    first = {f"{t:.0%}": next(((r["steps"], round(r["train_s"], 1)) for r in curve if r["success"] >= t), None) for t in THRESHOLDS}
    summary = dict(task=a.task, seed=a.seed, config=tag, budget=budget, overrides=a.set, stopped_by_hand=stopped_by_hand,
                   ppo_config={k: v for k, v in vars(agent.config).items()}, resumed_from=None if a.resume is None else str(ckpt),
                   steps_and_train_s_to=first, best_success=max(r["success"] for r in curve), final_success=curve[-1]["success"],
                   steps=agent.num_timesteps, train_s=agent.history["time_s"][-1], wall_s=time.time() - t0,
                   eval_s=float(sum(r["seconds"] for r in evaluation.curve)),
                   peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   eval=dict(episodes=a.eval_episodes, seed=a.eval_seed, every=a.eval_every, deterministic=True),
                   command="python " + " ".join([sys.argv[0], *(argv or sys.argv[1:])]),
                   machine=dict(python=platform.python_version(), torch=torch.__version__, cpus=os.cpu_count()))
    write_json(out / "summary.json", summary)
    print(json.dumps({k: summary[k] for k in ("steps_and_train_s_to", "best_success", "final_success", "train_s", "eval_s", "peak_rss_mib")}))

if __name__ == "__main__":
    main()
