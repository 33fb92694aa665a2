"""The PPO update on one torch thread or two (issue 12: can the update use the core that collection leaves idle?).

    OMP_NUM_THREADS=1 python benchmarks/bench_update_threads.py

PPOAgent with the default PPOConfig on reach, torch_threads 1 and 2 interleaved, 3 rounds (seed = round): one warm-up
rollout, then 6,144 env steps timed, the agent's updates timed on the agent. Prints each round and the best of each.
Figures quoted in the vector chapter (Speed) were measured with the machine's other work paused.
"""
import os, time
os.environ.setdefault("MUJOCO_GL", "egl")
import torch
from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig, flat_obs_dim
env = make_env("reach")
res = {1: [], 2: []}
for r in range(3):
    for th in (1, 2):
        agent = PPOAgent(flat_obs_dim(env.observation_space), 4, PPOConfig(seed=r, progress_bar=False, torch_threads=th))
        agent.train(env, total_timesteps=2048)
        update, spent = agent._update, [0.0]
        def timed(buf, update=update, spent=spent):
            t = time.perf_counter(); o = update(buf); spent[0] += time.perf_counter() - t; return o
        agent._update = timed
        t = time.perf_counter(); agent.train(env, total_timesteps=6144); dt = time.perf_counter() - t
        res[th].append((6144 / dt, 6144 / spent[0]))
        print(r, th, f"ppo {6144/dt:.0f} sps, update alone {6144/spent[0]:.0f} sps", flush=True)
for th in (1, 2): print(th, "best ppo", max(x[0] for x in res[th]), "best update", max(x[1] for x in res[th]))
