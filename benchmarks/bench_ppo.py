"""PPO on reach: speed against Stable-Baselines3, and env steps / seconds to 95% success, measured in one run.

    python benchmarks/bench_ppo.py [--rounds 3] [--sps-steps 16384] [--seeds 0 1 2] [--max-steps 150000] [--sb3-subproc]
    python benchmarks/bench_ppo.py --skip-speed --set normalize_reward=False     # an ablation of part 2

1. Speed (env steps per second of the whole training loop: rollouts and updates). Round by round, in this one process,
   interleaved (the order alternates every round) so that machine load hits every contender alike:
     ours                 PPOAgent.train with the default PPOConfig (16 env copies in two batched vector envs, each
                          stepped in its own thread: env_workers=1)
     ours, 1 process      the same with env_workers=0 (everything in one thread, like SB3's DummyVecEnv)
     SB3                  stable_baselines3.PPO with the same hyper-parameters: 16 envs x n_steps=128 (= 2048 per
                          rollout; SB3 counts n_steps per env), batch 64, 10 epochs, lr 3e-4, gamma 0.99, lambda 0.95,
                          clip 0.2, c_e 0.01, c_v 0.5, grad-norm 0.5, per-mini-batch advantage normalisation, the same
                          network (a shared 256x2 tanh trunk as features extractor, linear actor/critic heads, log-std
                          0, orthogonal init sqrt(2)/0.01/1, Adam eps 1e-5), VecNormalize(obs and reward, clip 10) for
                          the same normalisation, on make_env("reach") with FlattenObservation, DummyVecEnv (SB3's
                          default), torch with one thread (as ours).
     SB3, SubprocVecEnv   (--sb3-subproc) the same with one process per env.
   Each contender trains a fresh agent for --sps-steps env steps per round; SPS = steps / wall-clock of the
   train()/learn() call. Reported: median over rounds, and the ratio ours / SB3 of the medians and per round.

2. Sample efficiency: for each seed, PPOAgent with the default PPOConfig(seed=seed) trains on reach; after every
   update (2048 env steps) the deterministic policy runs 50 evaluation episodes (reset seeds 0..49, success judged at
   the last of the 200 steps, as simscaleai.rl.evaluator's defaults), and training stops at the first evaluation with
   >= 95% success. Reported: env steps, training wall-clock (agent.history["time_s"]: evaluations excluded), and the
   success rate re-measured with simscaleai.rl.evaluator.evaluate_policy (same 50 episodes) when it is importable.

Timings are noisy while other processes share the 2 cores; the ratios of part 1 come from one interleaved run.
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
import argparse, json, platform, statistics, sys, time

import numpy as np
import torch
import gymnasium as gym

from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig, flatten_obs


# ------------------------------------------------------------------ Stable-Baselines3 with the same setup
def sb3_shared_trunk():
    "Our network's shared trunk as an SB3 features extractor (SB3 imported only when asked for)."
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class SharedTrunk(BaseFeaturesExtractor):
        "The spec's shared feature net: n_layers x (Linear, Tanh); SB3 then adds the linear actor and critic heads."
        def __init__(self, observation_space, hidden_dim=256, n_layers=2):
            super().__init__(observation_space, hidden_dim)
            layers, d = [], int(np.prod(observation_space.shape))
            for _ in range(n_layers):
                layers += [torch.nn.Linear(d, hidden_dim), torch.nn.Tanh()]
                d = hidden_dim
            self.net = torch.nn.Sequential(*layers)

        def forward(self, obs):
            return self.net(obs)
    return SharedTrunk


def make_sb3(seed, n_envs=PPOConfig().n_envs, subproc=False, task="reach"):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize
    SharedTrunk = sb3_shared_trunk()

    def factory():
        return gym.wrappers.FlattenObservation(make_env(task))
    vec = (SubprocVecEnv if subproc else DummyVecEnv)([factory] * n_envs)
    vec = VecNormalize(vec, norm_obs=True, norm_reward=True, clip_obs=10.0, clip_reward=10.0, gamma=0.99, epsilon=1e-8)
    return PPO("MlpPolicy", vec, learning_rate=3e-4, n_steps=2048 // n_envs, batch_size=64, n_epochs=10, gamma=0.99,
               gae_lambda=0.95, clip_range=0.2, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5, normalize_advantage=True,
               policy_kwargs=dict(features_extractor_class=SharedTrunk, features_extractor_kwargs=dict(hidden_dim=256, n_layers=2),
                                  net_arch=[], share_features_extractor=True, activation_fn=torch.nn.Tanh, log_std_init=0.0,
                                  ortho_init=True),
               seed=seed, device="cpu", verbose=0)


def sps_sb3(steps, seed, subproc=False):
    model = make_sb3(seed, subproc=subproc)
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps)
    dt = time.perf_counter() - t0
    model.get_env().close()
    return model.num_timesteps / dt


def sps_ours(steps, seed, env_workers=1):
    env = make_env("reach")
    agent = PPOAgent(obs_dim=20, action_dim=4, config=PPOConfig(seed=seed, env_workers=env_workers, progress_bar=False))
    t0 = time.perf_counter()
    agent.train(env, total_timesteps=steps)
    dt = time.perf_counter() - t0
    env.close()
    return agent.num_timesteps / dt


# ------------------------------------------------------------------ deterministic evaluation, 50 envs in lockstep
class BatchEvaluator:
    "50 reach envs, reset with seeds 0..49, run in lockstep with one batched predict per step (reach: always 200 steps)."
    def __init__(self, n_episodes=50):
        self.envs = [make_env("reach") for _ in range(n_episodes)]

    def __call__(self, agent):
        obs = [env.reset(seed=i)[0] for i, env in enumerate(self.envs)]
        done = np.zeros(len(self.envs), bool)
        success = np.zeros(len(self.envs), bool)
        while not done.all():
            actions = agent.predict(np.stack([flatten_obs(o) for o in obs]), deterministic=True)
            for i, env in enumerate(self.envs):
                if done[i]:
                    continue
                obs[i], _, terminated, truncated, info = env.step(actions[i])
                if terminated or truncated:
                    done[i], success[i] = True, bool(info["success"])
        return float(success.mean())


def steps_to_success(seed, max_steps, evaluator, target=0.95, **config):
    env = make_env("reach")
    agent = PPOAgent(obs_dim=20, action_dim=4, config=PPOConfig(seed=seed, progress_bar=False, **config))
    evaluations = []

    def callback(agent):
        rate = evaluator(agent)
        evaluations.append((agent.num_timesteps, agent.history["time_s"][-1], rate))
        return rate < target            # False stops training

    t0 = time.perf_counter()
    agent.train(env, total_timesteps=max_steps, callback=callback)
    wall_with_evals = time.perf_counter() - t0
    reached = evaluations[-1][2] >= target
    steps, train_s, rate = evaluations[-1]
    check = None
    try:
        from simscaleai.rl.evaluator import evaluate_policy, EvalConfig
        check = evaluate_policy(make_env("reach"), predict_fn=agent.predict, config=EvalConfig(n_episodes=50, progress=False))["success_rate"]
    except ImportError:
        pass
    env.close()
    return dict(seed=seed, reached=reached, steps=steps, train_s=train_s, success=rate, evaluator_success=check,
                wall_with_evals_s=wall_with_evals, curve=evaluations)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sps-steps", type=int, default=16384)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--max-steps", type=int, default=150_000)
    ap.add_argument("--sb3-subproc", action="store_true", help="also measure SB3 with SubprocVecEnv (one process per env)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="part 2 with these PPOConfig fields changed (an ablation), e.g. --set n_envs=8 normalize_reward=False")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)    # SB3 and the evaluation; PPOAgent sets its own (PPOConfig.torch_threads = 1)
    print(f"python {platform.python_version()}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)
    results = {}

    if not args.skip_speed:
        import stable_baselines3
        contenders = {"ours": lambda s: sps_ours(args.sps_steps, s),
                      "ours, 1 process": lambda s: sps_ours(args.sps_steps, s, env_workers=0),
                      f"SB3 {stable_baselines3.__version__}": lambda s: sps_sb3(args.sps_steps, s)}
        if args.sb3_subproc:
            contenders["SB3, SubprocVecEnv"] = lambda s: sps_sb3(args.sps_steps, s, subproc=True)
        sps = {k: [] for k in contenders}
        print(f"\n1. Speed: env steps/s of a {args.sps_steps}-step training run, {args.rounds} interleaved rounds", flush=True)
        for r in range(args.rounds):
            order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
            for name in order:
                sps[name].append(contenders[name](r))
                print(f"   round {r + 1}  {name:20s} {sps[name][-1]:7.0f} steps/s", flush=True)
        sb3 = [k for k in sps if k.startswith("SB3 ")][0]
        print(f"\n   {'':20s} {'median':>8s}   ratio to {sb3} (of medians; per round)")
        for name, values in sps.items():
            per_round = [v / b for v, b in zip(values, sps[sb3])]
            print(f"   {name:20s} {statistics.median(values):8.0f}   {statistics.median(values) / statistics.median(sps[sb3]):.2f}x"
                  f"  ({', '.join(f'{x:.2f}' for x in per_round)})")
        results["sps"] = sps

    import ast
    overrides = {k: ast.literal_eval(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    PPOConfig(**overrides)      # fail now on a bad field
    print(f"\n2. Env steps and training seconds to >= 95% deterministic success (50 episodes), "
          f"config {'default' if not overrides else 'default with ' + str(overrides)}, max {args.max_steps} steps", flush=True)
    evaluator = BatchEvaluator()
    runs = []
    for seed in args.seeds:
        run = steps_to_success(seed, args.max_steps, evaluator, **overrides)
        runs.append(run)
        check = "" if run["evaluator_success"] is None else f", evaluate_policy: {run['evaluator_success']:.0%}"
        status = "reached" if run["reached"] else "NOT reached"
        print(f"   seed {seed}: {status} at {run['steps']} env steps, {run['train_s']:.1f} s of training "
              f"(success {run['success']:.0%}{check}; {run['wall_with_evals_s']:.0f} s with evaluations)", flush=True)
    ok = [r for r in runs if r["reached"]]
    if ok:
        print(f"   max over seeds: {max(r['steps'] for r in ok)} steps, {max(r['train_s'] for r in ok):.1f} s "
              f"(targets: <= 150000 steps, <= 90 s); load average now {os.getloadavg()[0]:.2f}")
    results["success"] = runs
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
