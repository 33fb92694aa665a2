"""Ship a policy fine-tuned across randomized worlds: evaluate it (today's world and the randomized ones, 100 held-out episodes
each), sweep it (robustness_sweep, beside today's shipped policy), write simscaleai/policies/<name>.{pt,json} with
simscaleai.pretrained.make_pretrained and the sweep to benchmarks/results/robustness/<name>.json.

    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/make_robust_policy.py --task pick_place --run runs/hist2-s1-stage2 \
        --commands "simscale train ..." "simscale train ..." --name pick_place_robust
"""
import argparse, json, os, sys
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
from simscaleai import pretrained
from simscaleai.cli import EVAL_SEED, HELD_OUT_SEED, load_agent
from simscaleai.rl.callbacks import evaluate_batched
from simscaleai.rl.robustness import SWEEP_SEED, robustness_sweep, falls_below
from simscaleai.sim import make_env
from simscaleai.utils import atomic_write

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--task", required=True, choices=["lift", "pick_place"])
p.add_argument("--run", required=True, type=Path, help="the run directory of the last fine-tuning stage (its best.pt ships)")
p.add_argument("--commands", nargs="+", required=True, help="every command that made it, in order (stages of fine-tuning)")
p.add_argument("--name", required=True, help="the name it ships under, e.g. pick_place_robust")
p.add_argument("--out", default=None, help="folder for the policy files (default: the package's policies/)")
a = p.parse_args()

meta = json.loads((a.run / "run.json").read_text())
agent = load_agent(a.run / meta["policy"])
env_config, randomize = meta.get("env_config") or {}, meta.get("randomize")
n = 100
evals = {}
for what, rnd in (("today", None), ("randomized", randomize)):
    r = evaluate_batched(a.task, agent.predict, n, HELD_OUT_SEED, randomize=rnd, env_config=env_config)
    evals[what] = {"episodes": n, "seed": HELD_OUT_SEED, "deterministic": True, "randomize": rnd, "success_rate": r["success_rate"],
                   "mean_reward": r["mean_reward"], "episode_successes": [bool(s) for s in r["episode_successes"]]}
sweeps = {a.name: robustness_sweep(a.task, agent.predict, progress=False, env_config=env_config),
          f"{a.task} (today's world only)": robustness_sweep(a.task, pretrained.load(a.task).predict, progress=False)}
results = Path(__file__).resolve().parent / "results" / "robustness" / f"{a.name}.json"
with atomic_write(results, "w") as f: json.dump(sweeps, f, indent=1)
env = make_env(a.task, **env_config)
dest = pretrained.make_pretrained(a.run / meta["policy"], a.name, {
    "task": a.task, "algorithm": "PPO, fine-tuned across randomized worlds", "seed": meta["seed"], "steps": agent.num_timesteps,
    "command": " && ".join(a.commands), "shipped_by": " ".join(["python", "benchmarks/make_robust_policy.py", *sys.argv[1:]]),
    "checkpoint": meta["policy"], "env_config": env_config, "randomize": randomize,
    "max_episode_steps": env.unwrapped.config.max_episode_steps, "best_on_held_out": meta.get("best_on_held_out"),
    "eval": evals["today"], "eval_randomized": evals["randomized"],
    "sweep": {"seed": SWEEP_SEED, "episodes": n, "file": f"benchmarks/results/robustness/{a.name}.json",
              "min_success": min(r["success_rate"] for r in sweeps[a.name]), "below_50": {k: list(v) for k, v in falls_below(sweeps[a.name], 0.5).items()}},
}, where=a.out)
env.close()
print(f"{dest}: today {evals['today']['success_rate']:.0%}, randomized {evals['randomized']['success_rate']:.0%}, "
      f"lowest sweep point {min(r['success_rate'] for r in sweeps[a.name]):.0%}")
