"""The PPO update on one torch thread or two (issue 12: can the update use the core that collection leaves idle?).

    OMP_NUM_THREADS=1 python benchmarks/bench_update_threads.py

PPOAgent with the default PPOConfig on reach, torch_threads 1 and 2 interleaved, 3 rounds (seed = round), timed by
bench_speed.ppo_sps: one warm-up rollout, then 6,144 env steps timed, the agent's updates timed on the agent. Prints each
round and the best of each. Figures quoted in the vector chapter (Speed) were measured with the machine's other work paused.
"""
from bench_speed import ppo_sps

res = {1: [], 2: []}
for r in range(3):
    for th in (1, 2):
        sps, update_s = ppo_sps("reach", 6144, seed=r, torch_threads=th)
        res[th].append((sps, 1 / update_s))
        print(r, th, f"ppo {sps:.0f} sps, update alone {1 / update_s:.0f} sps", flush=True)
for th in (1, 2): print(th, "best ppo", max(x[0] for x in res[th]), "best update", max(x[1] for x in res[th]))
