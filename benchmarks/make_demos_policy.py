"""Ship a policy trained from demonstrations: score the best policy of a benchmarks/ppo_from_demos.py run and the scripted
expert on the same 200 fresh episodes, list the episodes the expert fails and the policy solves, and write
simscaleai/policies/<name>.{pt,json} with simscaleai.pretrained.make_pretrained.

    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/make_demos_policy.py --run DIR --name pick_place_demos
"""
import argparse, json, os, platform, sys
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
from simscaleai import pretrained
from simscaleai.rl.agents.ppo import PPOAgent
from simscaleai.rl.evaluator import EvalConfig, evaluate_policy
from simscaleai.sim import make_env, scripted_policy

FRESH_SEED, N = 2_000_000, 200     # as benchmarks/ppo_from_demos.py's final evaluation
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--run", required=True, type=Path, help="the --out folder of benchmarks/ppo_from_demos.py (its best.pt ships)")
p.add_argument("--name", required=True, help="the name it ships under, e.g. pick_place_demos")
p.add_argument("--out", default=None, help="folder for the policy files (default: the package's policies/)")
a = p.parse_args()
run = json.loads((a.run / "summary.json").read_text())
task, agent = run["task"], PPOAgent.from_checkpoint(a.run / "best.pt")
env = make_env(task)
config = EvalConfig(n_episodes=N, seed=FRESH_SEED, max_steps=env.unwrapped.config.max_episode_steps, progress=False)
mine, expert = (evaluate_policy(env, f, config) for f in (agent.predict, scripted_policy(task)))   # the same episodes, one by one
wins = [FRESH_SEED + i for i, (m, e) in enumerate(zip(mine["episode_successes"], expert["episode_successes"])) if m and not e]
losses = [FRESH_SEED + i for i, (m, e) in enumerate(zip(mine["episode_successes"], expert["episode_successes"])) if e and not m]
dest = pretrained.make_pretrained(a.run / "best.pt", a.name, {
    "task": task, "algorithm": "PPO from demonstrations: actor cloned from expert demonstrations, critic warm-up, DAPG-style demonstration term",
    "seed": run["seed"], "steps": agent.num_timesteps, "command": run["command"].replace(f"--out {a.run}", "--out DIR"),
    "shipped_by": " ".join(["python", "benchmarks/make_demos_policy.py", *sys.argv[1:]]), "checkpoint": "best.pt",
    "demos": {"policy": "expert", **run["demos"]}, "pretrain": run["pretrain"], "env_steps_total": run["demos"]["steps"] + agent.num_timesteps,
    "max_episode_steps": env.unwrapped.config.max_episode_steps, "curve": run["curve"],
    "eval": {"episodes": N, "seed": FRESH_SEED, "deterministic": True, "success_rate": mine["success_rate"], "mean_reward": mine["mean_reward"],
             "expert_success_rate": expert["success_rate"], "episode_successes": [bool(s) for s in mine["episode_successes"]],
             "expert_fails_policy_solves": wins, "policy_fails_expert_solves": losses},
    "machine": f"{platform.machine()}, {os.cpu_count()} cores"}, where=a.out)
env.close()
print(f"{dest}: {mine['success_rate']:.1%} of {N} fresh episodes (expert {expert['success_rate']:.1%}); "
      f"{len(wins)} episodes the expert fails and it solves, {len(losses)} the other way")
