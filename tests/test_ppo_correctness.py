"""PPO correctness: GAE, truncation vs termination, the hand-written gradient, vector-env autoreset, options."""
import math
import numpy as np
import pytest
import torch
import gymnasium as gym
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig, ActorCritic, RolloutBuffer, gae_advantages
from simscaleai.rl.agents.ppo_update import FlatPPO, ppo_loss_reference
from simscaleai.testing import (ToyReach, Countdown, BadCopyEnv, SMALL_PPO, gae_brute_force, gae_python_loop,
                                without_timing as comparable)


def small_config(**kw): return PPOConfig(**{**SMALL_PPO, **kw})


# ---------------------------------------------------------------- GAE
@pytest.mark.parametrize("gamma,lam", [(0.99, 0.95), (0.9, 0.0), (1.0, 1.0), (0.5, 0.3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_gae_vectorised_equals_loop_and_brute_force(gamma, lam, seed):
    rng = np.random.default_rng(seed)
    T, N = 60, 4
    r, v = rng.normal(size=(T, N)) * 3, rng.normal(size=(T, N))
    d, last = (rng.random((T, N)) < 0.15).astype(float), rng.normal(size=N)
    adv, ret = gae_advantages(r, v, d, last, gamma, lam)
    np.testing.assert_allclose(adv, gae_python_loop(r, v, d, last, gamma, lam), atol=1e-6, rtol=0)
    np.testing.assert_allclose(adv, gae_brute_force(r, v, d, last, gamma, lam), atol=1e-6, rtol=0)
    np.testing.assert_allclose(ret, adv + v, atol=1e-12)
    # the buffer's float32 storage gives the same numbers
    buf = RolloutBuffer(T * N, 1, 1, n_envs=N)
    for t in range(T):
        buf.add(np.zeros((N, 1)), np.zeros((N, 1)), r[t], d[t], np.zeros(N), v[t])
    buf.compute_gae(last, gamma, lam)
    np.testing.assert_allclose(buf.advantages.numpy(), adv, atol=1e-5, rtol=1e-5)


def test_gae_all_dones_is_one_step_td():
    r, v = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 0.5])
    adv, _ = gae_advantages(r, v, np.ones(3), 9.0, 0.99, 0.95)
    np.testing.assert_allclose(adv, r - v)


# ---------------------------------------------------------------- truncation vs termination
def rollout(terminate, n_envs=1):
    cfg = PPOConfig(n_steps=6 * n_envs, batch_size=6, n_epochs=1, n_envs=n_envs, env_workers=0, normalize_obs=False,
                    normalize_reward=False, seed=3, progress_bar=False)
    agent = PPOAgent(1, 1, cfg)
    agent.train(Countdown(3, terminate), total_timesteps=1)
    fresh = PPOAgent(1, 1, cfg)                        # same seed: the weights that collected the rollout
    return agent.rollout_buffer, fresh


@pytest.mark.parametrize("n_envs", [1, 2])
def test_truncation_bootstraps_from_true_final_observation(n_envs):
    b_trunc, fresh = rollout(terminate=False, n_envs=n_envs)
    b_term, _ = rollout(terminate=True, n_envs=n_envs)
    v_final = fresh.policy(torch.tensor([[1.0]]))[1].item()     # V(o = [1.0]): never stored in the buffer
    v_next = fresh.policy(torch.tensor([[0.0]]))[1].item()      # V of the observation after the rollout
    assert abs(v_final) > 1e-3
    for b, terminate in ((b_trunc, False), (b_term, True)):
        values, dones = b.values.numpy().astype(np.float64), b.dones.numpy().astype(np.float64)
        rewards = 1.0 + (0.0 if terminate else 0.99 * v_final) * dones
        np.testing.assert_allclose(b.rewards.numpy(), rewards, atol=1e-6)
        expected, _ = gae_advantages(rewards, values, dones, np.full(n_envs, v_next), 0.99, 0.95)
        np.testing.assert_allclose(b.advantages.numpy(), expected, atol=1e-5)
    # the two differ, and exactly by the bootstrap at the last step of each episode
    np.testing.assert_allclose(b_trunc.advantages[2] - b_term.advantages[2], 0.99 * v_final, atol=1e-5)
    assert not torch.allclose(b_trunc.advantages, b_term.advantages)


# ---------------------------------------------------------------- vector envs and autoreset
def valid_columns(env, n_envs=2, n_steps=24):
    cfg = PPOConfig(n_steps=n_steps, batch_size=8, n_epochs=1, n_envs=n_envs, env_workers=0, normalize_obs=False,
                    normalize_reward=False, seed=0, progress_bar=False)
    agent = PPOAgent(1, 1, cfg)
    agent.train(env, total_timesteps=1)
    b = agent.rollout_buffer
    cols = [torch.stack([b.observations[:, e, 0][b.valid[:, e]], b.rewards[:, e][b.valid[:, e]],
                         b.dones[:, e][b.valid[:, e]], b.advantages[:, e][b.valid[:, e]]]) for e in range(n_envs)]
    return agent, b, cols


@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_vector_env_autoreset_modes_match_managed_envs(mode):
    _, _, reference = valid_columns(Countdown(3))
    agent, b, cols = valid_columns(SyncVectorEnv([lambda: Countdown(3)] * 2, autoreset_mode=mode))
    n_valid = 12 if mode != AutoresetMode.NEXT_STEP else 9      # NEXT_STEP: one reset step after each episode
    assert int(b.valid.sum()) == 2 * n_valid
    assert agent.num_timesteps == 2 * n_valid                   # invalid slots are not env steps
    n_cmp = 9                                                   # three complete episodes per env
    for ref, col in zip(reference, cols):
        torch.testing.assert_close(col[:, :n_cmp], ref[:, :n_cmp], atol=1e-6, rtol=0)
    assert agent.history["episode_length"] == [3.0] * len(agent.history["episode_length"])
    seen = sum(len(batch[0]) for batch in b.get_batches(5))
    assert seen == 2 * n_valid                                  # invalid slots are never trained on


def test_vector_env_reward_terms_and_success_reach_history():
    for mode in AutoresetMode:
        venv = SyncVectorEnv([lambda: ToyReach(max_steps=8)] * 2, autoreset_mode=mode)
        agent = PPOAgent(4, 2, PPOConfig(n_steps=32, batch_size=8, n_epochs=1, seed=0, progress_bar=False))
        h = agent.train(venv, total_timesteps=1)
        assert len(h["episode_success"]) == len(h["episode_reward"]) == len(h["reward_term/distance"]) > 0
        np.testing.assert_allclose(np.add(h["reward_term/distance"], h["reward_term/bonus"]), h["episode_reward"], atol=1e-9)


def test_vector_env_num_envs_must_divide_n_steps():
    venv = SyncVectorEnv([lambda: Countdown(3)] * 3)
    agent = PPOAgent(1, 1, PPOConfig(n_steps=64, batch_size=8, progress_bar=False))
    with pytest.raises(ValueError, match=r"n_steps \(64\) must be divisible by the VectorEnv's num_envs \(3\)"):
        agent.train(venv)


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_env_workers_do_not_change_results(workers):
    runs = []
    for w in (0, workers):
        agent = PPOAgent(4, 2, small_config(env_workers=w))
        runs.append(comparable(agent.train(ToyReach(), total_timesteps=512)))
    assert runs[0] == runs[1]


def test_unfaithful_env_copies_are_reported():
    with pytest.warns(RuntimeWarning, match="does not reproduce the env"):
        PPOAgent(4, 2, small_config(env_workers=0)).train(BadCopyEnv(), total_timesteps=1)


# ---------------------------------------------------------------- the hand-written gradient
@pytest.mark.parametrize("xp", [np, torch])
@pytest.mark.parametrize("clip_value", [False, True])
@pytest.mark.parametrize("norm_adv", [True, False])
@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_flat_gradient_equals_autograd(clip_value, norm_adv, n_layers, xp):
    torch.manual_seed(n_layers)
    policy = ActorCritic(7, 3, hidden_dim=16, n_layers=n_layers, init_log_std=-0.4).double()
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.3 * torch.randn_like(p))
    B = 48
    obs, act = torch.randn(B, 7, dtype=torch.float64), torch.randn(B, 3, dtype=torch.float64)
    old_lp = policy.evaluate_actions(obs, act)[0].detach() + 0.4 * torch.randn(B, dtype=torch.float64)
    ret, adv = torch.randn(B, dtype=torch.float64), torch.randn(B, dtype=torch.float64)
    args = (0.2, 0.5, 0.01, norm_adv, clip_value)
    loss, reference_stats = ppo_loss_reference(policy, obs, act, old_lp, ret, adv, *args)
    grads = torch.autograd.grad(loss, list(policy.parameters()))
    flat = FlatPPO(policy)
    flat.xp = xp                            # numpy (the CPU path) or torch (the accelerator path)
    stats = flat.loss_and_grad(obs, act, old_lp, ret, adv, *args)
    np.testing.assert_allclose(stats, reference_stats, atol=1e-10, rtol=0)
    for p, g in zip(policy.parameters(), grads):
        off = p.data.storage_offset()
        torch.testing.assert_close(flat.flat.grad[off:off + p.numel()].view_as(p), g, atol=1e-10, rtol=1e-10)
    assert 0.05 < stats[5] < 0.95          # the clip was active for some samples and not for others


