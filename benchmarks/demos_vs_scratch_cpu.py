"""From nothing to a success level in CPU time, in one run on one machine: PPO from demonstrations (record expert episodes,
clone them into PPO's network, fine-tune with the <task>_demos preset) against PPO from scratch (the task's preset). The two
sides run at once, one single-threaded process each (two cores); each counts its own process CPU time, evaluations excluded,
and stops at the first evaluation on 100 held-out episodes at or above --level. Prints and writes the ratio.

    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/demos_vs_scratch_cpu.py --task pick_place --seed 0 --out benchmarks/results/from_demos_cpu/pick_place-s0.json
"""
import argparse, json, os, platform, subprocess, sys, tempfile, threading, time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--task", default="pick_place", choices=["lift", "pick_place"])
p.add_argument("--seed", type=int, default=0, help="PPO seed of both sides; demonstrations reset with 10,000 * seed + i")
p.add_argument("--level", type=float, default=0.9, help="held-out success rate to reach")
p.add_argument("--demos", type=int, default=100, help="expert demonstrations of the demonstrations side")
p.add_argument("--scratch-steps", type=int, default=3_000_000, help="the from-scratch side gives up after this many env steps")
p.add_argument("--out", default=None, help="JSON file to write (the parent run)")
p.add_argument("--side", choices=["demos", "scratch"], default=None, help=argparse.SUPPRESS)   # a child process
p.add_argument("--child-out", default=None, help=argparse.SUPPRESS)
a = p.parse_args()

def side(kind:str) -> dict:
    "One side, in this process: {reached, env_steps, cpu_s (evaluations excluded), curve}."
    from simscaleai.imitation import record_demos
    from simscaleai.rl.agents.ppo import PPOAgent
    from simscaleai.rl.agents.config import PPOConfig
    from simscaleai.rl.callbacks import EvalCallback, evaluate_batched
    t0, eval_cpu, curve, pre = time.process_time(), [0.0], [], 0
    class TimedEval(EvalCallback):
        def _evaluate(self, agent):
            c = time.process_time(); row = super()._evaluate(agent); eval_cpu[0] += time.process_time() - c
            curve.append({"env_steps": pre + row["timesteps"], "success_rate": row["success_rate"], "cpu_s": time.process_time() - t0 - eval_cpu[0]})
            return row
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "demos":
            demos = record_demos(a.task, a.demos, 10_000 * a.seed, Path(tmp) / "demos", progress=False)
            cfg = PPOConfig.preset(f"{a.task}_demos", seed=a.seed, progress_bar=False)
            agent = PPOAgent.from_demos(demos, a.task, cfg)
            pre, every = demos.total_steps, 4 * cfg.n_steps
            c = time.process_time(); r = evaluate_batched(a.task, agent.predict, 100, 1_000_000); eval_cpu[0] += time.process_time() - c
            curve.append({"env_steps": pre, "success_rate": r["success_rate"], "cpu_s": time.process_time() - t0 - eval_cpu[0]})   # the clone itself
        else:
            cfg = PPOConfig.preset(a.task, seed=a.seed, progress_bar=False, total_timesteps=a.scratch_steps)
            agent, demos, every = PPOAgent.for_env(a.task, cfg), None, 16 * cfg.n_steps
        cb = TimedEval(a.task, every, n_episodes=100, seed=1_000_000, stop_at=a.level, verbose=False)
        if not curve or curve[0]["success_rate"] < a.level: agent.train(a.task, callback=cb, demos=demos if cfg.demo_coef > 0 else None)
        cb.close()
    hit = next((r for r in curve if r["success_rate"] >= a.level), None)
    return {"side": kind, "reached": hit is not None, "env_steps": None if hit is None else hit["env_steps"],
            "cpu_s": None if hit is None else hit["cpu_s"], "ppo_steps_run": agent.num_timesteps, "eval_every": every, "curve": curve}

if a.side is not None:
    parent = os.getppid()
    def orphaned():            # the parent gone (killed): this side stops too, no process is left behind
        while os.getppid() == parent: time.sleep(1)
        os._exit(1)
    threading.Thread(target=orphaned, daemon=True).start()
    Path(a.child_out).write_text(json.dumps(side(a.side)))
    sys.exit(0)
if a.out is None: p.error("--out is required")
with tempfile.TemporaryDirectory() as tmp:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = {k: subprocess.Popen([sys.executable, __file__, *sys.argv[1:], "--side", k, "--child-out", str(Path(tmp) / f"{k}.json")], env=env)
             for k in ("demos", "scratch")}
    try:
        for k, proc in procs.items():
            if proc.wait() != 0: raise SystemExit(f"the {k} side failed (exit {proc.returncode})")
    finally:
        for proc in procs.values():
            if proc.poll() is None: proc.kill()
    sides = {k: json.loads((Path(tmp) / f"{k}.json").read_text()) for k in procs}
d, s = sides["demos"], sides["scratch"]
ratio = s["cpu_s"] / d["cpu_s"] if d["reached"] and s["reached"] else None
summary = {"task": a.task, "seed": a.seed, "level": a.level, "demos": a.demos, "sides": sides,
           "cpu_ratio_scratch_over_demos": ratio,
           "lower_bound_if_scratch_failed": None if s["reached"] or not d["reached"] else
               {"scratch_cpu_s_without_reaching": s["curve"][-1]["cpu_s"] if s["curve"] else None},
           "command": " ".join(["python", "benchmarks/demos_vs_scratch_cpu.py", *sys.argv[1:]]), "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
from simscaleai.utils import atomic_write
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
with atomic_write(a.out, "w") as f: json.dump(summary, f, indent=1)
fmt = lambda r: f"{r['cpu_s']:.0f} CPU s, {r['env_steps']} env steps" if r["reached"] else f"not reached in {r['ppo_steps_run']} env steps"
print(f"{a.task} to {a.level:.0%}, seed {a.seed}: from demonstrations {fmt(d)}; from scratch {fmt(s)}"
      + (f"; ratio {ratio:.1f}x" if ratio else ""))
