"""PPO checkpoints (plain data, atomic, exact resume, clear errors), reproducibility, and bad-input errors."""
import os
import numpy as np
import pytest
import torch

import simscaleai.rl.agents.ppo as ppo
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.testing import ToyReach, Countdown, SMALL_PPO, without_timing as comparable


def small_config(**kw): return PPOConfig(**{**SMALL_PPO, **kw})


def trained(steps=512, **kw):
    agent = PPOAgent(4, 2, small_config(**kw))
    agent.train(ToyReach(), total_timesteps=steps)
    return agent


# ---------------------------------------------------------------- format
def walk(obj, path="ckpt"):
    "Every leaf of a checkpoint: tensors and plain Python data only."
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, (str, int)), path
            yield from walk(v, f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, obj


def test_checkpoint_is_plain_data_and_complete(tmp_path):
    agent = trained()
    agent.save(tmp_path / "a.pt")
    ckpt = torch.load(tmp_path / "a.pt", weights_only=True)
    for path, leaf in walk(ckpt):
        assert leaf is None or isinstance(leaf, (torch.Tensor, bool, int, float, str)), (path, type(leaf))
    for key in ("policy", "optimizer", "obs_rms", "ret_rms", "config", "seed", "counters", "rng", "rollout_state", "history"):
        assert key in ckpt, key
    assert ckpt["config"] == {f: getattr(agent.config, f) for f in ckpt["config"]}
    assert ckpt["counters"]["num_timesteps"] == 512
    assert ckpt["rollout_state"]["kind"] == "pool" and len(ckpt["rollout_state"]["envs"]) == 4


def test_load_restores_everything(tmp_path):
    agent = trained()
    agent.save(tmp_path / "a.pt")
    other = PPOAgent(4, 2, PPOConfig(hidden_dim=32, n_layers=1, seed=9, progress_bar=False)).load(tmp_path / "a.pt")
    assert other.config == agent.config and other.seed == agent.seed           # config adopted, network rebuilt
    for (n1, p1), (n2, p2) in zip(agent.policy.state_dict().items(), other.policy.state_dict().items()):
        assert n1 == n2 and torch.equal(p1, p2)
    np.testing.assert_array_equal(other.obs_rms.mean, agent.obs_rms.mean)
    np.testing.assert_array_equal(other.obs_rms.var, agent.obs_rms.var)
    assert other.ret_rms.var == agent.ret_rms.var
    assert torch.equal(other.generator.get_state(), agent.generator.get_state())
    assert other.history == agent.history and other.num_timesteps == agent.num_timesteps
    obs = ToyReach().reset(seed=5)[0]
    np.testing.assert_array_equal(other.predict(obs), agent.predict(obs))
    s1, s2 = agent.optimizer.state_dict()["state"][0], other.optimizer.state_dict()["state"][0]
    assert torch.equal(s1["exp_avg"], s2["exp_avg"]) and torch.equal(s1["exp_avg_sq"], s2["exp_avg_sq"])


def test_loading_a_checkpoint_for_other_dims_fails_clearly(tmp_path):
    trained().save(tmp_path / "a.pt")
    for obs_dim, action_dim in ((5, 2), (4, 3)):
        agent = PPOAgent(obs_dim, action_dim, PPOConfig(progress_bar=False))
        before = agent.policy.state_dict()
        with pytest.raises(ValueError, match=r"saved by an agent with obs_dim=4, action_dim=2; this agent has "
                                             rf"obs_dim={obs_dim}, action_dim={action_dim}"):
            agent.load(tmp_path / "a.pt")
        assert all(torch.equal(v, agent.policy.state_dict()[k]) for k, v in before.items())   # untouched


def test_loading_something_else_fails_clearly(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a PPOAgent checkpoint"):
        PPOAgent(4, 2).load(tmp_path / "other.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable PPOAgent checkpoint"):
        PPOAgent(4, 2).load(tmp_path / "garbage.pt")
    with pytest.raises(FileNotFoundError):
        PPOAgent(4, 2).load(tmp_path / "missing.pt")


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "agent.pt"
    first = trained(256)
    first.save(path)                                     # creates the directory
    good = path.read_bytes()

    def crash_half_way(obj, f, *a, **k):
        f.write(b"partial checkpoint bytes")
        raise OSError("disk full")
    monkeypatch.setattr(ppo.torch, "save", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        trained(512).save(path)
    assert path.read_bytes() == good                     # the old checkpoint is intact
    assert os.listdir(path.parent) == ["agent.pt"]       # and no temporary file is left behind


# ---------------------------------------------------------------- exact resume and reproducibility
@pytest.mark.parametrize("workers", [0, 1])
@pytest.mark.parametrize("anneal", [False, True])
def test_resume_is_exact(tmp_path, workers, anneal):
    # 20-step episodes, 64 steps per env per rollout: the save falls in the middle of every env's episode
    cfg = dict(env_workers=workers, anneal_lr=anneal, total_timesteps=1024)
    whole = PPOAgent(4, 2, small_config(**cfg))
    whole.train(ToyReach(), total_timesteps=1024)
    half = PPOAgent(4, 2, small_config(**cfg))
    half.train(ToyReach(), total_timesteps=512)
    half.save(tmp_path / "half.pt")
    resumed = PPOAgent(4, 2, small_config(seed=77)).load(tmp_path / "half.pt")
    resumed.train(ToyReach(), total_timesteps=512)       # a new env object: the interrupted episodes are replayed
    assert torch.equal(resumed._flat.flat, whole._flat.flat)
    assert comparable(resumed.history) == comparable(whole.history)
    np.testing.assert_array_equal(resumed.obs_rms.var, whole.obs_rms.var)
    assert resumed.ret_rms.var == whole.ret_rms.var


def test_a_save_from_the_callback_resumes_exactly(tmp_path):
    # benchmarks keep their best agent with agent.save inside the callback: that file must resume as exactly as the end of train()
    whole = PPOAgent(4, 2, small_config(env_workers=1))
    whole.train(ToyReach(), total_timesteps=1024)
    def save_at_512(agent):
        if agent.num_timesteps == 512: agent.save(tmp_path / "mid.pt")
    PPOAgent(4, 2, small_config(env_workers=1)).train(ToyReach(), total_timesteps=1024, callback=save_at_512)
    resumed = PPOAgent.from_checkpoint(tmp_path / "mid.pt")
    assert resumed.num_timesteps == 512 and resumed._rollout_state is not None
    resumed.train(ToyReach(), total_timesteps=512)
    assert torch.equal(resumed._flat.flat, whole._flat.flat)
    assert comparable(resumed.history) == comparable(whole.history)


def test_resume_in_the_same_agent_is_exact_too():
    whole = trained(1024)
    twice = trained(512)
    twice.predict(np.zeros(4))                           # using the agent in between changes nothing
    twice.train(ToyReach(), total_timesteps=512)
    assert torch.equal(twice._flat.flat, whole._flat.flat)
    assert comparable(twice.history) == comparable(whole.history)


def test_resume_with_a_different_env_warns_and_starts_new_episodes(tmp_path):
    trained(256).save(tmp_path / "a.pt")
    agent = PPOAgent(4, 2).load(tmp_path / "a.pt")
    with pytest.warns(RuntimeWarning, match=r"envs \[0, 1, 2, 3\]: replaying the interrupted episode did not reproduce"):
        agent.train(ToyReach(speed=0.2), total_timesteps=256)     # env 2, 3 live in the worker process
    assert agent.num_timesteps == 512


def test_same_seed_same_history_other_seed_other_history():
    a, b, c = trained(768), trained(768), trained(768, seed=1)
    assert comparable(a.history) == comparable(b.history)
    assert torch.equal(a._flat.flat, b._flat.flat)
    assert a.history["policy_loss"] != c.history["policy_loss"]
    assert set(a.history) >= {"sps", "time_s"}


def test_seed_none_draws_one_and_keeps_it():
    a = PPOAgent(4, 2, PPOConfig(seed=None, progress_bar=False))
    b = PPOAgent(4, 2, PPOConfig(seed=None, progress_bar=False))
    assert isinstance(a.seed, int) and a.seed != b.seed
    c = PPOAgent(4, 2, PPOConfig(seed=a.seed, progress_bar=False))
    assert torch.equal(a._flat.flat, c._flat.flat)


# ---------------------------------------------------------------- progress bar and logging
def test_progress_bar_can_be_turned_off(capfd):
    trained(256, progress_bar=False)
    assert capfd.readouterr().err == ""
    trained(256, progress_bar=True)
    err = capfd.readouterr().err
    assert "PPO" in err and "256/256" in err and "sps=" in err and "ret=" in err


def test_log_every(caplog):
    import logging
    with caplog.at_level(logging.INFO, logger="simscaleai.rl.agents.ppo"):
        trained(1024, log_every=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "simscaleai.rl.agents.ppo"]
    assert len(lines) == 2 and lines[0].startswith("update 2 ")


def test_callback_can_stop_training():
    agent = PPOAgent(4, 2, small_config())
    h = agent.train(ToyReach(), total_timesteps=10_000, callback=lambda ag: ag.n_updates < 3)
    assert agent.n_updates == 3 and len(h["policy_loss"]) == 3


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("field,value,exc,message", [   # TypeError: wrong type; ValueError: wrong value
    ("batch_size", 4096, ValueError, "PPOConfig.batch_size must be <= n_steps=2048"),
    ("batch_size", 0, ValueError, "PPOConfig.batch_size must be an int >= 1, got 0"),
    ("lr", 0.0, ValueError, "PPOConfig.lr must be a finite number > 0, got 0.0"),
    ("lr", -1e-3, ValueError, "PPOConfig.lr must be a finite number > 0"),
    ("lr", float("nan"), ValueError, "PPOConfig.lr must be a finite number"),
    ("gamma", 0.0, ValueError, "PPOConfig.gamma must be a finite number > 0 and <= 1, got 0.0"),
    ("gamma", 1.01, ValueError, "PPOConfig.gamma must be a finite number > 0 and <= 1"),
    ("gae_lambda", -0.1, ValueError, "PPOConfig.gae_lambda must be a finite number >= 0 and <= 1"),
    ("clip_epsilon", 0, ValueError, "PPOConfig.clip_epsilon must be a finite number > 0"),
    ("entropy_coef", -0.01, ValueError, "PPOConfig.entropy_coef must be a finite number >= 0"),
    ("value_loss_coef", -1, ValueError, "PPOConfig.value_loss_coef must be a finite number >= 0"),
    ("max_grad_norm", 0, ValueError, "PPOConfig.max_grad_norm must be a finite number > 0"),
    ("n_steps", 0, ValueError, "PPOConfig.n_steps must be an int >= 1"),
    ("n_steps", 2050, ValueError, "PPOConfig.n_steps must be divisible by n_envs=16"),
    ("n_epochs", 2.0, TypeError, "PPOConfig.n_epochs must be an int, got 2.0"),
    ("hidden_dim", True, TypeError, "PPOConfig.hidden_dim must be an int, got True"),
    ("total_timesteps", -5, ValueError, "PPOConfig.total_timesteps must be an int >= 1"),
    ("n_envs", 0, ValueError, "PPOConfig.n_envs must be an int >= 1"),
    ("env_workers", -1, ValueError, "PPOConfig.env_workers must be an int >= 0"),
    ("target_kl", 0.0, ValueError, "PPOConfig.target_kl must be a finite number > 0"),
    ("target_kl", "0.01", TypeError, "PPOConfig.target_kl must be a number or None"),
    ("normalize_obs", 1, TypeError, "PPOConfig.normalize_obs must be True or False, got 1"),
    ("lr", "3e-4", TypeError, "PPOConfig.lr must be a number, got '3e-4'"),
    ("torch_threads", 0, ValueError, "PPOConfig.torch_threads must be an int >= 1"),
    ("seed", -1, ValueError, "PPOConfig.seed must be an int >= 0"),
    ("obs_clip", 0, ValueError, "PPOConfig.obs_clip must be a finite number > 0"),
])
def test_bad_config_names_the_field(field, value, exc, message):
    with pytest.raises(exc) as e:
        PPOConfig(**{field: value})
    assert message in str(e.value)


def test_config_mutated_after_construction_is_checked_by_the_agent():
    config = PPOConfig(progress_bar=False)
    config.batch_size = 10_000
    with pytest.raises(ValueError, match="PPOConfig.batch_size"):
        PPOAgent(4, 2, config)


@pytest.mark.parametrize("obs_dim,action_dim,exc,message", [
    (0, 2, ValueError, "obs_dim must be an int >= 1, got 0"), (4, -1, ValueError, "action_dim must be an int >= 1, got -1"),
    (4.0, 2, TypeError, "obs_dim must be an int, got 4.0")])
def test_bad_dims(obs_dim, action_dim, exc, message):
    with pytest.raises(exc, match=message):
        PPOAgent(obs_dim, action_dim)


def test_bad_envs_and_observations():
    agent = PPOAgent(4, 2, small_config())
    with pytest.raises(ValueError, match="env observations flatten to 1 values, but the agent has obs_dim=4"):
        agent.train(Countdown())
    with pytest.raises(ValueError, match=r"action space must be a Box of shape \(3,\) \(action_dim\)"):
        PPOAgent(4, 3, small_config()).train(ToyReach())
    with pytest.raises(TypeError, match="env must be a gymnasium Env or VectorEnv, got int"):
        agent.train(3)
    with pytest.raises(ValueError, match="env observations flatten to 20 values"):   # a task name is make_env(name)
        agent.train("reach")
    with pytest.raises(ValueError, match="total_timesteps must be an int >= 1, got 0"):
        agent.train(ToyReach(), total_timesteps=0)
    with pytest.raises(ValueError, match="observation flattens to 3 values, but the agent has obs_dim=4"):
        agent.predict(np.zeros(3))
    with pytest.raises(TypeError, match="config must be a PPOConfig, got dict"):
        PPOAgent(4, 2, {"lr": 1e-3})
