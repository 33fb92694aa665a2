"""How good is the start? The deterministic success of PPOAgent.from_demos' clone (PPO's own network fitted to expert
demonstrations) on 100 held-out episodes, for the network's inputs and units, over seeds; then, for the <task>_demos preset's
network, its success when its actions carry PPO's Gaussian exploration noise of each initial log-std (on every action
dimension, or on the three position dimensions only). Writes one JSON.

    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/from_demos_start.py --task pick_place --seeds 0 1 2 --out FILE
"""
import argparse, json, os, platform, sys, tempfile, time
import numpy as np
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
from simscaleai.imitation import record_demos
from simscaleai.rl.agents.ppo import PPOAgent
from simscaleai.rl.agents.config import PPOConfig
from simscaleai.rl.callbacks import evaluate_batched
from simscaleai.utils import atomic_write

NETWORKS = {"tanh": dict(activation="tanh", relative_features=False),           # PPO's default network
            "tanh+offsets": dict(activation="tanh", relative_features=True),
            "relu+offsets": dict(activation="relu", relative_features=True)}     # pick_place_demos
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--task", default="pick_place", choices=["lift", "pick_place"])
p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="demonstrations reset with 10,000 * seed + i; the fit uses the seed too")
p.add_argument("--demos", type=int, default=None, help="expert demonstrations (default 25 lift / 100 pick_place, as benchmarks/ppo_from_demos.py)")
p.add_argument("--log-stds", type=float, nargs="*", default=[-4.0, -3.0, -2.5, -2.0, -1.0, 0.0], help="initial log-stds of the noise sweep")
p.add_argument("--out", required=True, help="JSON file to write")
a = p.parse_args()
n = a.demos or {"lift": 25, "pick_place": 100}[a.task]
rows, noise_rows = [], []
def noisy(agent, log_std:float, dims:slice, seed:int):
    "The clone's mean action plus N(0, exp(log_std)^2) on `dims`, clipped to the action box: what PPO's first rollouts send."
    rng = np.random.default_rng(seed)
    def act(obs):
        u = agent.predict(obs)
        u[..., dims] += np.exp(log_std) * rng.standard_normal(u[..., dims].shape)
        return np.clip(u, agent.action_low, agent.action_high)
    return act
with tempfile.TemporaryDirectory() as tmp:
    for seed in a.seeds:
        demos = record_demos(a.task, n, 10_000 * seed, Path(tmp) / f"demos-{seed}", progress=False)
        for name, net in NETWORKS.items():
            t0 = time.process_time()
            agent = PPOAgent.from_demos(demos, a.task, PPOConfig.preset(f"{a.task}_demos", **net, seed=seed, progress_bar=False))
            fit_cpu = time.process_time() - t0
            r = evaluate_batched(a.task, agent.predict, 100, 1_000_000)
            rows.append({"seed": seed, "network": name, **net, "success_rate": r["success_rate"], "fit_cpu_s": fit_cpu,
                         **{k: agent.pretrain[k] for k in ("fit_val_loss", "fit_epochs", "demo_episodes")}})
            print(f"seed {seed} {name:13s} {r['success_rate']:.0%}", flush=True)
        agent = PPOAgent.from_demos(demos, a.task, PPOConfig.preset(f"{a.task}_demos", seed=seed, progress_bar=False))
        for log_std in a.log_stds:
            for where, dims in (("all", slice(None)), ("xyz", slice(0, 3))):
                r = evaluate_batched(a.task, noisy(agent, log_std, dims, seed), 100, 1_000_000)
                noise_rows.append({"seed": seed, "log_std": log_std, "sigma": float(np.exp(log_std)), "noise_on": where, "success_rate": r["success_rate"]})
                print(f"seed {seed} log-std {log_std:+.1f} noise on {where}: {r['success_rate']:.0%}", flush=True)
summary = {"task": a.task, "demos": n, "held_out": {"episodes": 100, "seed": 1_000_000}, "rows": rows, "noise": noise_rows,
           "command": " ".join(["python", "benchmarks/from_demos_start.py", *sys.argv[1:]]), "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
with atomic_write(a.out, "w") as f: json.dump(summary, f, indent=1)
