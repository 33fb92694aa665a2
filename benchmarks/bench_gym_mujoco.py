"""Our PPO next to Stable-Baselines3's on Gymnasium's MuJoCo locomotion tasks, with CleanRL's settings, on the same budget.

    python benchmarks/bench_gym_mujoco.py --env Hopper-v5 --impl ours --seed 0
    python benchmarks/bench_gym_mujoco.py --env Hopper-v5 --impl sb3 --seed 0
    python benchmarks/bench_gym_mujoco.py --summary             # the table of every run in benchmarks/results/gym_mujoco/

CleanRL's `ppo_continuous_action.py` settings (its published Hopper-v4 result: 2,383 +- 272 at 1M steps, 3 seeds,
`docs/benchmark/ppo_continuous_action.md` in its repository): 1 env, 2048-step rollouts, 32 mini-batches of 64, 10 epochs,
lr 3e-4 annealed linearly to 0, gamma 0.99, GAE lambda 0.95, clip 0.2 (on the value too), no entropy bonus, value coefficient 0.5,
gradient norm 0.5, observation and reward normalisation clipped at 10, 64x64 tanh networks. Both implementations get them:
ours through PPOConfig, with the spec's network (actor and critic share the 64x64 trunk, --impl ours) or a trunk each as
CleanRL has (shared_network=False, --impl ours-separate); SB3's PPO with separate 64x64 actor and critic networks (its
MlpPolicy default) and VecNormalize.

Reported per run (one JSON file each): the training return (stochastic policy, mean of the last 10 episodes, as CleanRL
reports it) at the budget, the deterministic return on 10 evaluation episodes (reset seeds 10,000 + i) at the budget, the
training-return curve, and the wall-clock seconds (this machine's only: compare runs by env steps).
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
import argparse, json, platform, sys, time
from pathlib import Path

import numpy as np
import torch
import gymnasium as gym
from simscaleai.utils import atomic_write

RESULTS = Path(__file__).parent / "results" / "gym_mujoco"
CLEANRL = dict(n_envs=1, hidden_dim=64, n_layers=2, lr=3e-4, anneal_lr=True, n_steps=2048, batch_size=64, n_epochs=10, gamma=0.99,
               gae_lambda=0.95, clip_epsilon=0.2, clip_value_loss=True, entropy_coef=0.0, value_loss_coef=0.5, max_grad_norm=0.5,
               normalize_obs=True, normalize_reward=True, obs_clip=10.0, reward_clip=10.0)
# CleanRL docs/rl-algorithms/ppo.md, ppo_continuous_action on MuJoCo v4 (tag pr-424): mean +- std over 3 seeds at 1M steps
CLEANRL_PUBLISHED = {"Hopper-v4": (2382.86, 271.74), "HalfCheetah-v4": (1442.64, 46.03), "Walker2d-v4": (2287.95, 571.78)}
EVAL_SEED, EVAL_EPISODES = 10_000, 10

def evaluate(predict, env_id:str) -> list:
    "Deterministic returns of EVAL_EPISODES episodes, reset seeds EVAL_SEED + i, run to the env's own time limit."
    from simscaleai.rl.evaluator import EvalConfig
    from simscaleai.rl.callbacks import evaluate_any      # no info["success"] here: returns only, no warning
    env = gym.make(env_id)
    r = evaluate_any(env, predict, EvalConfig(n_episodes=EVAL_EPISODES, seed=EVAL_SEED, max_steps=env.spec.max_episode_steps,
                                                 progress=False))
    env.close()
    return r["episode_rewards"]

def run_ours(env_id:str, seed:int, steps:int, shared:bool=True) -> dict:
    from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
    agent = PPOAgent.for_env(env_id, PPOConfig(**CLEANRL, seed=seed, total_timesteps=steps, progress_bar=False, shared_network=shared))
    agent.train(env_id)
    h = agent.history
    return dict(curve=list(zip(h["episode_timesteps"], h["episode_reward"])), eval_returns=evaluate(agent.predict, env_id),
                final_std=float(agent._flat.log_std.exp().mean()), steps=agent.num_timesteps)

def run_sb3(env_id:str, seed:int, steps:int) -> dict:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize
    venv = VecNormalize(make_vec_env(env_id, n_envs=1, seed=seed), norm_obs=True, norm_reward=True, clip_obs=10.0, clip_reward=10.0, gamma=0.99)
    model = PPO("MlpPolicy", venv, learning_rate=lambda frac: 3e-4 * frac, n_steps=2048, batch_size=64, n_epochs=10, gamma=0.99,
                gae_lambda=0.95, clip_range=0.2, clip_range_vf=0.2, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, seed=seed,
                policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh), device="cpu", verbose=0)
    model.learn(steps)
    venv.training = False
    monitor = venv.venv.envs[0]               # the Monitor wrapper make_vec_env put around the env
    t = np.cumsum(monitor.get_episode_lengths()).tolist()
    def predict(obs): return model.predict(venv.normalize_obs(obs[None]), deterministic=True)[0][0]
    return dict(curve=list(zip(t, monitor.get_episode_rewards())), eval_returns=evaluate(predict, env_id),
                final_std=float(torch.exp(model.policy.log_std).mean()), steps=int(model.num_timesteps))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="Hopper-v5")
    p.add_argument("--impl", choices=["ours", "ours-separate", "sb3"], default="ours",
                   help="ours: the spec's network (actor and critic share the trunk); ours-separate: shared_network=False, a trunk each")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--summary", action="store_true", help="print the table of the runs in benchmarks/results/gym_mujoco and exit")
    a = p.parse_args(argv)
    if a.summary: return print(summary())
    out = RESULTS / f"{a.env}-{a.impl}-s{a.seed}.json"
    if out.exists(): p.error(f"{out} exists: a run is never overwritten; move it away first")
    torch.set_num_threads(1)
    t0 = time.time()
    run = {"ours": run_ours, "ours-separate": lambda *x: run_ours(*x, shared=False), "sb3": run_sb3}[a.impl]
    r = run(a.env, a.seed, a.steps)
    returns = [ret for _, ret in r["curve"]]
    r.update(env=a.env, impl=a.impl, seed=a.seed, budget=a.steps, wall_s=time.time() - t0,
             train_return_last10=float(np.mean(returns[-10:])), eval_return_mean=float(np.mean(r["eval_returns"])),
             command="python " + " ".join([sys.argv[0], *(argv or sys.argv[1:])]),
             machine=dict(python=platform.python_version(), torch=torch.__version__, cpus=os.cpu_count()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with atomic_write(out, "w") as f: json.dump(r, f)
    print(f"{a.env} {a.impl} seed {a.seed}: train return (last 10) {r['train_return_last10']:.0f}, "
          f"deterministic eval {r['eval_return_mean']:.0f}, {r['wall_s']:.0f} s")

def summary() -> str:
    runs = [json.loads(f.read_text()) for f in sorted(RESULTS.glob("*.json"))]
    rows = ["| env | impl | seeds | train return at budget (last 10 episodes), per seed | deterministic eval return, per seed | wall s |",
            "|---|---|---|---|---|---|"]
    for key in sorted({(r["env"], r["impl"]) for r in runs}):
        rs = sorted((r for r in runs if (r["env"], r["impl"]) == key), key=lambda r: r["seed"])
        col = lambda k: " / ".join(f"{r[k]:.0f}" for r in rs)
        rows.append(f"| {key[0]} | {key[1]} | {', '.join(str(r['seed']) for r in rs)} | {col('train_return_last10')} | "
                    f"{col('eval_return_mean')} | {col('wall_s')} |")
    return "\n".join(rows)

if __name__ == "__main__":
    main()
