"""PPO public-API contract: the spec's code examples (docs reinforcement-learning.md, "PPO Agent") run as written.

The snippets below are copied verbatim from the spec. Where a snippet cannot run as written, the test says what it adds
around it and why; the snippet text itself is never edited, except `total_timesteps`, which is replaced *in the string*
(100_000 -> 4_096, 500_000 -> 4_096) so the test trains for seconds; that substitution is asserted to have happened.
"""
import os, textwrap
import numpy as np
import pytest
import torch

from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig, ActorCritic, RolloutBuffer, flatten_obs

SPEC_CONFIG = '''
from simscaleai.rl.agents.ppo import PPOConfig

config = PPOConfig(
    # Network
    hidden_dim=256,          # MLP hidden layer width
    n_layers=2,              # Number of hidden layers

    # PPO hyperparameters
    clip_epsilon=0.2,        # PPO clip range
    value_loss_coef=0.5,     # Value loss coefficient (c_v)
    entropy_coef=0.01,       # Entropy bonus coefficient (c_e)
    max_grad_norm=0.5,       # Gradient clipping norm

    # GAE
    gamma=0.99,              # Discount factor
    gae_lambda=0.95,         # GAE lambda

    # Training
    lr=3e-4,                 # Adam learning rate
    n_steps=2048,            # Steps per rollout
    n_epochs=10,             # Epochs per update
    batch_size=64,           # Mini-batch size
    total_timesteps=1_000_000,  # Total environment steps
    log_every=10,            # Log every N updates
)
'''

SPEC_USAGE = '''
from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig

# Create environment
env = make_env("reach")

# Create agent
config = PPOConfig(total_timesteps=100_000, lr=3e-4)
agent = PPOAgent(obs_dim=20, action_dim=4, config=config, device="cpu")

# Train
history = agent.train(env)
# history = {
#     "episode_reward": [float, ...],
#     "episode_length": [float, ...],
#     "policy_loss": [float, ...],
#     "value_loss": [float, ...],
# }

# Save / load
agent.save("checkpoints/ppo_reach.pt")
agent.load("checkpoints/ppo_reach.pt")

# Predict actions
obs, _ = env.reset()
action = agent.predict(obs, deterministic=True)  # np.ndarray (4,)
'''

SPEC_ACTOR_CRITIC = '''
from simscaleai.rl.agents.ppo import ActorCritic
import torch

ac = ActorCritic(obs_dim=20, action_dim=4, hidden_dim=256, n_layers=2)

obs = torch.randn(8, 20)
dist, values = ac(obs)
# dist: Normal distribution, sample shape (8, 4)
# values: Tensor (8,)

# Get action with log probability
action, log_prob, value = ac.get_action(obs[0])

# Evaluate existing actions (for PPO update)
log_prob, value, entropy = ac.evaluate_actions(obs, actions)
'''

SPEC_BUFFER = '''
from simscaleai.rl.agents.ppo import RolloutBuffer

buffer = RolloutBuffer(n_steps=2048, obs_dim=20, action_dim=4, device="cpu")

# During rollout collection
buffer.add(obs, action, reward, done, log_prob, value)

# After rollout is complete
buffer.compute_gae(last_value, gamma=0.99, gae_lambda=0.95)

# Generate mini-batches for training
for batch in buffer.get_batches(batch_size=64):
    obs, actions, old_log_probs, returns, advantages = batch
    # PPO update step...

buffer.reset()
'''

SPEC_COMPLETE = '''
from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.rl.evaluator import evaluate_policy, EvalConfig

# 1. Create environment
env = make_env("reach")

# 2. Configure PPO
config = PPOConfig(
    hidden_dim=256,
    n_layers=2,
    clip_epsilon=0.2,
    gamma=0.99,
    gae_lambda=0.95,
    lr=3e-4,
    n_steps=2048,
    n_epochs=10,
    batch_size=64,
    total_timesteps=500_000,
)

# 3. Train
agent = PPOAgent(obs_dim=20, action_dim=4, config=config, device="cpu")
history = agent.train(env)

# 4. Evaluate
results = evaluate_policy(
    env,
    predict_fn=lambda obs: agent.predict(obs, deterministic=True),
    config=EvalConfig(n_episodes=50),
)

print(f"Success rate: {results['success_rate']:.1%}")
print(f"Mean reward: {results['mean_reward']:.2f}")

# 5. Save
agent.save("checkpoints/ppo_reach_final.pt")
env.close()
'''


