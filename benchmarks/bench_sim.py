"""Speed of the simulation tasks (reach, lift, pick_place) against their own physics, measured in one run.

    OMP_NUM_THREADS=1 python benchmarks/bench_sim.py [--tasks reach lift pick_place] [--policy random|expert] [--episodes 40] [--profile]

Prints control steps per second for
  physics-only    the same `mujoco.mj_step(model, data, nstep=n_substeps)` call on the env's model, from the
                  home pose with a fixed control, nothing else;
  env.step        the task env's `step` with uniformly random actions (drawn beforehand), or the task's scripted
                  expert's actions (recorded beforehand, so the policy's own cost is not timed), no rendering;
and their ratio (target >= 0.9). With several tasks, a last table compares each task's env.step with reach's:
lift and pick_place add a free cube and its contacts with the table and the fingers, which the physics pays for.

The work is split into one-episode blocks (200 control steps) run interleaved: physics, env, physics, env...
Each figure is the best block (the least disturbed by other processes, as `timeit` reports) and the median
block; ratios are taken within one run, so the machine's speed and load cancel out.

A third env figure uses a reward that returns 0 without looking at anything: the difference to env.step is
the cost of the default reward (simscaleai.rl.rewards' CompositeReward.compute_terms), the rest is the env's own.

A second baseline, physics-replay, runs the same mj_step call open loop on the joint targets the env produced
for the same episode: random actions drive the arm into joint limits and the table, whose constraints make the
physics dearer than at rest. env.step against physics-replay isolates the env's own per-step overhead.
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
import argparse, cProfile, pstats, time

import numpy as np
import mujoco

from simscaleai.sim import make_env, list_envs, scripted_policy
from simscaleai.rl.rewards.rewards import RewardFunction


class ZeroReward(RewardFunction):
    "0 for everything: isolates the env's own cost from the reward's."
    def compute(self, obs, action, info): return 0.0


def time_physics_fixed(model, data, n_steps, n_substeps):
    "Seconds for n_steps of mj_step(nstep=n_substeps) from home with the home control."
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    t = time.perf_counter()
    for _ in range(n_steps):
        mujoco.mj_step(model, data, n_substeps)
    return time.perf_counter() - t


def time_physics_replay(model, data, ctrls, n_substeps, start=None):
    "Seconds for the same mj_step calls, open loop on a recorded control sequence (one row copy per step), from the env's start state."
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    if start is not None:
        mujoco.mj_setState(model, data, start, mujoco.mjtState.mjSTATE_INTEGRATION)
        mujoco.mj_forward(model, data)
    ctrl = data.ctrl
    t = time.perf_counter()
    for row in ctrls:
        ctrl[:] = row
        mujoco.mj_step(model, data, n_substeps)
    return time.perf_counter() - t


def time_env(env, actions, seed):
    "Seconds for env.step over one episode's actions (the reset before it is not timed)."
    env.reset(seed=seed)
    step = env.step
    t = time.perf_counter()
    for a in actions:
        step(a)
    return time.perf_counter() - t


def record_ctrls(env, actions, seed):
    "The env's start state after reset, and the joint/finger targets env.step applies for each action (untimed pass)."
    env.reset(seed=seed)
    m = env.model
    start = np.empty(mujoco.mj_stateSize(m, mujoco.mjtState.mjSTATE_INTEGRATION))
    mujoco.mj_getState(m, env.data, start, mujoco.mjtState.mjSTATE_INTEGRATION)
    out = np.empty((len(actions), m.nu))
    for i, a in enumerate(actions):
        env.step(a)
        out[i] = env.data.ctrl
    return start, out


def expert_actions(env, policy, seed, horizon):
    "The scripted expert's actions for one episode (recorded untimed, replayed as fixed actions)."
    obs, _ = env.reset(seed=seed)
    out = np.empty((horizon, 4), np.float32)
    for i in range(horizon):
        out[i] = policy(obs)
        obs, *_ = env.step(out[i])
    return out


def breakdown(env, n=20000):
    "Microseconds per call of each part of env.step, each timed alone with timeit (best of 5)."
    import math, timeit
    from simscaleai.sim import _dls3
    m, d = env.model, env.data
    obs, _ = env.reset(seed=0)
    a = np.array([0.1, 0.2, -0.1, 0.5], np.float32)
    obs, _, _, _, info = env.step(a)
    env.reset(seed=0)
    parts = {
        "physics: mj_step(nstep)": (lambda: mujoco.mj_step(m, d, env.config.n_substeps), n // 20),
        "reward_fn.compute_terms": (lambda: env.reward_fn.compute_terms(obs, a, info), n),
        "IK: mj_jacSite": (lambda: mujoco.mj_jacSite(m, d, env._jacp, None, env._ee_id), n),
        "IK: DLS solve (_dls3)": (lambda: _dls3(env._jac, 0.01, 0.02, 0.03, env._lam2, env._dq), n),
        "kinematics of new state": (lambda: (mujoco.mj_kinematics(m, d), mujoco.mj_comPos(m, d)), n),
        "observation copies": (env._observation, n),
        "distance": (lambda: math.dist(env._ee_pos.tolist(), env._target.tolist()), n),
        "whole env.step, zero action": (lambda: env.step(zero), n // 20),
    }
    zero = np.zeros(4, np.float32)
    print("\nparts of env.step, us per call (best of 5; the arm at rest at home, as for physics-only):")
    for name, (fn, k) in parts.items():
        if name.startswith("whole"): env.reset(seed=0)
        print(f"  {name:28s} {min(timeit.repeat(fn, number=k, repeat=5)) / k * 1e6:7.2f}")


def bench_task(task, args):
    "Interleaved timing blocks for one task; prints its table and returns its best env.step steps/s."
    env = make_env(task)
    model, n_sub, horizon = env.model, env.config.n_substeps, env.config.max_episode_steps
    data = mujoco.MjData(model)
    if args.policy == "expert":
        policy = scripted_policy(task)
        actions = np.stack([expert_actions(env, policy, e, horizon) for e in range(args.episodes)])
    else:
        actions = np.random.default_rng(0).uniform(-1, 1, (args.episodes, horizon, 4)).astype(np.float32)
    recorded = [record_ctrls(env, actions[e], seed=e) for e in range(args.episodes)]
    time_env(env, actions[0], 0); time_physics_fixed(model, data, horizon, n_sub)   # warm-up

    env0 = make_env(task, reward_fn=ZeroReward())
    fixed, replay, stepped, stepped0 = [], [], [], []
    for e in range(args.episodes):
        fixed.append(time_physics_fixed(model, data, horizon, n_sub))
        stepped.append(time_env(env, actions[e], seed=e))
        replay.append(time_physics_replay(model, data, recorded[e][1], n_sub, recorded[e][0]))
        stepped0.append(time_env(env0, actions[e], seed=e))
    fixed, replay, stepped, stepped0 = (horizon / np.array(x) for x in (fixed, replay, stepped, stepped0))   # steps/s per block

    print(f"\n{task} env ({args.policy} actions): {n_sub} substeps of {model.opt.timestep*1e3:.1f} ms per control step (control at "
          f"{1/env.config.control_dt_s:.0f} Hz); {args.episodes} interleaved blocks of {horizon} steps")
    print(f"{'control steps/s':32s} {'best block':>11s} {'median':>9s}")
    for name, x in [("physics-only (fixed ctrl)", fixed), ("physics-replay (env's targets)", replay),
                    ("env.step", stepped), ("env.step, zero-cost reward", stepped0)]:
        print(f"{name:32s} {x.max():11.0f} {np.median(x):9.0f}   ({1e6/x.max():.1f} us/step best)")
    print(f"ratio env.step / physics-only  : {stepped.max()/fixed.max():.3f} best, {np.median(stepped)/np.median(fixed):.3f} median")
    print(f"ratio env.step / physics-replay: {stepped.max()/replay.max():.3f} best, {np.median(stepped)/np.median(replay):.3f} median   (target >= 0.9)")
    print(f"ratio with a zero-cost reward  : {stepped0.max()/fixed.max():.3f} best vs physics-only, {stepped0.max()/replay.max():.3f} vs physics-replay")
    print(f"per-step cost over physics-replay (best blocks): env.step {1e6/stepped.max() - 1e6/replay.max():.1f} us = "
          f"default reward {1e6/stepped.max() - 1e6/stepped0.max():.1f} us + env's own {1e6/stepped0.max() - 1e6/replay.max():.1f} us")
    if args.breakdown and task == "reach":
        breakdown(env)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for e in range(min(args.episodes, 10)): time_env(env, actions[e], seed=e)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    return stepped.max(), replay.max()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["reach"], choices=list_envs(), help="tasks to time, in turn")
    parser.add_argument("--policy", default="random", choices=["random", "expert"], help="uniform random actions or the task's scripted expert's")
    parser.add_argument("--episodes", type=int, default=40, help="interleaved blocks of one episode each")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of env.step")
    parser.add_argument("--breakdown", action="store_true", help="also time the parts of reach's env.step one by one")
    args = parser.parse_args()
    best = {task: bench_task(task, args) for task in args.tasks}
    if len(best) > 1 and "reach" in best:
        print(f"\n{'task':12s} {'env.step/s':>11s} {'physics-replay/s':>17s} {'env.step time vs reach':>23s}")
        for task, (step, replay) in best.items():
            print(f"{task:12s} {step:11.0f} {replay:17.0f} {best['reach'][0] / step:22.2f}x")


if __name__ == "__main__":
    main()
