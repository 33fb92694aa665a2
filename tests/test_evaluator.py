"""Contract, bad-input, reproducibility and video tests for simscaleai.rl.evaluator, on the real reach env."""
import inspect
import os
import re
from pathlib import Path

import gymnasium as gym
import imageio_ffmpeg
import numpy as np
import pytest
import torch

from simscaleai.rl.evaluator import EvalConfig, evaluate_policy, takes_deterministic
from simscaleai.sim import make_env, scripted_reach_action
from simscaleai.testing import CountRender

METRICS = ["success_rate", "mean_reward", "std_reward", "mean_length", "min_reward", "max_reward"]

# ---- The spec's code blocks, verbatim (section "Closed-Loop Evaluation") ----
SPEC_CONFIG = '''
from simscaleai.rl.evaluator import EvalConfig

config = EvalConfig(
    n_episodes=20,         # Number of evaluation episodes
    max_steps=200,         # Max steps per episode
    deterministic=True,    # Use deterministic actions
    render=False,          # Render to screen
    save_videos=False,     # Save video recordings
    video_dir="eval_videos",  # Video output directory
)
'''

SPEC_USAGE = '''
from simscaleai.sim import make_env
from simscaleai.rl.evaluator import evaluate_policy, EvalConfig

env = make_env("reach")

# With a trained PPO agent
results = evaluate_policy(
    env,
    predict_fn=agent.predict,
    config=EvalConfig(n_episodes=50),
)

# With a trained BC/VLA model
def model_predict(obs):
    # Convert obs dict to model input
    state = torch.from_numpy(
        np.concatenate([obs[k] for k in sorted(obs) if k != "image"])
    ).float().unsqueeze(0)
    with torch.no_grad():
        action = model.predict({"state": state})
    return action.squeeze(0).numpy()

results = evaluate_policy(env, predict_fn=model_predict)

print(f"Success rate:  {results['success_rate']:.1%}")
print(f"Mean reward:   {results['mean_reward']:.2f}")
print(f"Std reward:    {results['std_reward']:.2f}")
print(f"Mean length:   {results['mean_length']:.1f}")
print(f"Min reward:    {results['min_reward']:.2f}")
print(f"Max reward:    {results['max_reward']:.2f}")
'''


ik_action = scripted_reach_action    # the sim package's scripted reach controller (action scale 0.05 m, gripper open)


class ScriptedAgent:
    "Stands in for a trained agent: `predict(obs, deterministic=True)`; records the flag it was given."
    def __init__(self): self.flags = []
    def predict(self, obs, deterministic=True):
        self.flags.append(deterministic)
        return ik_action(obs)


class IKModel:
    "Stands in for a BC model: `predict({'state': (1, 20) tensor}) -> (1, 4) tensor` (sorted keys: ee_pos first, target_pos last)."
    def predict(self, batch):
        s = batch["state"][0].double().numpy()
        return torch.from_numpy(ik_action({"ee_pos": s[:3], "target_pos": s[-3:]})).unsqueeze(0)


def video_shape(path):
    meta = next(imageio_ffmpeg.read_frames(str(path)))
    return (imageio_ffmpeg.count_frames_and_secs(str(path))[0], meta["size"][1], meta["size"][0])


@pytest.fixture(scope="module")
def env():
    e = make_env("reach")
    yield e
    e.close()


@pytest.fixture(scope="module")
def renv():
    e = make_env("reach", render_mode="rgb_array")
    yield e
    e.close()


def quiet(**kw): return EvalConfig(progress=False, **kw)


# ---- Spec examples ----
def test_spec_blocks_match_spec_file():
    spec = Path(__file__).resolve().parents[2] / "shared/spec/reinforcement-learning.md"
    if not spec.exists(): pytest.skip(f"spec not found at {spec}")
    section = spec.read_text().split("## Closed-Loop Evaluation", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)[:2]
    assert [b.strip("\n") for b in blocks] == [SPEC_CONFIG.strip("\n"), SPEC_USAGE.strip("\n")]


