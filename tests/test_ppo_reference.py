"""Same seed, same history as before the issue-10 split of PPO into chapters.

tests/data/ppo_reference_history.json was written by the code at commit de18e2f (one 1,076-line ppo.py), before the
split, with the script in this file's REFERENCE_SCRIPT run from the repository root. The split code must reproduce it.
"""
import json
from pathlib import Path

import pytest
from gymnasium.vector import SyncVectorEnv

from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.testing import ToyReach, SMALL_PPO, without_timing

REFERENCE = json.loads((Path(__file__).parent/"data"/"ppo_reference_history.json").read_text())

REFERENCE_SCRIPT = """
out = {}
for workers in (0, 1, 2):
    agent = PPOAgent(4, 2, small_config(env_workers=workers))
    out[f"pool, env_workers={workers}"] = comparable(agent.train(ToyReach(), total_timesteps=768))
venv = SyncVectorEnv([lambda: ToyReach() for _ in range(4)])
agent = PPOAgent(4, 2, small_config(clip_value_loss=True, target_kl=0.05))
out["SyncVectorEnv, clip_value_loss, target_kl"] = comparable(agent.train(venv, total_timesteps=768))
"""   # small_config(**kw) = PPOConfig(**{**SMALL_PPO, **kw}); comparable = without_timing


def config(**kw): return PPOConfig(**{**SMALL_PPO, **kw})

def assert_same_history(history, reference):
    "The same keys, lengths and values, to float tolerance: the reference was written on another CPU, and CPUs round the last bits "
    "of the same float32 arithmetic differently (measured: up to 6e-6 relative on a new machine, the code of the reference commit included)."
    assert sorted(history) == sorted(reference)
    for k, ref in reference.items():
        assert len(history[k]) == len(ref), k
        assert history[k] == pytest.approx(ref, rel=1e-4, abs=1e-6), k


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_env_pool_history_is_unchanged(workers):
    history = PPOAgent(4, 2, config(env_workers=workers)).train(ToyReach(), total_timesteps=768)
    assert_same_history(without_timing(history), REFERENCE[f"pool, env_workers={workers}"])


def test_vector_env_history_is_unchanged():
    venv = SyncVectorEnv([lambda: ToyReach() for _ in range(4)])
    history = PPOAgent(4, 2, config(clip_value_loss=True, target_kl=0.05)).train(venv, total_timesteps=768)
    assert_same_history(without_timing(history), REFERENCE["SyncVectorEnv, clip_value_loss, target_kl"])
