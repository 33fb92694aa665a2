"""The batched vector env against N single envs: same seeds and actions, same results; its Gymnasium contract."""
import numpy as np
import pytest
import gymnasium as gym
from gymnasium.vector import SyncVectorEnv, AutoresetMode

from simscaleai.sim import make_env, make_vec_env, scripted_policy, PandaVectorEnv


def flat(obs):
    return np.concatenate([np.asarray(obs[k], np.float64).reshape(len(obs[k]), -1) for k in sorted(obs)], 1)


def rows(obs, i):
    return {k: v[i] for k, v in obs.items()}


@pytest.mark.parametrize("name", ["reach", "lift", "pick_place"])
@pytest.mark.parametrize("threads", [1, 3])
def test_expert_episodes_equal_single_envs(name, threads):
    "The task's expert drives 4 envs through grasps and autoresets: batched and one-by-one agree, seed by seed."
    n, horizon = 4, 30
    expert = scripted_policy(name)
    venv = make_vec_env(name, num_envs=n, num_threads=threads, max_episode_steps=horizon)
    sync = SyncVectorEnv([lambda: make_env(name, max_episode_steps=horizon) for _ in range(n)], autoreset_mode=AutoresetMode.SAME_STEP)
    obs, _ = venv.reset(seed=[5, 6, 7, 8]); obs2, _ = sync.reset(seed=[5, 6, 7, 8])
    assert np.array_equal(flat(obs), flat(obs2))
    successes = 0
    for t in range(2 * horizon + 5):
        actions = np.stack([expert(rows(obs, i)) for i in range(n)])
        obs, r, te, tr, info = venv.step(actions)
        obs2, r2, te2, tr2, info2 = sync.step(actions)
        assert np.array_equal(flat(obs), flat(obs2)), t
        np.testing.assert_allclose(r, r2, rtol=0, atol=1e-12)
        assert np.array_equal(te, te2) and np.array_equal(tr, tr2)
        assert np.array_equal(info["success"], info2["success"])
        assert np.array_equal(info["_reward_terms"], info2.get("_reward_terms", np.zeros(n, bool)))   # a reset env's info has none
        for k, v in info["reward_terms"].items():
            if not k.startswith("_") and (~tr).any(): np.testing.assert_allclose(v[~tr], np.asarray(info2["reward_terms"][k])[~tr], atol=1e-12)
        for i in np.flatnonzero(tr):
            assert np.array_equal(flat({k: v[None] for k, v in info["final_obs"][i].items()}),
                                  flat({k: np.asarray(v)[None] for k, v in info2["final_obs"][i].items()}))
            successes += bool(info["final_info"]["success"][i])
    assert successes >= 4      # the expert succeeds in most episodes: grasps and carries were compared, not only idle arms
    venv.close(); sync.close()


def test_gymnasium_contract():
    venv = gym.make_vec("SimScaleAI/Reach-v0", num_envs=3)
    assert isinstance(venv, PandaVectorEnv) and venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = venv.reset(seed=0)
    assert obs in venv.observation_space and set(info) >= {"distance", "success", "_success"}
    same, _ = make_vec_env("reach", num_envs=3).reset(seed=[0, 1, 2])
    assert np.array_equal(flat(obs), flat(same))       # an int seed s seeds env i with s + i
    obs, r, te, tr, info = venv.step(venv.action_space.sample())
    assert r.shape == (3,) and r.dtype == np.float64 and te.dtype == bool and obs in venv.observation_space
    venv.close()


def test_bad_inputs():
    venv = make_vec_env("lift", num_envs=2)
    with pytest.raises(RuntimeError, match="before reset"): venv.step(np.zeros((2, 4)))
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"): venv.step(np.zeros(4))
    with pytest.raises(ValueError, match="finite"): venv.step(np.array([[0, 0, 0, 0], [0, np.inf, 0, 0]]))
    with pytest.raises(ValueError, match="2 seeds"): venv.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="num_envs must be an int >= 1"): make_vec_env("reach", num_envs=0)
    with pytest.raises(ValueError, match="unknown environment"): make_vec_env("push", num_envs=2)
    venv.close()