def test_spec_config_block():
    ns = {}
    exec(SPEC_CONFIG, ns)
    c = ns["config"]
    assert (c.n_episodes, c.max_steps, c.deterministic, c.render, c.save_videos, c.video_dir) == \
        (20, 200, True, False, False, "eval_videos")
    defaults = EvalConfig()
    assert [getattr(defaults, f) for f in ("n_episodes", "max_steps", "deterministic", "render", "save_videos", "video_dir")] \
        == [20, 200, True, False, False, "eval_videos"]
    assert list(inspect.signature(evaluate_policy).parameters) == ["env", "predict_fn", "config"]
    assert inspect.signature(evaluate_policy).parameters["config"].default is None


def test_spec_usage_block(capsys):
    agent = ScriptedAgent()
    ns = {"agent": agent, "model": IKModel(), "torch": torch, "np": np}
    exec(SPEC_USAGE, ns)
    results = ns["results"]
    assert all(type(results[k]) is float for k in METRICS)
    assert results["success_rate"] == 1.0 and results["mean_length"] == 200.0
    assert len(agent.flags) == 50 * 200 and set(agent.flags) == {True}   # deterministic=True passed on
    out = capsys.readouterr().out
    assert "Success rate:  100.0%" in out and "Mean length:   200.0" in out


def test_ppo_agent_predict_is_a_predict_fn(env):
    ppo = pytest.importorskip("simscaleai.rl.agents.ppo")
    agent = ppo.PPOAgent(obs_dim=20, action_dim=4, config=ppo.PPOConfig(hidden_dim=32), device="cpu")
    res = evaluate_policy(env, agent.predict, quiet(n_episodes=2, max_steps=20))
    assert res["deterministic_passed"] and res["mean_length"] == 20.0
    again = evaluate_policy(env, agent.predict, quiet(n_episodes=2, max_steps=20))
    assert again["episode_rewards"] == res["episode_rewards"]          # deterministic actions, same episodes


# ---- Metrics and the loop ----
def test_metrics_are_floats_from_per_episode_lists(env):
    rng = np.random.default_rng(0)
    res = evaluate_policy(env, lambda obs: rng.uniform(-1, 1, 4), quiet(n_episodes=5, max_steps=30))
    R = np.array(res["episode_rewards"])
    assert all(type(res[k]) is float for k in METRICS + ["mean_final_distance"])
    assert res["mean_reward"] == pytest.approx(R.mean()) and res["std_reward"] == pytest.approx(R.std(ddof=0))
    assert (res["min_reward"], res["max_reward"]) == (R.min(), R.max())
    assert res["episode_lengths"] == [30] * 5 and res["mean_length"] == 30.0
    assert res["success_rate"] == np.mean(res["episode_successes"])
    assert res["mean_final_distance"] == pytest.approx(np.mean(res["episode_final_distances"]))
    assert res["video_paths"] == [] and "frames" not in res


def test_episode_ends_at_env_truncation(env):
    res = evaluate_policy(env, ik_action, quiet(n_episodes=1, max_steps=10_000))
    assert res["episode_lengths"] == [200]


def test_reward_is_sum_of_env_rewards(env):
    class Sum(gym.Wrapper):
        def reset(self, **kw): self.total = 0.0; return self.env.reset(**kw)
        def step(self, a):
            out = self.env.step(a); self.total += out[1]; return out
    w = Sum(env)
    res = evaluate_policy(w, ik_action, quiet(n_episodes=1, max_steps=25))
    assert res["episode_rewards"] == [pytest.approx(w.total, abs=1e-12)]


def test_success_is_judged_at_the_last_step(env):
    "Reach the target, then leave it for the last 10 steps: a success mid-episode, a failure at the end."
    class Recorder(gym.Wrapper):
        def reset(self, **kw): self.success = []; return self.env.reset(**kw)
        def step(self, a):
            out = self.env.step(a); self.success.append(out[-1]["success"]); return out
    def leave_after(n):
        calls = [0]
        def policy(obs):
            calls[0] += 1
            return ik_action(obs) if (calls[0] - 1) % 40 < n else np.array([0, 0, 1, 1], np.float32)
        return policy
    rec = Recorder(env)
    res = evaluate_policy(rec, leave_after(30), quiet(n_episodes=1, max_steps=40))
    assert any(rec.success) and not rec.success[-1] and res["success_rate"] == 0.0
    res = evaluate_policy(rec, leave_after(40), quiet(n_episodes=1, max_steps=40))
    assert rec.success[-1] and res["success_rate"] == 1.0


