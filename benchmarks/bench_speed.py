"""Simulation and training at the speed of the physics (issue 12): one run, every task, the figures as ratios.

    OMP_NUM_THREADS=1 python benchmarks/bench_speed.py [--tasks reach lift pick_place push stack] [--rounds 3] [--num-envs 16]
                                                       [--ppo-steps 8192] [--no-sb3] [--device cpu]

For each task, with uniformly random actions (drawn beforehand, the same for every contender):
  physics-replay, 1 core     mj_step(model, data, nstep=25) replaying the joint and finger targets the env itself
                             produced for the same actions (recorded in an untimed pass), one env after the other:
                             the cost of the physics alone, nothing else
  lockstep replay, 1 core    the same replays of --num-envs envs in lockstep (control step t of every env, then
                             t + 1), the order a vector env must keep: each env's data is cold in the cache again
  physics-replay, all cores  the same for --num-envs envs, one thread per core, each replaying its share of the
                             envs (MuJoCo's calls release the GIL); no synchronisation between control steps
  env.step                   the single env's step, one env
  batched env                make_vec_env(task, num_envs) stepping all envs in one call (threads = cores),
                             steps/s counted per env step; and the same with one thread (the Python's share alone)
and their ratios: env.step / physics-replay 1 core, batched env / physics-replay all cores (target >= 0.95).

Then training (skipped with --ppo-steps 0): PPOAgent.train(make_env(task)) with the default PPOConfig (16 env copies
in two batched groups, env_workers=1) for --ppo-steps env steps after a one-rollout warm-up, its env steps/s, and the
pipeline efficiency = PPO steps/s / (cores x physics-replay steps/s on 1 core) (target >= 0.5 on reach); the update's
own speed (env steps / seconds spent in updates, timed on the agent), the efficiency bound it sets on its own, and the
bound on PPO's steps/s that the physics on all cores and the update set together (a step costs at least both: collection
and update take turns); Stable-
Baselines3's PPO with the same settings (bench_ppo.make_sb3: same network, hyper-parameters, VecNormalize,
DummyVecEnv of the same env) and the ratio ours / SB3 (target >= 3 on reach and pick_place).

Rounds are interleaved (every contender once per round) and each figure is its best round, the least disturbed by
other processes, as timeit reports; ratios come from one run, so the machine's speed cancels out, its load does not
entirely (a loaded machine has fewer free cores than it has cores).
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
import argparse, platform, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import mujoco
import torch

from simscaleai.sim import make_env, make_vec_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.rl.rollouts import flat_obs_dim

sys.path.insert(0, str(Path(__file__).parent))


def n_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def record(task, actions, seed):
    "The env's start state after reset(seed) and the targets its step applies for each action (an untimed pass)."
    env = make_env(task)
    env.reset(seed=seed)
    m, kind = env.model, mujoco.mjtState.mjSTATE_INTEGRATION
    start = np.empty(mujoco.mj_stateSize(m, kind)); mujoco.mj_getState(m, env.data, start, kind)
    ctrls = np.empty((len(actions), m.nu))
    for t, a in enumerate(actions):
        env.step(a); ctrls[t] = env.data.ctrl
    return env.model, start, ctrls


def replay(model, data, start, ctrls, n_sub):
    "Open-loop replay of recorded targets from the recorded start state."
    mujoco.mj_setState(model, data, start, mujoco.mjtState.mjSTATE_INTEGRATION); mujoco.mj_forward(model, data)
    ctrl = data.ctrl
    for row in ctrls:
        ctrl[:] = row
        mujoco.mj_step(model, data, n_sub)


def time_replay(recs, datas, n_sub, threads):
    "Steps/s of replaying every env's recorded targets, the envs split over `threads` threads."
    def chunk(idx):
        for i in idx: replay(recs[i][0], datas[i], recs[i][1], recs[i][2], n_sub)
    parts = [p for p in np.array_split(np.arange(len(recs)), threads) if len(p)]
    t = time.perf_counter()
    if threads == 1: chunk(parts[0])
    else:
        with ThreadPoolExecutor(threads) as ex: list(ex.map(chunk, parts))
    return sum(len(r[2]) for r in recs) / (time.perf_counter() - t)


def time_lockstep(recs, datas, n_sub):
    "Steps/s of the same replays in lockstep, as a vector env must step: control step t of every env, then t + 1."
    for (m, start, _), d in zip(recs, datas):
        mujoco.mj_setState(m, d, start, mujoco.mjtState.mjSTATE_INTEGRATION); mujoco.mj_forward(m, d)
    pairs = [(m, d, d.ctrl, c) for (m, _, c), d in zip(recs, datas)]
    t0 = time.perf_counter()
    for t in range(len(recs[0][2])):
        for m, d, ctrl, c in pairs:
            ctrl[:] = c[t]
            mujoco.mj_step(m, d, n_sub)
    return len(pairs) * len(recs[0][2]) / (time.perf_counter() - t0)


def time_single(task, actions, seed):
    env = make_env(task); env.reset(seed=seed); step = env.step
    t = time.perf_counter()
    for a in actions: step(a)
    return len(actions) / (time.perf_counter() - t)


def time_batched(venv, actions, seeds):
    "Steps/s (per env step) of the batched env on actions (T, N, 4); no episode ends within T."
    venv.reset(seed=seeds)
    t = time.perf_counter()
    for a in actions: venv.step(a)
    return actions.shape[0] * actions.shape[1] / (time.perf_counter() - t)


def time_episodes(venv, actions, seeds):
    "Steps/s (per env step) of whole episodes: a reset of every env, then actions (T, N, 4) with T the episode's length."
    t = time.perf_counter()
    venv.reset(seed=seeds)
    for a in actions: venv.step(a)
    return actions.shape[0] * actions.shape[1] / (time.perf_counter() - t)


def training_randomization(task):
    "What a randomized training run perturbs: the task's randomize_preset, or (reach, without a cube) noise and latency."
    from simscaleai.sim.randomize import RANDOMIZE_PRESETS, randomize_preset
    return randomize_preset(task) if task in RANDOMIZE_PRESETS else {"obs_noise_m": (0.0, 0.01), "latency_steps": (0, 2)}


def ppo_sps(task, steps, seed, device="cpu", **config):
    "Our PPO's training steps/s, and the seconds per env step spent in its updates (the rest is collection); `config`: PPOConfig fields."
    env = make_env(task)
    agent = PPOAgent(flat_obs_dim(env.observation_space), 4, PPOConfig(seed=seed, progress_bar=False, **config), device=device)
    agent.train(env, total_timesteps=agent.config.n_steps)          # warm-up: one rollout and update
    update, spent = agent._update, [0.0]
    def timed_update(buffer):                                       # this agent only: the class is left alone
        t = time.perf_counter(); out = update(buffer); spent[0] += time.perf_counter() - t; return out
    agent._update = timed_update
    t = time.perf_counter(); agent.train(env, total_timesteps=steps); dt = time.perf_counter() - t
    return steps / dt, spent[0] / steps


def sb3_sps(task, steps, seed):
    from bench_ppo import make_sb3
    model = make_sb3(seed, task=task)
    model.learn(total_timesteps=model.n_steps * model.n_envs)       # warm-up, as ours
    t = time.perf_counter(); model.learn(total_timesteps=steps, reset_num_timesteps=False); dt = time.perf_counter() - t
    model.get_env().close()
    return steps / dt


def bench_task(task, args, cores):
    n, horizon = args.num_envs, args.horizon
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (horizon, n, 4)).astype(np.float32)
    recs = [record(task, actions[:, i], seed=100 + i) for i in range(n)]
    datas = [mujoco.MjData(r[0]) for r in recs]
    n_sub = make_env(task).config.n_substeps
    venv, venv1 = make_vec_env(task, num_envs=n, num_threads=cores), make_vec_env(task, num_envs=n, num_threads=1)
    venvR = make_vec_env(task, num_envs=n, num_threads=cores, randomize=training_randomization(task), autoreset_mode="Disabled")
    venvE = make_vec_env(task, num_envs=n, num_threads=cores, autoreset_mode="Disabled")
    episode = rng.uniform(-1, 1, (make_env(task).config.max_episode_steps, n, 4)).astype(np.float32)
    seeds = [100 + i for i in range(n)]
    fig = {k: [] for k in ("replay1", "lockstep", "replayN", "single", "batched", "batched1", "episodes", "episodes_dr", "ppo",
                           "update_sps", "sb3")}
    for r in range(args.rounds):
        fig["replay1"].append(time_replay(recs, datas, n_sub, 1))
        fig["single"].append(time_single(task, actions[:, 0], seed=100))
        fig["lockstep"].append(time_lockstep(recs, datas, n_sub))
        fig["replayN"].append(time_replay(recs, datas, n_sub, cores))
        fig["batched"].append(time_batched(venv, actions, seeds))
        fig["batched1"].append(time_batched(venv1, actions, seeds))
        fig["episodes"].append(time_episodes(venvE, episode, seeds))
        fig["episodes_dr"].append(time_episodes(venvR, episode, seeds))
        if args.ppo_steps:
            sps, update_s = ppo_sps(task, args.ppo_steps, seed=r, device=args.device)
            fig["ppo"].append(sps); fig["update_sps"].append(1 / update_s)
            if not args.no_sb3: fig["sb3"].append(sb3_sps(task, args.ppo_steps, seed=r))
        print(f"  {task} round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in fig.items() if v), flush=True)
    venv.close(); venv1.close(); venvR.close(); venvE.close()
    return {k: max(v) for k, v in fig.items() if v}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="*", default=["reach", "lift", "pick_place", "push", "stack"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--num-envs", type=int, default=16)
    ap.add_argument("--horizon", type=int, default=40, help="control steps per env per timed block (< every task's episode)")
    ap.add_argument("--ppo-steps", type=int, default=8192, help="env steps of each timed training run (0: no training)")
    ap.add_argument("--no-sb3", action="store_true")
    ap.add_argument("--device", default="cpu", help="torch device of our PPO's network (cuda: the update on the GPU)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cores = n_cores()
    print(f"python {platform.python_version()}, mujoco {mujoco.__version__}, torch {torch.__version__}, {cores} cores, "
          f"load average at start {os.getloadavg()[0]:.2f}; {args.num_envs} envs, best of {args.rounds} interleaved rounds", flush=True)
    res = {t: bench_task(t, args, cores) for t in args.tasks}
    for f in res.values():   # a step costs at least its physics on all cores plus its share of the update (the two do not overlap)
        if "update_sps" in f: f["bound"] = 1 / (1 / f["replayN"] + 1 / f["update_sps"])
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}\n")
    cols = ["figure"] + args.tasks
    rows = [("physics-replay, 1 core [steps/s]", lambda f: f"{f['replay1']:.0f}"),
            (f"physics-replay, 1 core, {args.num_envs} envs in lockstep [steps/s]", lambda f: f"{f['lockstep']:.0f}"),
            (f"physics-replay, {cores} cores [steps/s]", lambda f: f"{f['replayN']:.0f}"),
            ("env.step, one env [steps/s]", lambda f: f"{f['single']:.0f}"),
            (f"batched env, {args.num_envs} envs [env steps/s]", lambda f: f"{f['batched']:.0f}"),
            (f"batched env, {args.num_envs} envs, 1 thread [env steps/s]", lambda f: f"{f['batched1']:.0f}"),
            ("ratio env.step / replay 1 core", lambda f: f"{f['single'] / f['replay1']:.2f}"),
            ("ratio batched 1 thread / replay 1 core", lambda f: f"{f['batched1'] / f['replay1']:.2f}"),
            ("ratio batched 1 thread / lockstep replay 1 core", lambda f: f"{f['batched1'] / f['lockstep']:.2f}"),
            (f"ratio batched / replay {cores} cores (>= 0.95)", lambda f: f"{f['batched'] / f['replayN']:.2f}"),
            ("ratio batched / replay 1 core", lambda f: f"{f['batched'] / f['replay1']:.2f}"),
            (f"batched env, whole episodes with their resets [env steps/s]", lambda f: f"{f['episodes']:.0f}"),
            (f"the same, randomized as training randomizes (randomize_preset) [env steps/s]", lambda f: f"{f['episodes_dr']:.0f}"),
            ("ratio randomized / not (>= 0.95: randomization adds at most 5%)", lambda f: f"{f['episodes_dr'] / f['episodes']:.2f}")]
    if args.ppo_steps:
        rows += [("PPO training [env steps/s]", lambda f: f"{f['ppo']:.0f}"),
                 (f"pipeline efficiency = PPO / ({cores} x replay 1 core) (>= 0.5)", lambda f: f"{f['ppo'] / (cores * f['replay1']):.2f}"),
                 ("PPO's update alone [env steps/s: steps / seconds in updates]", lambda f: f"{f['update_sps']:.0f}"),
                 ("share of PPO's training time in updates", lambda f: f"{f['ppo'] / f['update_sps']:.2f}"),
                 (f"efficiency bound if collection were free = update alone / ({cores} x replay 1 core)",
                  lambda f: f"{f['update_sps'] / (cores * f['replay1']):.2f}"),
                 (f"PPO bound = 1 / (1 / replay {cores} cores + 1 / update alone) [env steps/s]", lambda f: f"{f['bound']:.0f}"),
                 (f"efficiency bound = PPO bound / ({cores} x replay 1 core)", lambda f: f"{f['bound'] / (cores * f['replay1']):.2f}")]
        if not args.no_sb3:
            rows += [("SB3 PPO, same settings [env steps/s]", lambda f: f"{f['sb3']:.0f}"),
                     ("ratio PPO / SB3 PPO (>= 3)", lambda f: f"{f['ppo'] / f['sb3']:.2f}"),
                     ("bound on that ratio = PPO bound / SB3 PPO", lambda f: f"{f['bound'] / f['sb3']:.2f}")]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for name, fn in rows: print(f"| {name} | " + " | ".join(fn(res[t]) for t in args.tasks) + " |")


if __name__ == "__main__":
    sys.exit(main())
