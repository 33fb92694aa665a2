"""Score a `simscale train` run and ship it as a pretrained policy: its best.pt and the task's scripted expert on the same
200 fresh episodes, kept with the run's eval_curve.json and run.json in benchmarks/results/cli_runs/<run folder name>/
(fresh_200.json); with --name, also simscaleai/policies/<name>.{pt,json} (simscaleai.pretrained.make_pretrained).

    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/make_cli_policy.py --run runs/push-s0 --name push
    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/make_cli_policy.py --run runs/push-s1        # scored and kept only
"""
import argparse, json, os, platform, shutil
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
from simscaleai import pretrained
from simscaleai.rl.agents.ppo import PPOAgent
from simscaleai.rl.evaluator import EvalConfig, evaluate_policy
from simscaleai.sim import make_env, scripted_policy

ROOT = Path(__file__).resolve().parent.parent
FRESH_SEED, N = 2_000_000, 200     # fresh: apart from the run's held-out evaluation episodes (seeds from 1,000,000)
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--run", required=True, type=Path, help="a run directory of `simscale train` (its best.pt ships)")
p.add_argument("--name", default=None, help="the name it ships under, e.g. push (default: score and keep only)")
p.add_argument("--command", default=None, help="the command that made the run (default: simscale train TASK --seed SEED)")
p.add_argument("--out", default=None, help="folder for the policy files (default: the package's policies/)")
a = p.parse_args()
run, curve = json.loads((a.run / "run.json").read_text()), json.loads((a.run / "eval_curve.json").read_text())
task, agent = run["env"], PPOAgent.from_checkpoint(a.run / "best.pt")
env = make_env(task)
config = EvalConfig(n_episodes=N, seed=FRESH_SEED, max_steps=env.unwrapped.config.max_episode_steps, progress=False)
mine, expert = (evaluate_policy(env, f, config) for f in (agent.predict, scripted_policy(task)))
wins = [FRESH_SEED + i for i, (m, e) in enumerate(zip(mine["episode_successes"], expert["episode_successes"])) if m and not e]
command = a.command or f"simscale train {task} --seed {run['seed']}"
fresh = {"episodes": N, "seed": FRESH_SEED, "of": "best.pt", "steps": agent.num_timesteps, "success_rate": mine["success_rate"],
         "expert_success_rate": expert["success_rate"], "expert_fails_policy_solves": wins,
         "command": f"python benchmarks/make_cli_policy.py --run {a.run}" + (f" --name {a.name}" if a.name else "")}
results = ROOT / "benchmarks" / "results" / "cli_runs" / a.run.name
results.mkdir(parents=True, exist_ok=True)
for f in ("eval_curve.json", "run.json"): shutil.copy(a.run / f, results / f)
(results / "fresh_200.json").write_text(json.dumps(fresh, indent=1) + "\n")
print(f"{task} seed {run['seed']}: best.pt ({agent.num_timesteps:,} steps) {mine['success_rate']:.1%} of {N} fresh episodes, "
      f"expert {expert['success_rate']:.1%} on the same; expert fails, policy solves: {wins}; kept in {results}")
if a.name is None: raise SystemExit(0)
dest = pretrained.make_pretrained(a.run / "best.pt", a.name, {
    "task": task, "algorithm": "PPO from scratch (the task's preset)", "seed": run["seed"], "steps": agent.num_timesteps,
    "command": command, "shipped_by": f"python benchmarks/make_cli_policy.py --run {a.run} --name {a.name}",
    "checkpoint": "best.pt", "max_episode_steps": config.max_steps, "config": run["config"],
    "best_on_held_out": run.get("best_on_held_out"), "curve": [{k: r[k] for k in ("timesteps", "success_rate", "train_s")} for r in curve],
    "eval": {"episodes": N, "seed": FRESH_SEED, "deterministic": True, "success_rate": mine["success_rate"],
             "mean_reward": mine["mean_reward"], "episode_successes": mine["episode_successes"]},
    "expert_same_episodes": {"success_rate": expert["success_rate"], "episode_successes": expert["episode_successes"]},
    "expert_fails_policy_solves": wins, "machine": f"{platform.machine()}, {os.cpu_count()} cores"}, where=a.out)
print(f"shipped {dest}")
