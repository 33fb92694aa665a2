"""Tiny deterministic environments for the PPO tests (not a test module)."""
import numpy as np
import gymnasium as gym


class ToyReach(gym.Env):
    "A 2-D point moved by 0.1 * action toward a random target; dict observations; `max_steps` time limit."
    def __init__(self, max_steps=20, speed=0.1):
        self.speed = speed
        self.observation_space = gym.spaces.Dict({"pos": gym.spaces.Box(-2, 2, (2,)), "target": gym.spaces.Box(-1, 1, (2,))})
        self.action_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        self.max_steps = max_steps

    def _obs(self):
        return {"pos": self.pos.copy(), "target": self.target.copy()}

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.target, self.t = np.zeros(2), self.np_random.uniform(-1, 1, 2), 0
        return self._obs(), {}

    def step(self, action):
        self.pos = np.clip(self.pos + self.speed * np.clip(action, -1, 1), -2, 2)
        self.t += 1
        d = float(np.linalg.norm(self.pos - self.target))
        success = d < 0.1
        info = {"success": success, "reward_terms": {"distance": -d, "bonus": float(success)}}
        return self._obs(), -d + float(success), False, self.t >= self.max_steps, info


class Countdown(gym.Env):
    "Observation t / length; reward 1 per step; ends after `length` steps, by termination or by truncation."
    def __init__(self, length=3, terminate=False):
        self.observation_space = gym.spaces.Box(0, 1, (1,))
        self.action_space = gym.spaces.Box(-1, 1, (1,), np.float32)
        self.length, self.terminate = length, terminate

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        end = self.t >= self.length
        return np.array([self.t / self.length], np.float32), 1.0, end and self.terminate, end and not self.terminate, {}


class BadCopyEnv(ToyReach):
    "Keeps its position in a view of a state array made once in __init__: a deep copy loses the link (copies never move)."
    def __init__(self, max_steps=20):
        super().__init__(max_steps)
        self.state = np.zeros(4)
        self.view = self.state[:2]

    def reset(self, seed=None, options=None):
        gym.Env.reset(self, seed=seed)
        self.state[:] = 0.0
        self.state[2:] = self.np_random.uniform(-1, 1, 2)
        self.target, self.t = self.state[2:].copy(), 0
        return self._obs(), {}

    def _obs(self):
        return {"pos": self.view.copy(), "target": self.target.copy()}

    def step(self, action):
        self.state[:2] += 0.1 * np.clip(action, -1, 1)
        self.t += 1
        return self._obs(), 0.0, False, self.t >= self.max_steps, {}


def small_config(**kw):
    "A PPOConfig small enough for tests: 256-step rollouts over 4 envs, 4 epochs."
    from simscaleai.rl.agents.ppo import PPOConfig
    base = dict(n_steps=256, batch_size=64, n_epochs=4, n_envs=4, env_workers=1, lr=1e-3, seed=0, progress_bar=False)
    base.update(kw)
    return PPOConfig(**base)


def comparable(history):
    "A history without its wall-clock entries (the only ones that depend on the machine, not the seed)."
    return {k: v for k, v in history.items() if k not in ("sps", "time_s")}
