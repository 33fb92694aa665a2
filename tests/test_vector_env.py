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


@pytest.mark.parametrize("name", ["reach", "lift", "pick_place", "push", "stack"])
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
    with pytest.raises(ValueError, match="unknown environment"): make_vec_env("throw", num_envs=2)
    venv.close()


def test_batched_pool_restores_interrupted_episodes():
    "get_state mid-episode, then a new pool's start(states): every env replays its episode and goes on where it was."
    from simscaleai.rl.runners import EnvPoolRunner
    def run(pool, steps, t0=0):
        out = []
        for t in range(t0, t0 + steps):
            for g, s in enumerate(pool.groups):
                pool.launch(g, np.tile(np.array([np.sin(t + g), np.cos(t), 0.3, -1.0], np.float32), (s.stop - s.start, 1)))
            out.append(np.concatenate([pool.collect(g).obs for g in range(len(pool.groups))]))
        return np.stack(out)
    pool = EnvPoolRunner(make_env("lift", max_episode_steps=9), 4, 1, seed=3)
    pool.start(None); run(pool, 13); state = pool.get_state()
    after = run(pool, 6, t0=13); pool.close()
    restored_pool = EnvPoolRunner(make_env("lift", max_episode_steps=9), 4, 1, seed=3)
    obs, restored = restored_pool.start(state)
    assert pool.batched and restored.all()
    assert np.array_equal(obs, np.stack([s["last_obs"] for s in state]))
    assert np.array_equal(run(restored_pool, 6, t0=13), after)
    restored_pool.close()


def test_ppo_trains_on_a_task_name_and_batched_equals_one_by_one():
    "PPO given a task name uses the batched pool; its history matches the same run with envs stepped one by one."
    from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
    from simscaleai.rl.rollouts import flat_obs_dim
    from simscaleai.rl.rewards.rewards import RewardFunction
    from simscaleai.sim import default_reach_reward
    class OneByOne(RewardFunction):
        "Reach's default reward, refusing batches: forces the pool to step the envs one by one."
        def __init__(self): self.inner = default_reach_reward()
        def compute_terms(self, obs, action, info):
            if np.ndim(obs["ee_pos"]) != 1: raise TypeError("one step at a time")
            return self.inner.compute_terms(obs, action, info)
        def compute(self, obs, action, info): return sum(self.compute_terms(obs, action, info).values())
    cfg = lambda: PPOConfig(n_steps=256, batch_size=64, n_epochs=2, n_envs=8, seed=0, progress_bar=False)
    agent = PPOAgent(20, 4, cfg()); agent.train("reach", total_timesteps=256)
    assert agent.num_timesteps == 256 and agent._rollout_state["kind"] == "pool"
    batched = PPOAgent(20, 4, cfg()).train(make_env("reach", max_episode_steps=20), total_timesteps=512)
    with pytest.warns(RuntimeWarning, match="does not take batches"):
        one_by_one = PPOAgent(20, 4, cfg()).train(make_env("reach", max_episode_steps=20, reward_fn=OneByOne()), total_timesteps=512)
    assert len(batched["episode_reward"]) == 24      # 8 envs x 64 steps / 20-step episodes: 3 each
    for k in ("episode_reward", "episode_length", "policy_loss", "value_loss"):
        np.testing.assert_allclose(batched[k], one_by_one[k], rtol=1e-6, atol=1e-9)