def test_flat_clip_grad_norm_matches_torch():
    policy = ActorCritic(5, 2, hidden_dim=8, n_layers=1)
    flat = FlatPPO(policy)
    flat.flat.grad.copy_(torch.randn_like(flat.flat) * 3)
    grads = [flat.flat.grad[p.data.storage_offset():p.data.storage_offset() + p.numel()].view_as(p).clone() for p in policy.parameters()]
    for p, g in zip(policy.parameters(), grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
    flat.clip_grad_norm_(0.5)
    for p in policy.parameters():
        off = p.data.storage_offset()
        torch.testing.assert_close(flat.flat.grad[off:off + p.numel()].view_as(p), p.grad)


def test_module_and_flat_parameters_share_memory():
    agent = PPOAgent(4, 2, small_config())
    before = agent.policy.actor_log_std.detach().clone()
    agent.train(ToyReach(), total_timesteps=256)
    assert not torch.equal(before, agent.policy.actor_log_std.detach())    # Adam on the flat tensor moved the module
    obs = torch.randn(3, 4)
    mean, value = agent._flat.forward(obs)
    dist, v = agent.policy(obs)
    torch.testing.assert_close(mean, dist.mean.detach()); torch.testing.assert_close(value, v.detach())


# ---------------------------------------------------------------- options
def test_target_kl_stops_updates_early():
    h = PPOAgent(4, 2, small_config(target_kl=1e-6)).train(ToyReach(), total_timesteps=512)
    full = 4 * 256 // 64
    assert all(n < full for n in h["n_minibatches"])
    h2 = PPOAgent(4, 2, small_config()).train(ToyReach(), total_timesteps=512)
    assert h2["n_minibatches"] == [float(full)] * 2


def test_anneal_lr_is_linear_in_agent_steps():
    h = PPOAgent(4, 2, small_config(anneal_lr=True, total_timesteps=1024)).train(ToyReach())
    np.testing.assert_allclose(h["lr"], [1e-3 * (1 - s / 1024) for s in (0, 256, 512, 768)])
    h = PPOAgent(4, 2, small_config()).train(ToyReach(), total_timesteps=512)
    assert h["lr"] == [1e-3, 1e-3]


def test_value_clipping_changes_training_and_is_off_by_default():
    assert PPOConfig().clip_value_loss is False
    a = PPOAgent(4, 2, small_config()).train(ToyReach(), total_timesteps=512)
    b = PPOAgent(4, 2, small_config(clip_value_loss=True)).train(ToyReach(), total_timesteps=512)
    assert a["episode_reward"][:8] == b["episode_reward"][:8]          # same first rollout
    assert a["value_loss"] != b["value_loss"]


def test_observation_normalisation_is_applied_stored_and_frozen():
    agent = PPOAgent(4, 2, small_config())
    agent.train(ToyReach(), total_timesteps=256)
    obs = agent.rollout_buffer.observations.reshape(-1, 4)
    assert abs(obs.mean().item()) < 0.5 and 0.5 < obs.std().item() < 1.5   # roughly standardised
    assert obs.abs().max().item() <= 10.0
    mean = agent.obs_rms.mean.copy()
    agent.predict(np.full(4, 100.0))
    np.testing.assert_array_equal(agent.obs_rms.mean, mean)
    off = PPOAgent(4, 2, small_config(normalize_obs=False))
    off.train(ToyReach(), total_timesteps=256)
    assert off.obs_rms.count < 1                                        # never updated


def test_reward_scaling_divides_by_running_std_of_discounted_return():
    from simscaleai.rl.rollouts import RunningMeanStd
    cfg = PPOConfig(n_steps=40, batch_size=8, n_epochs=1, n_envs=2, env_workers=0, normalize_obs=False, seed=0, progress_bar=False)
    agent = PPOAgent(1, 1, cfg)
    h = agent.train(Countdown(5, terminate=True), total_timesteps=1)      # terminations only: no bootstrap folded in
    assert h["episode_reward"] == [5.0] * 8                             # history keeps the raw rewards
    # the agent processes its envs in two groups (here env 0, then env 1), updating the statistics group by group
    rms, G, expected = RunningMeanStd(()), np.zeros(2), np.zeros((20, 2))
    for t in range(20):
        for e in range(2):
            G[e] = 0.99 * G[e] + 1.0
            rms.update(G[e:e + 1])
            expected[t, e] = np.clip(1.0 / np.sqrt(rms.var + 1e-8), -10, 10)
            if t % 5 == 4:
                G[e] = 0.0
    np.testing.assert_allclose(agent.rollout_buffer.rewards.numpy(), expected, rtol=1e-6)
    off = PPOAgent(1, 1, PPOConfig(**{**cfg.__dict__, "normalize_reward": False}))
    off.train(Countdown(5, terminate=True), total_timesteps=1)
    assert torch.all(off.rollout_buffer.rewards == 1.0)


def test_autograd_update_trains_like_the_flat_one():
    "fast_update=False: autograd on ppo_loss_reference; the same first rollout, the same update up to float32 rounding."
    fast = PPOAgent(4, 2, small_config()).train(ToyReach(), total_timesteps=256)
    ref = PPOAgent(4, 2, small_config(fast_update=False)).train(ToyReach(), total_timesteps=256)
    assert fast["episode_reward"] == ref["episode_reward"]
    for key in ("loss", "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"):
        np.testing.assert_allclose(fast[key], ref[key], atol=1e-4, rtol=1e-3)
