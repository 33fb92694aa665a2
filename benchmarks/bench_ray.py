"""Ray rollouts on reach: overhead against the in-process runner, scaling with actors, a fitted cost model, and learning,
measured in one run.

    python benchmarks/bench_ray.py [--envs 8] [--rows 256] [--rounds 5] [--actors 1 2 3 4] [--learn-seed 0]
    python benchmarks/bench_ray.py --skip-learning        # parts 1-3 only (a couple of minutes)
    python benchmarks/bench_ray.py --skip-speed           # part 4 only

Sampling is what Ray spreads out, so parts 1-3 time the collection of rollouts (env steps, forward passes, reward
scaling, buffer writes, GAE), not the PPO update, which is the same code on the learner either way.

1. Overhead. The in-process runner (the agent's own env pool, --envs copies, env_workers=0: everything in this
   process) against Ray with one actor owning --envs envs; the same policy, --rows steps per env per rollout. Rounds
   alternate between the two (so machine load hits both alike); reported: median steps/s and the ratio.
2. Scaling. N = --actors actors, each with --envs envs and --rows rows: steps/s = N * envs * rows / wall-clock of one
   collect, efficiency E_N = steps/s(N) / (N * steps/s(1)). The local Ray offers max(--actors) logical CPUs, so N above
   the machine's cores time-share them (that is the point: it shows the model's max(1, N/P) term).
3. Model. t_N = c0 + N * ca + F * max(1, N/P): F is a fragment's compute in the actor (measured there, N = 1), c0 + N*ca
   is what the learner spends around it (wall-clock minus the slowest actor's compute), fitted by least squares over
   every N. Predictions for N = 8 and 32 assume: one core per actor (P >= N) and the learner on a core of its own; F
   unchanged (no memory-bandwidth contention); ca as measured here, over loopback (between machines add the fragment's
   bytes / bandwidth, printed below).
4. Learning (needs PPOConfig.ray_workers): PPOAgent with the default PPOConfig and ray_workers=2 on reach, seed
   --learn-seed; every --eval-every updates the deterministic policy runs 50 evaluation episodes (as bench_ppo.py);
   stops at the first >= 95% success or at the in-process budget (`simscale train reach`: 200,704 steps).

Timings are noisy while other processes share the cores: each part's numbers come from this one run.
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
import argparse, json, statistics, sys, time

import numpy as np
import torch

from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.rl.rollouts import RolloutBuffer, RunningMeanStd
from simscaleai.rl.runners import make_runner
from simscaleai.rl.collect import RolloutCollector
from simscaleai.rl.ray_runner import RayCollector, RayRunner, init_ray

OBS_DIM, ACTION_DIM = 20, 4


def in_process(envs:int, rows:int, seed:int):
    "A function that collects one rollout with the in-process runner (all envs in this process), and a cleanup."
    agent = PPOAgent(OBS_DIM, ACTION_DIM, PPOConfig(seed=seed, progress_bar=False))
    env = make_env("reach")
    runner = make_runner(env, envs, 0, seed)
    collector = RolloutCollector(runner, RunningMeanStd((OBS_DIM,)), RunningMeanStd(()), env.action_space)
    collector.start()
    buffer = RolloutBuffer(envs * rows, OBS_DIM, ACTION_DIM, n_envs=envs)
    return (lambda: collector.collect(buffer, agent._flat.forward, agent._flat.log_std, agent.generator)), runner.close


def ray_collector(actors:int, envs:int, rows:int, seed:int):
    "The same with Ray: `actors` actors of `envs` envs each, and a cleanup."
    agent = PPOAgent(OBS_DIM, ACTION_DIM, PPOConfig(seed=seed, progress_bar=False))
    runner = RayRunner("reach", n_workers=actors, envs_per_worker=envs, seed=seed)
    collector = RayCollector(runner, agent.policy, RunningMeanStd((OBS_DIM,)), RunningMeanStd(()), make_env("reach").action_space)
    collector.start()
    buffer = RolloutBuffer(actors * envs * rows, OBS_DIM, ACTION_DIM, n_envs=actors * envs)
    return (lambda: collector.collect(buffer)), runner.close


def timed(fn):
    t0 = time.perf_counter(); out = fn(); return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--envs", type=int, default=8, help="envs per actor (and in the in-process runner)")
    ap.add_argument("--rows", type=int, default=256, help="steps per env per rollout (fragment length)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--actors", type=int, nargs="*", default=[1, 2, 3, 4])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--learn-seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=2, help="updates between evaluations in part 4")
    ap.add_argument("--skip-learning", action="store_true")
    ap.add_argument("--skip-speed", action="store_true", help="part 4 only")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    results = {"args": vars(args), "cores": os.cpu_count()}
    P = os.cpu_count()
    init_ray(num_cpus=max(max(args.actors), 2))
    steps_per_actor = args.envs * args.rows
    if args.skip_speed:
        results["learning"] = learning(args)
        return

    print(f"== 1. overhead: Ray, 1 actor x {args.envs} envs, against the in-process runner ({args.envs} envs, "
          f"env_workers=0), {args.rows} rows, {args.rounds} interleaved rounds")
    local, close_local = in_process(args.envs, args.rows, args.seed)
    remote, close_remote = ray_collector(1, args.envs, args.rows, args.seed)
    local(); remote()                                      # warm-up: first rollouts, actor start
    sps = {"in-process": [], "ray-1": []}
    for r in range(args.rounds):
        order = [("in-process", local), ("ray-1", remote)]
        for name, fn in (order if r % 2 == 0 else order[::-1]):
            sps[name].append(steps_per_actor / timed(fn)[0])
    close_local()
    med = {k: statistics.median(v) for k, v in sps.items()}
    ratio = med["in-process"] / med["ray-1"]
    for k, v in sps.items(): print(f"  {k:11s} median {med[k]:7.0f} steps/s  rounds {[round(x) for x in v]}")
    print(f"  Ray is {100 * (ratio - 1):+.1f}% slower (time per step, ratio of medians {ratio:.3f}; target <= +10%)")
    results["overhead"] = {"sps": sps, "median": med, "time_ratio_ray_over_inprocess": ratio}

    print(f"\n== 2. scaling: N actors x {args.envs} envs x {args.rows} rows, {P} cores here")
    scaling = {}
    for n in args.actors:
        if n == 1: fn, close = remote, close_remote
        else: fn, close = ray_collector(n, args.envs, args.rows, args.seed); fn()
        walls, computes = [], []
        for _ in range(args.rounds):
            wall, frag = timed(fn)
            walls.append(wall); computes.append(frag["compute_s"].tolist())
        close()
        wall = statistics.median(walls)
        scaling[n] = {"wall_s": walls, "compute_s": computes, "median_wall_s": wall,
                      "sps": n * steps_per_actor / wall,
                      "overhead_s": statistics.median(w - max(c) for w, c in zip(walls, computes)),
                      "median_compute_s": statistics.median(max(c) for c in computes)}
    s1 = scaling[args.actors[0]]["sps"] / args.actors[0]
    for n, m in scaling.items():
        m["efficiency"] = m["sps"] / (n * s1)
        m["compute_inflation"] = m["median_compute_s"] / scaling[args.actors[0]]["median_compute_s"]
        print(f"  N={n}: {m['sps']:7.0f} steps/s  efficiency {100 * m['efficiency']:5.1f}%  wall {m['median_wall_s']:.3f} s  "
              f"slowest actor's compute {m['median_compute_s']:.3f} s (x{m['compute_inflation']:.2f} of N=1's)  "
              f"learner-side {1000 * m['overhead_s']:.1f} ms")
    results["scaling"] = scaling

    print("\n== 3. model t_N = c0 + N ca + F max(1, N/P)")
    F = scaling[1]["median_compute_s"] if 1 in scaling else scaling[args.actors[0]]["median_compute_s"]
    ns = np.array(list(scaling)); over = np.array([scaling[n]["overhead_s"] for n in ns])
    ca, c0 = np.polyfit(ns, over, 1) if len(ns) > 1 else (over[0], 0.0)
    def eff(n, p=None):
        p = n if p is None else p
        return (c0 + ca + F) / (c0 + n * ca + F * max(1.0, n / p))
    frag_bytes = steps_per_actor * (OBS_DIM * 4 + ACTION_DIM * 4 + 4 * 4 + 8 + 2) + steps_per_actor // args.rows * OBS_DIM * 8
    print(f"  F = {1000 * F:.1f} ms per fragment ({steps_per_actor} env steps), c0 = {1000 * c0:.1f} ms, ca = {1000 * ca:.2f} ms "
          f"per actor; a fragment is ~{frag_bytes / 1e6:.2f} MB")
    for n in ns:
        infl = (c0 + ca + F) / (c0 + n * ca + F * scaling[n]["compute_inflation"])
        print(f"  N={n}: measured {100 * scaling[n]['efficiency']:5.1f}%; model with P={P} free cores {100 * eff(n, P):5.1f}%; "
              f"model with the compute time measured at this N {100 * infl:5.1f}%")
    pred = {n: eff(n) for n in (8, 32)}
    need = {n: ((0.85 * n - 1) * ca - 0.15 * c0) / 0.15 for n in (8, 32)}
    for n in (8, 32):
        print(f"  predicted E_{n} = {100 * pred[n]:.1f}% (one core per actor); 85% needs F >= {1000 * need[n]:.0f} ms "
              f"(~{max(0.0, need[n]) / F * steps_per_actor:.0f} env steps per fragment at this speed)")
    results["model"] = {"F_s": F, "c0_s": float(c0), "ca_s": float(ca), "fragment_bytes": frag_bytes,
                        "predicted_efficiency": pred, "F_needed_for_85pct_s": need}

    if not args.skip_learning:
        results["learning"] = learning(args)
    if args.json:
        with open(args.json, "w") as f: json.dump(results, f, indent=1, default=float)


def learning(args) -> dict:
    from simscaleai.rl.evaluator import evaluate_policy, EvalConfig
    budget = 200_704
    print(f"\n== 4. learning: reach, PPOConfig(ray_workers=2, seed={args.learn_seed}), up to {budget} steps")
    if "ray_workers" not in PPOConfig.__dataclass_fields__:
        print("  skipped: PPOConfig has no ray_workers field in this version"); return {}
    env = make_env("reach")
    agent = PPOAgent(OBS_DIM, ACTION_DIM, PPOConfig(ray_workers=2, seed=args.learn_seed, total_timesteps=budget,
                                                    progress_bar=False))
    evals = []
    def callback(a):
        if a.n_updates % args.eval_every: return True
        res = evaluate_policy(env, a.predict, EvalConfig(n_episodes=50, progress=False))
        evals.append((a.num_timesteps, res["success_rate"]))
        print(f"  {a.num_timesteps:7d} steps: {100 * res['success_rate']:.0f}% success")
        return res["success_rate"] < 0.95
    t0 = time.perf_counter()
    agent.train(env, callback=callback)
    out = {"evals": evals, "steps": agent.num_timesteps, "train_s": agent.history["time_s"][-1], "wall_s": time.perf_counter() - t0,
           "reached_95": bool(evals and evals[-1][1] >= 0.95)}
    print(f"  {'reached' if out['reached_95'] else 'did NOT reach'} 95% at {agent.num_timesteps} env steps "
          f"({out['train_s']:.0f} s of training); in-process budget {budget}")
    return out


if __name__ == "__main__":
    sys.exit(main())