def shrink(snippet, old, new="total_timesteps=4_096"):
    "Replace the training budget in the snippet's text (and only that); fail if it is not there."
    assert snippet.count(old) == 1, f"{old} not found exactly once in the spec snippet"
    return snippet.replace(old, new)


def run_in(tmp_path, code, namespace=None):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ns = dict(namespace or {})
        exec(compile(textwrap.dedent(code), "<spec snippet>", "exec"), ns)
        return ns
    finally:
        os.chdir(cwd)


def test_spec_config_example_gives_the_defaults():
    ns = run_in(".", SPEC_CONFIG)
    assert ns["config"] == PPOConfig()
    spec_defaults = dict(hidden_dim=256, n_layers=2, clip_epsilon=0.2, value_loss_coef=0.5, entropy_coef=0.01,
                         max_grad_norm=0.5, gamma=0.99, gae_lambda=0.95, lr=3e-4, n_steps=2048, n_epochs=10,
                         batch_size=64, total_timesteps=1_000_000, log_every=10)
    default = PPOConfig()
    for name, value in spec_defaults.items():
        assert getattr(default, name) == value, name


def test_spec_usage_example(tmp_path):
    ns = run_in(tmp_path, shrink(SPEC_USAGE, "total_timesteps=100_000"))
    history, action = ns["history"], ns["action"]
    for key in ("episode_reward", "episode_length", "policy_loss", "value_loss"):
        assert isinstance(history[key], list) and history[key], key
        assert all(type(x) is float for x in history[key]), key
    assert isinstance(action, np.ndarray) and action.shape == (4,)
    assert np.all(np.abs(action) <= 1.0)
    assert (tmp_path / "checkpoints" / "ppo_reach.pt").is_file()
    assert ns["agent"].num_timesteps == 4096 and ns["config"].hidden_dim == 256
    ns["env"].close()


def test_spec_actor_critic_example():
    # the spec's snippet uses `actions` without defining it: the test provides it
    ns = run_in(".", SPEC_ACTOR_CRITIC, {"actions": torch.randn(8, 4)})
    assert ns["dist"].sample().shape == (8, 4)
    assert ns["values"].shape == (8,)
    assert ns["action"].shape == (4,) and ns["log_prob"].shape == (8,) and ns["entropy"].shape == (8,)
    assert isinstance(ns["dist"], torch.distributions.Normal)


def test_spec_rollout_buffer_example():
    # the snippet's variables come from a real network call on a real observation
    from simscaleai.sim import make_env
    env = make_env("reach")
    raw, _ = env.reset(seed=0)
    ac = ActorCritic(20, 4)
    obs = torch.from_numpy(flatten_obs(raw)).float()
    action, log_prob, value = ac.get_action(obs)
    _, reward, terminated, truncated, _ = env.step(action.detach().numpy())
    ns = run_in(".", SPEC_BUFFER, dict(obs=obs, action=action.detach(), reward=reward, done=terminated or truncated,
                                       log_prob=log_prob.detach(), value=value.detach(), last_value=value.detach()))
    assert ns["advantages"].shape == (1,)       # one transition was added, so one mini-batch of one
    assert ns["buffer"].pos == 0
    env.close()


def test_spec_observation_flattening():
    obs = {"joint_pos": np.arange(7.0), "joint_vel": np.arange(7.0) + 10, "ee_pos": np.arange(3.0) + 20,
           "target_pos": np.arange(3.0) + 30, "image": np.zeros((8, 8, 3), np.uint8)}
    flat = flatten_obs(obs)
    assert flat.shape == (20,)
    np.testing.assert_array_equal(flat, np.concatenate([obs["ee_pos"], obs["joint_pos"], obs["joint_vel"], obs["target_pos"]]))
    agent = PPOAgent(obs_dim=20, action_dim=4, config=PPOConfig(seed=0, progress_bar=False))
    assert agent.predict(obs).shape == (4,)      # the image key is skipped by predict too


def test_spec_complete_example(tmp_path, capsys):
    pytest.importorskip("simscaleai.rl.evaluator")
    ns = run_in(tmp_path, shrink(SPEC_COMPLETE, "total_timesteps=500_000"))
    assert "Success rate:" in capsys.readouterr().out
    assert 0.0 <= ns["results"]["success_rate"] <= 1.0
    assert (tmp_path / "checkpoints" / "ppo_reach_final.pt").is_file()
