"""PPO started from demonstrations, one run: record expert demonstrations, start the actor from them (PPOAgent.from_demos),
then PPO with or without the critic's warm-up and the demonstration term; the deterministic success on 100 held-out episodes
every --eval-every env steps, and the best policy's success on 200 fresh episodes. Every env step is counted: the
demonstrations' and the warm-up's too.

    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/ppo_from_demos.py --task pick_place --variant full --seed 0 --out DIR
"""
import argparse, ast, json, os, platform, sys, time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
import numpy as np
from simscaleai.imitation import record_demos
from simscaleai.rl.agents.ppo import PPOAgent
from simscaleai.rl.agents.config import PPOConfig
from simscaleai.rl.callbacks import EvalCallback, evaluate_batched
from simscaleai.utils import atomic_write

VARIANTS = {   # what each variant changes in the task's from-demonstrations preset (PPOConfig.preset("<task>_demos"))
    "naive": dict(critic_warmup_steps=0, demo_coef=0.0, freeze_obs_norm=False),     # the clone, then plain PPO (random critic, moving normaliser)
    "frozen": dict(critic_warmup_steps=0, demo_coef=0.0),    # ... with the demonstrations' normaliser kept
    "warmup": dict(demo_coef=0.0),                           # the critic trained on the clone's rollouts first
    "full": dict(),                                          # warm-up and the demonstration term: the preset as it is
}
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--task", required=True, choices=["lift", "pick_place", "push", "stack"])
p.add_argument("--variant", required=True, choices=sorted(VARIANTS))
p.add_argument("--seed", type=int, default=0, help="PPO seed; the demonstrations reset with seeds 10,000 * seed + i")
p.add_argument("--demos", type=int, default=None, help="expert demonstrations (default: 25 lift, 100 pick_place, push and stack)")
p.add_argument("--steps", type=int, default=None, help="PPO env steps (default: the preset's, 100k lift / 300k pick_place)")
p.add_argument("--eval-every", type=int, default=None, help="env steps between evaluations (default: steps / 10)")
p.add_argument("--set", nargs="*", default=[], help="PPOConfig overrides field=value (Python literals)")
p.add_argument("--out", required=True, help="new folder for the run's files")
a = p.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=False)
n_demos = a.demos or {"lift": 25, "pick_place": 100, "push": 100, "stack": 100}[a.task]
steps = a.steps or PPOConfig.preset(f"{a.task}_demos").total_timesteps
overrides = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in a.set)}
cfg = PPOConfig.preset(f"{a.task}_demos", **{**VARIANTS[a.variant], **overrides, "seed": a.seed, "progress_bar": False, "total_timesteps": steps})
t0 = time.process_time()
demos = record_demos(a.task, n_demos, 10_000 * a.seed, out / "demos", progress=False)
agent = PPOAgent.from_demos(demos, a.task, cfg)
start_cpu = time.process_time() - t0
pre = demos.total_steps + agent.pretrain["rollout_steps"]         # env steps before PPO's first
start = evaluate_batched(a.task, agent.predict, 100, 1_000_000)
curve = [{"timesteps": 0, "env_steps": pre, "success_rate": start["success_rate"], "cpu_s": start_cpu}]
def log(agent):
    r = cb.curve[-1] if cb.curve else None
    if r is not None and r["timesteps"] != curve[-1]["timesteps"]:
        curve.append({"timesteps": r["timesteps"], "env_steps": pre + r["timesteps"], "success_rate": r["success_rate"],
                      "cpu_s": time.process_time() - t0 - eval_cpu[0]})
    return True
eval_cpu = [0.0]
class TimedEval(EvalCallback):
    def _evaluate(self, agent):
        c = time.process_time(); row = super()._evaluate(agent); eval_cpu[0] += time.process_time() - c; return row
cb = TimedEval(a.task, a.eval_every or steps // 10, n_episodes=100, seed=1_000_000, best_path=out / "best.pt", verbose=False)
agent.train(a.task, callback=[cb, log], demos=demos if cfg.demo_coef > 0 else None)
cb.finish(agent); log(agent)
best = PPOAgent.from_checkpoint(out / "best.pt") if (out / "best.pt").exists() else agent
final = evaluate_batched(a.task, best.predict, 200, 2_000_000)
h = agent.history
summary = {"task": a.task, "variant": a.variant, "seed": a.seed, "demos": {"episodes": n_demos, "seed": 10_000 * a.seed, "steps": demos.total_steps},
           "pretrain": agent.pretrain, "ppo_steps": agent.num_timesteps, "config": {k: v for k, v in cfg.__dict__.items()},
           "curve": curve, "best_held_out": max(r["success_rate"] for r in curve),
           "fresh_200": {"seed": 2_000_000, "success_rate": final["success_rate"], "of": "best.pt" if (out / "best.pt").exists() else "final"},
           "approx_kl": h.get("approx_kl", [])[:20], "explained_variance": h.get("explained_variance", [])[:20],
           "command": " ".join(["python", "benchmarks/ppo_from_demos.py", *sys.argv[1:]]),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
with atomic_write(out / "summary.json", "w") as f: json.dump(summary, f, indent=1)
print(f"{a.task} {a.variant} seed {a.seed}: start {curve[0]['success_rate']:.0%}, best held-out {summary['best_held_out']:.0%}, "
      f"fresh 200 {final['success_rate']:.1%}; curve {[round(r['success_rate'], 2) for r in curve]}")
