"""Ship behaviour-cloned policies: record expert demonstrations, clone them, evaluate the clone on 100 fresh episodes, write
simscaleai/policies/<task>_bc.{pt,json} with simscaleai.pretrained.make_pretrained.

    MUJOCO_GL=egl OMP_NUM_THREADS=1 python benchmarks/make_bc_policies.py --task pick_place --episodes 200 --seed 0 --train-seed 0
"""
import argparse, os, platform, sys, tempfile, time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
from simscaleai.imitation import BCConfig, load_demos, record_demos, successful_episodes, train_bc
from simscaleai.pretrained import make_pretrained
from simscaleai.rl.evaluator import EvalConfig, evaluate_policy
from simscaleai.sim import make_env, scripted_policy

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--task", required=True, choices=["lift", "pick_place"])
p.add_argument("--episodes", type=int, default=200, help="expert demonstrations (reset seeds seed .. seed + episodes - 1)")
p.add_argument("--seed", type=int, default=0, help="reset seed of the first demonstration")
p.add_argument("--train-seed", type=int, default=0, help="BCConfig.seed: split, initial weights, shuffles")
p.add_argument("--eval-seed", type=int, default=2_000_000, help="reset seed of the first of the 100 evaluation episodes")
p.add_argument("--out", default=None, help="folder for the files (default: the package's policies/)")
a = p.parse_args()
with tempfile.TemporaryDirectory() as d:
    demos = record_demos(a.task, a.episodes, a.seed, Path(d) / "demos", progress=False)
    cfg = BCConfig(seed=a.train_seed)
    clone = train_bc(demos, cfg)
    env = make_env(a.task)
    ecfg = EvalConfig(n_episodes=100, seed=a.eval_seed, max_steps=env.unwrapped.config.max_episode_steps, progress=False)
    res, expert = evaluate_policy(env, clone.predict, ecfg), evaluate_policy(env, scripted_policy(a.task), ecfg)
    clone.save(Path(d) / "bc.pt")
    command = " ".join(["python", "benchmarks/make_bc_policies.py", *sys.argv[1:]])
    dest = make_pretrained(Path(d) / "bc.pt", f"{a.task}_bc", {
        "task": a.task, "algorithm": "behaviour cloning", "seed": a.train_seed, "command": command,
        "demos": {"policy": "expert", "episodes": a.episodes, "seed": a.seed, "successful": len(successful_episodes(demos).episode_indices), "steps": demos.total_steps},
        "config": cfg.__dict__, "train_time_s": clone.provenance["train_time_s"], "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch_threads={cfg.torch_threads}",
        "best_epoch": clone.provenance["best_epoch"], "max_episode_steps": env.unwrapped.config.max_episode_steps,
        "eval": {"episodes": 100, "seed": a.eval_seed, "deterministic": True, "success_rate": res["success_rate"], "mean_reward": res["mean_reward"],
                 "expert_success_rate": expert["success_rate"], "episode_successes": [bool(s) for s in res["episode_successes"]]}}, where=a.out)
print(f"{dest}: {a.task} clone of {a.episodes} demos, {res['success_rate']:.0%} on 100 fresh episodes (expert {expert['success_rate']:.0%}), trained in {clone.provenance['train_time_s']:.0f} s")