def test_missing_success_key_warns_and_counts_as_failure():
    env = gym.make("Pendulum-v1")
    with pytest.warns(UserWarning, match="without info\\['success'\\]"):
        res = evaluate_policy(env, lambda obs: np.zeros(1, np.float32), quiet(n_episodes=2, max_steps=5))
    assert res["success_rate"] == 0.0 and np.isnan(res["mean_final_distance"])


# ---- Reproducibility ----
def _targets(env, policy, **cfg):
    seen = []
    class Spy(gym.Wrapper):
        def reset(self, **kw):
            obs, info = self.env.reset(**kw); seen.append(obs["target_pos"].copy()); return obs, info
    res = evaluate_policy(Spy(env), policy, quiet(**cfg))
    return np.array(seen), res


def test_same_seed_same_episodes(env):
    rng = np.random.default_rng(1)
    a, ra = _targets(env, ik_action, n_episodes=4, max_steps=15, seed=3)
    b, _ = _targets(env, lambda obs: rng.uniform(-1, 1, 4), n_episodes=4, max_steps=15, seed=3)
    c, rc = _targets(env, ik_action, n_episodes=4, max_steps=15, seed=3)
    d, _ = _targets(env, ik_action, n_episodes=4, max_steps=15, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert ra["episode_rewards"] == rc["episode_rewards"] and ra["episode_seeds"] == [3, 4, 5, 6]
    assert not np.allclose(a, d)
    np.testing.assert_array_equal(a[1:], d[:-1])                     # episode i uses seed + i


def test_default_config_is_seeded(env):
    a, _ = _targets(env, ik_action, n_episodes=2, max_steps=5)
    b, _ = _targets(env, ik_action, n_episodes=2, max_steps=5)
    np.testing.assert_array_equal(a, b)
    _, r = _targets(env, ik_action, n_episodes=2, max_steps=5, seed=None)
    assert r["episode_seeds"] == [None, None]


# ---- deterministic flag, predict_fn kinds ----
@pytest.mark.parametrize("flag", [True, False])
def test_deterministic_is_passed_on(env, flag):
    agent = ScriptedAgent()
    res = evaluate_policy(env, agent.predict, quiet(n_episodes=1, max_steps=3, deterministic=flag))
    assert agent.flags == [flag] * 3 and res["deterministic_passed"]
    res = evaluate_policy(env, lambda obs: ik_action(obs), quiet(n_episodes=1, max_steps=3, deterministic=flag))
    assert not res["deterministic_passed"]


def test_takes_deterministic():
    assert takes_deterministic(ScriptedAgent().predict)
    assert takes_deterministic(lambda obs, **kw: None)
    assert not takes_deterministic(lambda obs: None)
    assert not takes_deterministic(lambda obs, *, deterministically=True: None)


def test_torch_tensor_actions_and_sb3_one_liner(env):
    res = evaluate_policy(env, lambda obs: torch.from_numpy(ik_action(obs)), quiet(n_episodes=1, max_steps=50))
    assert res["success_rate"] == 1.0
    sb3 = pytest.importorskip("stable_baselines3")
    model = sb3.PPO("MlpPolicy", gym.wrappers.FlattenObservation(make_env("reach")), n_steps=64, batch_size=64,
                    seed=0, device="cpu")
    flatten = lambda obs: np.concatenate([obs[k] for k in sorted(obs) if k != "image"])
    res = evaluate_policy(env, lambda obs: model.predict(flatten(obs), deterministic=True)[0], quiet(n_episodes=1, max_steps=5))
    assert res["mean_length"] == 5.0
    with pytest.raises(TypeError, match=r"returned a tuple at episode 0, step 0.*wrap it"):
        evaluate_policy(env, lambda obs: model.predict(flatten(obs)), quiet(n_episodes=1))


# ---- Progress bar ----
def test_progress_bar_on_and_off(env, capsys):
    evaluate_policy(env, ik_action, EvalConfig(n_episodes=2, max_steps=3, progress=False))
    assert capsys.readouterr().err == ""
    evaluate_policy(env, ik_action, EvalConfig(n_episodes=2, max_steps=3))
    err = capsys.readouterr().err
    assert "evaluate" in err and "2/2" in err


# ---- Rendering and videos ----


def test_nothing_renders_when_both_off(renv):
    w = CountRender(renv)
    evaluate_policy(w, ik_action, quiet(n_episodes=2, max_steps=10))
    assert w.renders == 0


def test_render_keeps_frames(renv):
    w = CountRender(renv)
    res = evaluate_policy(w, ik_action, quiet(n_episodes=2, max_steps=10, render=True))
    assert w.renders == 22 and [f.shape for f in res["frames"]] == [(11, 240, 320, 3)] * 2
    assert res["frames"][0].dtype == np.uint8 and res["video_paths"] == []
    res = evaluate_policy(renv, ik_action, quiet(n_episodes=3, max_steps=4, render=True, keep_frames=1))
    assert len(res["frames"]) == 1


def test_videos_one_per_episode_never_overwritten(renv, tmp_path):
    vdir = tmp_path / "new" / "videos"
    cfg = quiet(n_episodes=2, max_steps=12, save_videos=True, video_dir=str(vdir))
    first = evaluate_policy(renv, ik_action, cfg)["video_paths"]
    assert vdir.is_dir() and len(first) == 2
    mtimes = {p: os.stat(p).st_mtime_ns for p in first}
    second = evaluate_policy(renv, ik_action, cfg)["video_paths"]
    third = evaluate_policy(renv, ik_action, cfg)["video_paths"]
    assert len(set(first + second + third)) == 6
    assert sorted(p.name for p in vdir.iterdir()) == sorted(Path(p).name for p in first + second + third)
    assert all(os.stat(p).st_mtime_ns == t for p, t in mtimes.items())
    for p in first + second + third:
        assert p.endswith(".mp4") and video_shape(p) == (13, 240, 320)


def test_video_fps_from_env(renv, tmp_path):
    res = evaluate_policy(renv, ik_action, quiet(n_episodes=1, max_steps=19, save_videos=True, video_dir=tmp_path))
    n, secs = imageio_ffmpeg.count_frames_and_secs(res["video_paths"][0])
    assert n == 20 and secs == pytest.approx(20 / renv.metadata["render_fps"], abs=0.06)


def test_no_partial_file_when_encoder_fails(renv, tmp_path, monkeypatch):
    import mediapy
    def broken(path, images, **kw):
        Path(path).write_bytes(b"\x00" * 100)
        raise RuntimeError("encoder crashed")
    monkeypatch.setattr(mediapy, "write_video", broken)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        evaluate_policy(renv, ik_action, quiet(n_episodes=2, max_steps=5, save_videos=True, video_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_error_mid_run_leaves_only_complete_videos(renv, tmp_path):
    calls = [0]
    def policy(obs):
        calls[0] += 1
        return ik_action(obs) if calls[0] <= 5 + 3 else np.full(4, np.nan)
    with pytest.raises(ValueError, match="non-finite action at episode 1, step 3"):
        evaluate_policy(renv, policy, quiet(n_episodes=3, max_steps=5, save_videos=True, video_dir=tmp_path))
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.endswith("-ep000.mp4") and video_shape(files[0]) == (6, 240, 320)


# ---- Bad input ----
BAD_CONFIGS = [   # TypeError: wrong type; ValueError: wrong value
    (dict(n_episodes=0), ValueError, "EvalConfig.n_episodes must be an int >= 1, got 0"),
    (dict(n_episodes=-3), ValueError, "EvalConfig.n_episodes must be an int >= 1, got -3"),
    (dict(max_steps=0), ValueError, "EvalConfig.max_steps must be an int >= 1, got 0"),
    (dict(n_episodes=1.5), TypeError, "EvalConfig.n_episodes must be an int, got 1.5 (float)"),
    (dict(max_steps="200"), TypeError, "EvalConfig.max_steps must be an int, got '200' (str)"),
    (dict(n_episodes=True), TypeError, "EvalConfig.n_episodes must be an int"),
    (dict(seed=-1), ValueError, "EvalConfig.seed must be an int >= 0, got -1"),
    (dict(deterministic="yes"), TypeError, "EvalConfig.deterministic must be True or False"),
    (dict(video_dir=None), TypeError, "EvalConfig.video_dir must be a non-empty path"),
    (dict(fps=-1), ValueError, "EvalConfig.fps must be a finite number > 0"),
    (dict(fps="30"), TypeError, "EvalConfig.fps must be a number or None"),
]


@pytest.mark.parametrize("kw,exc,msg", BAD_CONFIGS)
def test_bad_config(kw, exc, msg):
    with pytest.raises(exc) as e: EvalConfig(**kw)
    assert msg in str(e.value)


def test_config_changed_after_construction_is_checked(env):
    cfg = EvalConfig()
    cfg.n_episodes = 0
    with pytest.raises(ValueError, match="n_episodes must be an int >= 1, got 0"): evaluate_policy(env, ik_action, cfg)


BAD_POLICIES = [
    (lambda obs: np.zeros(3), ValueError, r"action of shape \(3,\) at episode 0, step 0; the env's action space .* expects shape \(4,\)"),
    (lambda obs: np.zeros((1, 4)), ValueError, r"action of shape \(1, 4\) at episode 0, step 0"),
    (lambda obs: np.array([0.1, np.nan, 0.0, 0.0]), ValueError, r"non-finite action at episode 0, step 0"),
    (lambda obs: np.array([np.inf, 0, 0, 0]), ValueError, r"non-finite action at episode 0, step 0"),
    (lambda obs: None, TypeError, r"non-numeric action \(dtype object\) at episode 0, step 0"),
    (lambda obs: np.array(["a"] * 4), TypeError, r"non-numeric action"),
]


@pytest.mark.parametrize("policy,exc,msg", BAD_POLICIES)
def test_bad_predict_fn_output(env, policy, exc, msg):
    with pytest.raises(exc, match=msg): evaluate_policy(env, policy, quiet(n_episodes=2, max_steps=5))


def test_bad_action_names_later_episode_and_step(env):
    calls = [0]
    def policy(obs):
        calls[0] += 1
        return ik_action(obs) if calls[0] != 2 * 10 + 7 + 1 else np.zeros(5)
    with pytest.raises(ValueError, match=r"shape \(5,\) at episode 2, step 7"):
        evaluate_policy(env, policy, quiet(n_episodes=4, max_steps=10))


def test_predict_fn_exception_gets_episode_and_step_note(env):
    def policy(obs): raise KeyError("state")
    with pytest.raises(KeyError) as e: evaluate_policy(env, policy, quiet(n_episodes=1))
    assert "raised by predict_fn at episode 0, step 0" in "".join(getattr(e.value, "__notes__", []))


def test_other_bad_arguments(env, tmp_path):
    with pytest.raises(TypeError, match="predict_fn must be callable"): evaluate_policy(env, "policy", quiet())
    with pytest.raises(TypeError, match="config must be an EvalConfig or None, got dict"):
        evaluate_policy(env, ik_action, {"n_episodes": 5})
    with pytest.raises(ValueError, match="save_videos=True needs an env made with render_mode='rgb_array'"):
        evaluate_policy(env, ik_action, quiet(save_videos=True, video_dir=tmp_path / "v"))
    assert not (tmp_path / "v").exists()
    with pytest.raises(ValueError, match="render=True needs an env made with render_mode='rgb_array' or 'human'"):
        evaluate_policy(env, ik_action, quiet(render=True))


def test_unwritable_video_dir(renv, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    calls = [0]
    def policy(obs): calls[0] += 1; return ik_action(obs)
    bad_dirs = [blocker, blocker / "videos"] + (["/proc/self/videos"] if Path("/proc/self").is_dir() else [])
    for bad in bad_dirs:
        with pytest.raises(OSError, match="EvalConfig.video_dir=.* is not a writable directory"):
            evaluate_policy(renv, policy, quiet(n_episodes=1, max_steps=3, save_videos=True, video_dir=str(bad)))
    assert calls[0] == 0                                               # failed before any episode ran
    if os.geteuid() != 0:                                              # root ignores permission bits
        ro = tmp_path / "ro"; ro.mkdir(); ro.chmod(0o500)
        with pytest.raises(OSError, match="is not a writable directory"):
            evaluate_policy(renv, policy, quiet(n_episodes=1, save_videos=True, video_dir=str(ro)))
