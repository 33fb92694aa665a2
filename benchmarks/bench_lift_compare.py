"""Lift, side by side in one run: our PPO with the lift preset, our PPO with the spec's defaults, and Stable-Baselines3's PPO.

    python benchmarks/bench_lift_compare.py [--budget 1000000] [--seed 0] [--eval-every 49152] [--only NAME ...]

Contenders (same env, same budget of env steps, same seed, same evaluation):
  ours, preset      PPOAgent with PPOConfig.preset("lift")
  ours, defaults    PPOAgent with PPOConfig(): the spec's hyper-parameters
  SB3, preset       stable_baselines3.PPO with the lift preset's hyper-parameters (32 envs x 128 steps, batch 256, 8 epochs,
                    gamma 0.9, lambda 0.9, no entropy bonus, lr 3e-4, clip 0.2, c_v 0.5, grad-norm 0.5), the same network
                    (a shared 256x2 tanh trunk, linear heads, log-std 0, orthogonal init) and VecNormalize(obs and reward,
                    clip 10) for our normalisation, DummyVecEnv, torch with one thread.
Every --eval-every env steps each runs 100 deterministic episodes (reset seeds 1,000,000 + i, success judged at the
last step; the same episodes for all). Reported per contender: the curve, env steps to the first evaluation >= 50/80/95%,
the best success, and training seconds (evaluations excluded), all measured in this one process on this machine.
Writes benchmarks/results/lift-compare-s<seed>.json (or --json).
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
import argparse, json, platform, time
from pathlib import Path

import numpy as np
import torch
import gymnasium as gym

from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig, flat_obs_dim, flatten_obs
from simscaleai.rl.evaluator import evaluate_policy, EvalConfig
from simscaleai.utils import atomic_write

EVAL_SEED, EPISODES = 1_000_000, 100

def evaluate(predict, env) -> float:
    cfg = EvalConfig(n_episodes=EPISODES, seed=EVAL_SEED, max_steps=env.unwrapped.config.max_episode_steps, progress=False)
    return evaluate_policy(env, predict, cfg)["success_rate"]

def run_ours(config:PPOConfig, budget:int, every:int, log) -> list:
    env, eval_env = make_env("lift"), make_env("lift")
    agent = PPOAgent(flat_obs_dim(env.observation_space), env.action_space.shape[0], config)
    curve, next_eval = [], every
    def callback(agent):
        nonlocal next_eval
        if agent.num_timesteps >= next_eval:
            next_eval += every
            curve.append(dict(steps=agent.num_timesteps, success=evaluate(agent.predict, eval_env), train_s=agent.history["time_s"][-1]))
            log(curve[-1])
    agent.train(env, total_timesteps=budget, callback=callback)
    return curve

def make_sb3(seed:int, preset:PPOConfig):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
    from bench_ppo import sb3_shared_trunk      # the same network as in the reach comparison
    SharedTrunk = sb3_shared_trunk()

    vec = DummyVecEnv([lambda: gym.wrappers.FlattenObservation(make_env("lift"))] * preset.n_envs)
    vec = VecNormalize(vec, norm_obs=True, norm_reward=True, clip_obs=10.0, clip_reward=10.0, gamma=preset.gamma, epsilon=1e-8)
    model = PPO("MlpPolicy", vec, learning_rate=preset.lr, n_steps=preset.n_steps // preset.n_envs, batch_size=preset.batch_size,
                n_epochs=preset.n_epochs, gamma=preset.gamma, gae_lambda=preset.gae_lambda, clip_range=preset.clip_epsilon,
                ent_coef=preset.entropy_coef, vf_coef=preset.value_loss_coef, max_grad_norm=preset.max_grad_norm,
                normalize_advantage=True,
                policy_kwargs=dict(features_extractor_class=SharedTrunk, features_extractor_kwargs=dict(hidden_dim=256, n_layers=2),
                                   net_arch=[], share_features_extractor=True, activation_fn=torch.nn.Tanh, log_std_init=0.0,
                                   ortho_init=True, optimizer_kwargs=dict(eps=1e-5)),
                seed=seed, device="cpu", verbose=0)
    return model, vec

def run_sb3(seed:int, budget:int, every:int, log) -> list:
    from stable_baselines3.common.callbacks import BaseCallback
    model, vec = make_sb3(seed, PPOConfig.preset("lift"))
    eval_env, curve = make_env("lift"), []
    def predict(obs):
        x = vec.normalize_obs(flatten_obs(obs).astype(np.float32)[None])
        return model.predict(x, deterministic=True)[0][0]

    class Every(BaseCallback):
        def __init__(self):
            super().__init__(); self.next, self.eval_s, self.t0 = every, 0.0, time.perf_counter()
        def _on_step(self): return True
        def _on_rollout_start(self):    # after the previous update: the policy trained on num_timesteps steps
            if self.num_timesteps >= self.next:
                self.next += every
                t = time.perf_counter()
                vec.training = False
                curve.append(dict(steps=int(self.num_timesteps), success=evaluate(predict, eval_env),
                                  train_s=t - self.t0 - self.eval_s))
                vec.training = True
                self.eval_s += time.perf_counter() - t
                log(curve[-1])
    cb = Every()
    model.learn(total_timesteps=budget, callback=cb)
    t = time.perf_counter(); vec.training = False
    curve.append(dict(steps=int(model.num_timesteps), success=evaluate(predict, eval_env), train_s=t - cb.t0 - cb.eval_s))
    log(curve[-1])
    return curve

def first_at(curve, t):
    return next((r["steps"] for r in curve if r["success"] >= t), None)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=49_152)
    ap.add_argument("--only", nargs="*", default=None, help="a subset of: preset defaults sb3")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = a.json or Path(__file__).parent / "results" / f"lift-compare-s{a.seed}.json"
    print(f"python {platform.python_version()}, torch {torch.__version__}, {os.cpu_count()} CPUs, budget {a.budget:,} env steps, "
          f"seed {a.seed}, load average at start {os.getloadavg()[0]:.2f}", flush=True)
    base = dict(seed=a.seed, progress_bar=False, checkpoint_every=None, checkpoint_every_s=None, env_workers=0)
    contenders = {"preset": ("ours, preset", lambda log: run_ours(PPOConfig.preset("lift", **base), a.budget, a.eval_every, log)),
                  "defaults": ("ours, defaults", lambda log: run_ours(PPOConfig(**base), a.budget, a.eval_every, log)),
                  "sb3": ("SB3, preset", lambda log: run_sb3(a.seed, a.budget, a.eval_every, log))}
    results = {}
    for key in (a.only or list(contenders)):
        name, run = contenders[key]
        log = lambda r, name=name: print(f"  {name:15s} {r['steps']:>9,} steps  success {r['success']:4.0%}  train {r['train_s']:6.0f} s", flush=True)
        curve = run(log)
        results[name] = dict(curve=curve, **{f"steps_to_{t:.0%}": first_at(curve, t) for t in (0.5, 0.8, 0.95)},
                             best=max(r["success"] for r in curve), train_s=curve[-1]["train_s"])
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(out, "w") as f: json.dump(dict(budget=a.budget, seed=a.seed, results=results), f, indent=1)
    print(f"\n{'':16s} {'to 50%':>9s} {'to 80%':>9s} {'to 95%':>9s} {'best':>5s} {'train s':>8s}")
    for name, r in results.items():
        fmt = lambda s: f"{s:>9,}" if s is not None else f"{'never':>9s}"
        print(f"{name:16s} {fmt(r['steps_to_50%'])} {fmt(r['steps_to_80%'])} {fmt(r['steps_to_95%'])} {r['best']:5.0%} {r['train_s']:8.0f}")

if __name__ == "__main__":
    main()
