"""simscaleai.sim: public API contract, Gymnasium compliance, vector envs, seeding, bad inputs, rendering, package data."""
import dataclasses, importlib.resources, itertools, pickle, re, shutil, subprocess, sys, warnings, zipfile
from pathlib import Path

import numpy as np
import pytest

from simscaleai.sim import (make_env, list_envs, register_env, SimConfig, CameraConfig, ReachEnv,
                            asset_path, scripted_reach_action, REACH_ENV_ID)
import simscaleai.sim as sim
import gymnasium as gym
from gymnasium.utils.env_checker import check_env
from simscaleai.rl.rewards.rewards import CompositeReward, DistanceReward, SuccessBonus, RewardFunction, ActionPenalty

REPO = Path(__file__).resolve().parents[1]
OBS_KEYS = ["ee_pos", "joint_pos", "joint_vel", "target_pos"]


@pytest.fixture
def env():
    e = make_env("reach")
    yield e
    e.close()


def flatten(obs):
    return np.concatenate([obs[k] for k in sorted(obs) if k != "image"])


# --- public API contract -------------------------------------------------------------------------

def test_make_env_returns_reach_env_with_the_contract_spaces(env):
    assert isinstance(env, ReachEnv) and isinstance(env, gym.Env)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    assert list(env.observation_space.spaces) == OBS_KEYS
    assert {k: s.shape for k, s in env.observation_space.spaces.items()} == {
        "ee_pos": (3,), "joint_pos": (7,), "joint_vel": (7,), "target_pos": (3,)}
    assert all(s.dtype == np.float64 for s in env.observation_space.spaces.values())
    assert "image" not in env.observation_space.spaces


def test_reset_and_step_return_the_contract_types(env):
    obs, info = env.reset(seed=0)
    assert sorted(obs) == OBS_KEYS and all(v.dtype == np.float64 for v in obs.values())
    assert flatten(obs).shape == (20,)
    np.testing.assert_array_equal(flatten(obs)[:3], obs["ee_pos"])
    np.testing.assert_array_equal(flatten(obs)[17:], obs["target_pos"])
    assert isinstance(info["distance"], float) and isinstance(info["success"], bool)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(reward, float) and terminated is False and truncated is False
    assert set(info) == {"distance", "success", "reward_terms"}
    assert isinstance(info["distance"], float) and isinstance(info["success"], bool)
    assert info["distance"] == pytest.approx(np.linalg.norm(obs["ee_pos"] - obs["target_pos"]), abs=1e-12)


def test_default_reward_is_negative_distance_plus_success_bonus(env):
    obs, _ = env.reset(seed=4)
    for t in range(60):
        obs, reward, _, _, info = env.step(scripted_reach_action(obs))
        d = info["distance"]
        assert info["success"] == (d < 0.05)
        assert reward == pytest.approx(-d + (1.0 if d < 0.05 else 0.0), abs=1e-12)
        assert list(info["reward_terms"]) == ["DistanceReward", "SuccessBonus"]
        assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)
    assert info["success"]  # the scripted controller got there


def test_custom_reward_fn_through_make_env():
    reward_fn = CompositeReward([(DistanceReward("ee_pos", "target_pos", scale=2.0), 1.0), (ActionPenalty(scale=0.1), 0.5)])
    e = make_env("reach", reward_fn=reward_fn)
    assert e.reward_fn is reward_fn
    e.reset(seed=1)
    action = np.array([0.3, -0.2, 0.1, 0.5], np.float32)
    obs, reward, _, _, info = e.step(action)
    assert list(info["reward_terms"]) == ["DistanceReward", "ActionPenalty"]
    expected = -2.0 * info["distance"] - 0.5 * 0.1 * np.linalg.norm(action)
    assert reward == pytest.approx(expected, abs=1e-6)
    assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)


def test_user_reward_subclass_without_super_init():
    class Upright(RewardFunction):  # the spec's custom-reward pattern: no super().__init__()
        def __init__(self, scale=1.0): self.scale = scale
        def compute(self, obs, action, info): return -self.scale * float(obs["joint_vel"] @ obs["joint_vel"])
    e = make_env("reach", reward_fn=Upright(0.5))
    e.reset(seed=0)
    obs, reward, _, _, info = e.step(np.ones(4, np.float32))
    assert info["reward_terms"] == {"Upright": reward}
    assert reward == pytest.approx(-0.5 * obs["joint_vel"] @ obs["joint_vel"])


def test_truncation_at_200_steps_and_never_terminated(env):
    env.reset(seed=0)
    for t in range(1, 201):
        obs, reward, terminated, truncated, info = env.step(np.zeros(4, np.float32))
        assert terminated is False
        assert truncated is (t == 200)


def test_success_does_not_terminate(env):
    obs, _ = env.reset(seed=2)
    seen_success = False
    for t in range(200):
        obs, _, terminated, truncated, info = env.step(scripted_reach_action(obs))
        seen_success |= info["success"]
        assert not terminated
    assert seen_success and info["success"] and truncated


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match="before reset"):
        make_env("reach").step(np.zeros(4))


# --- Gymnasium compliance ------------------------------------------------------------------------

def _check_env_strict(e, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(e, **kw)


def test_check_env_passes_with_warnings_as_errors():
    _check_env_strict(make_env("reach"), skip_render_check=True)
    _check_env_strict(make_env("reach", render_mode="rgb_array"))


def test_check_env_with_cameras_passes_with_warnings_as_errors():
    cams = (CameraConfig("front", 32, 24, depth=True, segmentation=True), CameraConfig("top", 16, 12))
    _check_env_strict(make_env("reach", cameras=cams), skip_render_check=True)


def test_gymnasium_make_with_passive_checker_emits_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = gym.make(REACH_ENV_ID, action_scale_m=0.04)
        assert isinstance(e.unwrapped, ReachEnv) and e.unwrapped.config.action_scale_m == 0.04
        obs, info = e.reset(seed=0)
        for _ in range(3): obs, *_ = e.step(e.action_space.sample())
        assert obs in e.observation_space
        _check_env_strict(e.unwrapped, skip_render_check=True)
        e.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs(mode):
    fns = [lambda: make_env("reach") for _ in range(2)]
    vec = gym.vector.SyncVectorEnv(fns) if mode == "sync" else gym.vector.AsyncVectorEnv(fns)
    try:
        obs, info = vec.reset(seed=[10, 11])
        assert obs["ee_pos"].shape == (2, 3) and obs["joint_pos"].shape == (2, 7)
        single = make_env("reach")
        np.testing.assert_array_equal(obs["target_pos"][0], single.reset(seed=10)[0]["target_pos"])
        np.testing.assert_array_equal(obs["target_pos"][1], single.reset(seed=11)[0]["target_pos"])
        for _ in range(5):
            obs, reward, terminated, truncated, info = vec.step(vec.action_space.sample())
        assert reward.shape == (2,) and not terminated.any() and not truncated.any()
        assert info["distance"].shape == (2,) and info["success"].dtype == bool
        assert obs in vec.observation_space
    finally:
        vec.close()


def test_make_vec_async_by_id():
    vec = gym.make_vec(REACH_ENV_ID, num_envs=2, vectorization_mode="async")
    try:
        obs, _ = vec.reset(seed=0)
        obs, *_ = vec.step(vec.action_space.sample())
        assert obs["target_pos"].shape == (2, 3)
    finally:
        vec.close()


def test_env_pickles_through_cloudpickle_for_async_workers():
    import cloudpickle
    fn = cloudpickle.loads(cloudpickle.dumps(lambda: make_env("reach", action_scale_m=0.02)))
    assert fn().config.action_scale_m == 0.02


# --- seeding -------------------------------------------------------------------------------------

def test_same_seed_same_targets_and_trajectory():
    a, b = make_env("reach"), make_env("reach")
    oa, _ = a.reset(seed=0)
    ob, _ = b.reset(seed=0)
    np.testing.assert_array_equal(oa["target_pos"], ob["target_pos"])
    actions = np.random.default_rng(0).uniform(-1, 1, (20, 4)).astype(np.float32)
    for act in actions:
        oa, ra, *_ = a.step(act); ob, rb, *_ = b.step(act)
        np.testing.assert_array_equal(flatten(oa), flatten(ob)); assert ra == rb


def test_seed_zero_is_a_seed_and_different_seeds_differ(env):
    t0 = env.reset(seed=0)[0]["target_pos"]
    t1 = env.reset(seed=1)[0]["target_pos"]
    t0_again = env.reset(seed=0)[0]["target_pos"]
    assert not np.array_equal(t0, t1)
    np.testing.assert_array_equal(t0, t0_again)


def test_reset_without_seed_continues_the_stream():
    a, b = make_env("reach"), make_env("reach")
    first = a.reset(seed=7)[0]["target_pos"]
    seq_a = [a.reset()[0]["target_pos"] for _ in range(5)]
    b.reset(seed=7)
    seq_b = [b.reset()[0]["target_pos"] for _ in range(5)]
    np.testing.assert_array_equal(seq_a, seq_b)                       # the stream is the seed's
    assert len({tuple(t) for t in [first, *seq_a]}) == 6              # and it moves on
    ref = gym.utils.seeding.np_random(7)[0]                           # reset(seed) seeds np_random the Gymnasium way
    np.testing.assert_array_equal(first, ref.uniform(a.config.target_low_m, a.config.target_high_m))


def test_unseeded_envs_differ():
    targets = {tuple(make_env("reach").reset()[0]["target_pos"]) for _ in range(3)}
    assert len(targets) == 3


def test_init_noise_is_seeded():
    a, b = make_env("reach", init_qpos_noise_rad=0.1), make_env("reach", init_qpos_noise_rad=0.1)
    qa, qb = a.reset(seed=3)[0]["joint_pos"], b.reset(seed=3)[0]["joint_pos"]
    np.testing.assert_array_equal(qa, qb)
    home = a.model.key("home").qpos[:7]
    assert 0 < np.abs(qa - home).max() <= 0.1


# --- bad input -----------------------------------------------------------------------------------

BAD_ACTIONS = [
    (np.zeros(3), "shape (4,)"),
    (np.zeros(5, np.float32), "shape (4,)"),
    (np.zeros((1, 4)), "shape (4,)"),
    (np.zeros((2, 4)), "shape (4,)"),
    (0.5, "shape (4,)"),
    ([0.1, 0.2, 0.3], "shape (4,)"),
    (np.array([0.0, np.nan, 0.0, 0.0]), "finite"),
    (np.array([np.inf, 0.0, 0.0, 0.0], np.float32), "finite"),
    (np.array([0.0, 0.0, 0.0, -np.inf]), "finite"),
    ([0.0, 0.0, float("nan"), 0.0], "finite"),
    (np.array(["a", "b", "c", "d"]), "array of numbers"),   # not numbers: a TypeError (the package's rule: wrong type)
    (np.array([True, False, True, False]), "array of numbers"),
    (np.array([1 + 1j, 0, 0, 0]), "array of numbers"),
    (None, "array of numbers"),
    ({"dx": 1}, "array of numbers"),
]


@pytest.mark.parametrize("action,message", BAD_ACTIONS, ids=[str(i) for i in range(len(BAD_ACTIONS))])
def test_bad_action_raises_clear_error_and_does_not_step(env, action, message):
    env.reset(seed=0)
    env.step(np.array([0.2, 0.1, -0.1, 0.0]))
    qpos, qvel, ctrl, t, steps = env.data.qpos.copy(), env.data.qvel.copy(), env.data.ctrl.copy(), env.data.time, env._elapsed
    with pytest.raises(TypeError if message == "array of numbers" else ValueError, match=re.escape(message)):
        env.step(action)
    np.testing.assert_array_equal(env.data.qpos, qpos)
    np.testing.assert_array_equal(env.data.qvel, qvel)
    np.testing.assert_array_equal(env.data.ctrl, ctrl)
    assert env.data.time == t and env._elapsed == steps


GOOD_ACTIONS = [
    np.array([0.1, -0.2, 0.3, 1.0], np.float32),
    np.array([0.1, -0.2, 0.3, 1.0], np.float64),
    np.array([1, 0, -1, 0], np.int64),
    [0.1, -0.2, 0.3, 1.0],
    (0.0, 0.0, 0.0, -1.0),
    np.array([5.0, -7.0, 1e30, -1e300]),     # out of the box: clipped, not an error
]


@pytest.mark.parametrize("action", GOOD_ACTIONS, ids=[str(i) for i in range(len(GOOD_ACTIONS))])
def test_good_actions_are_accepted_and_never_modified(env, action):
    env.reset(seed=0)
    before = pickle.loads(pickle.dumps(action))
    if isinstance(action, np.ndarray): action.flags.writeable = False   # read-only arrays work too
    obs, *_ = env.step(action)
    if isinstance(action, np.ndarray): np.testing.assert_array_equal(action, before); assert action.dtype == before.dtype
    else: assert action == before
    assert obs in env.observation_space


def test_out_of_box_actions_are_clipped(env):
    env.reset(seed=0)
    env2 = make_env("reach"); env2.reset(seed=0)
    o1, *_ = env.step(np.array([1.0, -1.0, 1.0, -1.0]))
    o2, *_ = env2.step(np.array([40.0, -3.0, 9.0, -2.0]))
    np.testing.assert_array_equal(flatten(o1), flatten(o2))


BAD_CONFIG = [
    ({"action_scale": 0.1}, ValueError, "unknown config key 'action_scale'"),
    ({"nsubsteps": 5}, ValueError, "valid keys"),
    ({"n_substeps": 0}, ValueError, "SimConfig.n_substeps"),
    ({"n_substeps": 2.5}, TypeError, "SimConfig.n_substeps"),
    ({"n_substeps": True}, TypeError, "SimConfig.n_substeps"),
    ({"timestep_s": -0.001}, ValueError, "SimConfig.timestep_s"),
    ({"timestep_s": "0.002"}, TypeError, "SimConfig.timestep_s"),
    ({"action_scale_m": float("inf")}, ValueError, "SimConfig.action_scale_m"),
    ({"ik_damping_m": 0.0}, ValueError, "SimConfig.ik_damping_m"),
    ({"success_threshold_m": float("nan")}, ValueError, "SimConfig.success_threshold_m"),
    ({"max_episode_steps": -1}, ValueError, "SimConfig.max_episode_steps"),
    ({"init_qpos_noise_rad": -0.1}, ValueError, "SimConfig.init_qpos_noise_rad"),
    ({"target_low_m": (0.3, -0.3)}, ValueError, "SimConfig.target_low_m"),
    ({"target_high_m": (0.3, 0.3, float("nan"))}, ValueError, "SimConfig.target_high_m"),
    ({"target_low_m": (0.7, -0.3, 0.05)}, ValueError, "< target_high_m"),
    ({"target_low_m": (0.3, -0.3, -0.05)}, ValueError, "above the table"),
    ({"target_high_m": (0.65, 0.3, 1.5)}, ValueError, "within 1 m"),
    ({"cameras": "front"}, TypeError, "SimConfig.cameras"),
    ({"cameras": (CameraConfig("front"), CameraConfig("front"))}, ValueError, "duplicate"),
    ({"cameras": (CameraConfig("wrist"),)}, ValueError, "unknown camera 'wrist'"),
    ({"render_camera": "nope"}, ValueError, "unknown camera 'nope'"),
    ({"render_width": 0}, ValueError, "SimConfig.render_width"),
    ({"render_mode": "human"}, ValueError, "render_mode"),
    ({"reward_fn": lambda o, a, i: 0.0}, TypeError, "RewardFunction"),
    ({"config": {"n_substeps": 5}}, TypeError, "SimConfig"),
]


@pytest.mark.parametrize("kwargs,exc,message", BAD_CONFIG, ids=[str(i) for i in range(len(BAD_CONFIG))])
def test_bad_config_raises_naming_the_field(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        make_env("reach", **kwargs)


def test_unknown_config_key_lists_the_valid_ones():
    with pytest.raises(ValueError) as e:
        make_env("reach", bogus=1)
    for f in dataclasses.fields(SimConfig): assert f.name in str(e.value)


def test_config_object_and_overrides_combine():
    e = make_env("reach", config=SimConfig(n_substeps=20), action_scale_m=0.02)
    assert (e.config.n_substeps, e.config.action_scale_m) == (20, 0.02)
    assert e.config.control_dt_s == pytest.approx(0.04)
    assert e.model.opt.timestep == pytest.approx(0.002)


@pytest.mark.parametrize("kwargs,message", [
    ({"width": 0}, "CameraConfig.width"), ({"height": -3}, "CameraConfig.height"),
    ({"depth": 1}, "CameraConfig.depth"), ({"segmentation": "no"}, "CameraConfig.segmentation")])
def test_bad_camera_config(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        CameraConfig("front", **kwargs)


def test_bad_reset_options_raise_and_change_nothing(env):
    env.reset(seed=0)
    for _ in range(3): env.step(np.array([0.5, 0.5, 0.5, 0.0]))
    qpos, steps, target = env.data.qpos.copy(), env._elapsed, env.target_pos
    for bad in ([0.5, 0.0], [0.5, 0.0, np.nan], [0.5, 0.0, -0.1], [2.0, 0.0, 0.2], "abc", [[0.5, 0.0, 0.2]]):
        with pytest.raises(ValueError, match="target box"):
            env.reset(options={"target_pos": bad})
        np.testing.assert_array_equal(env.data.qpos, qpos)
        np.testing.assert_array_equal(env.target_pos, target)
        assert env._elapsed == steps


def test_reset_options_fix_the_target_without_shifting_the_stream():
    a, b = make_env("reach"), make_env("reach")
    a.reset(seed=1, options={"target_pos": [0.5, 0.0, 0.2]})
    b.reset(seed=1)
    np.testing.assert_array_equal(a.target_pos, [0.5, 0.0, 0.2])
    np.testing.assert_array_equal(a.reset()[0]["target_pos"], b.reset()[0]["target_pos"])


def test_env_registry():
    assert list_envs() == ["lift", "pick_place", "push", "reach", "stack"]   # issue 11 added lift and pick_place, issue 23 push and stack
    with pytest.raises(ValueError, match=r"available: \['lift', 'pick_place', 'push', 'reach', 'stack'\]"):
        make_env("reacher")
    with pytest.raises(TypeError, match="name must be a str"):
        make_env(3)
    with pytest.raises(ValueError, match="already registered"):
        register_env("reach", ReachEnv)
    with pytest.raises(TypeError, match="gymnasium.Env subclass"):
        register_env("mine", object)
    with pytest.raises(TypeError, match="gymnasium.Env subclass"):
        register_env("mine", make_env("reach"))   # an instance, not a class
    with pytest.raises(TypeError, match="non-empty str"):
        register_env("", ReachEnv)

    class SlowReach(ReachEnv): pass
    try:
        assert register_env("slow", SlowReach) is SlowReach
        assert list_envs() == ["lift", "pick_place", "push", "reach", "slow", "stack"]
        e = make_env("slow", n_substeps=50)
        assert type(e) is SlowReach and e.config.n_substeps == 50
        register_env("slow", ReachEnv, overwrite=True)
        assert type(make_env("slow")) is ReachEnv
    finally:
        sim._ENVS.pop("slow", None)


# --- physics and observation bounds --------------------------------------------------------------

def _assert_inside(env, obs):
    assert obs in env.observation_space, {k: v for k, v in obs.items() if k != "image"}


def test_obs_always_inside_observation_space_random_rollouts(env):
    rng = np.random.default_rng(123)
    for episode in range(10):
        obs, _ = env.reset(seed=episode)
        _assert_inside(env, obs)
        for t in range(200):
            obs, *_ = env.step(rng.uniform(-1, 1, 4).astype(np.float32))
            _assert_inside(env, obs)


def test_obs_inside_observation_space_under_adversarial_actions(env):
    rng = np.random.default_rng(5)
    policies = [lambda t, d=np.array(d + (1.0,)): d for d in itertools.product([-1.0, 0.0, 1.0], repeat=3)]
    policies.append(lambda t: rng.choice([-1.0, 1.0], 4) * 3)                         # bang-bang
    policies.append(lambda t: np.array([0, 0, -1.0, 1]) if t % 20 < 10 else np.array([1.0, 1, 1, 1]))  # slam the table
    for policy in policies:
        obs, _ = env.reset(seed=0)
        for t in range(200):
            obs, *_ = env.step(policy(t))
            _assert_inside(env, obs)


def test_arm_holds_home_pose_under_zero_action(env):
    obs0, _ = env.reset(seed=0)
    for _ in range(200): obs, *_ = env.step(np.zeros(4))
    assert np.abs(obs["joint_pos"] - obs0["joint_pos"]).max() < 1e-3
    assert np.abs(obs["ee_pos"] - obs0["ee_pos"]).max() < 1e-3


def test_scripted_controller_reaches_sampled_targets():
    env = make_env("reach")
    env.reset(seed=99)
    finals = []
    for episode in range(10):
        obs, _ = env.reset()
        for _ in range(200):
            obs, _, _, truncated, info = env.step(scripted_reach_action(obs, env.config.action_scale_m))
        finals.append(info["success"])
    assert all(finals)


def test_targets_are_above_the_table_and_in_the_box(env):
    env.reset(seed=0)
    targets = np.array([env.reset()[0]["target_pos"] for _ in range(2000)])
    assert targets[:, 2].min() >= 0.05
    assert (targets >= np.array(env.config.target_low_m)).all() and (targets <= np.array(env.config.target_high_m)).all()


def test_one_step_moves_the_tcp_toward_the_command(env):
    obs, _ = env.reset(seed=0)
    cmd = np.array([0.0, 0.6, -0.4])
    new, *_ = env.step(np.append(cmd, 1.0))
    moved, want = new["ee_pos"] - obs["ee_pos"], cmd * env.config.action_scale_m
    assert moved @ want / np.linalg.norm(moved) / np.linalg.norm(want) > 0.98


def test_ee_pos_is_the_site_position_of_the_current_state(env):
    import mujoco
    env.reset(seed=0)
    obs, *_ = env.step(np.array([0.5, 0.5, 0.5, 0.0]))
    d = mujoco.MjData(env.model); d.qpos[:] = env.data.qpos
    mujoco.mj_kinematics(env.model, d)
    np.testing.assert_allclose(obs["ee_pos"], d.site("ee").xpos, atol=1e-12)


# --- rendering -----------------------------------------------------------------------------------

def test_render_rgb_array_default_and_custom_size():
    e = make_env("reach", render_mode="rgb_array")
    e.reset(seed=0)
    frame = e.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8 and frame.std() > 0
    e.close(); e.close()   # close twice is fine
    e2 = make_env("reach", render_mode="rgb_array", render_camera="side", render_width=160, render_height=100)
    e2.reset(seed=0)
    assert e2.render().shape == (100, 160, 3)
    e2.close()


def test_render_without_render_mode_warns_and_returns_none(env):
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def test_no_rendering_during_step_by_default():
    e = make_env("reach", render_mode="rgb_array")
    e.reset(seed=0)
    for _ in range(5): obs, *_ = e.step(e.action_space.sample())
    assert "image" not in obs and e._renderers == {}


def test_camera_observation_shapes_and_space():
    cams = (CameraConfig("front", 64, 48, depth=True), CameraConfig("side", 40, 30, segmentation=True))
    e = make_env("reach", cameras=cams)
    obs, _ = e.reset(seed=0)
    assert {k: (v.shape, v.dtype) for k, v in obs["image"].items()} == {
        "front": ((48, 64, 3), np.uint8), "front_depth": ((48, 64), np.float32),
        "side": ((30, 40, 3), np.uint8), "side_segmentation": ((30, 40, 2), np.int32)}
    assert obs in e.observation_space
    assert flatten(obs).shape == (20,)
    depth = obs["image"]["front_depth"]
    far = e.observation_space["image"]["front_depth"].high.max()
    scene = depth[depth < 0.99 * far]                    # the sky reads as the far clipping plane
    assert scene.size > depth.size / 4 and 0.5 < scene.min() < scene.max() < 5   # metres: the scene is 1-3 m away
    seg = obs["image"]["side_segmentation"]
    assert seg[..., 0].max() >= 0 and len(np.unique(seg[..., 0])) > 3   # several objects seen
    e.close()
    assert e._renderers == {}


# --- package data --------------------------------------------------------------------------------

def test_asset_found_through_the_package():
    assert asset_path().is_file()
    assert importlib.resources.files("simscaleai.sim").joinpath("assets/panda_reach.xml").is_file()
    with pytest.raises(FileNotFoundError, match="panda_reach.xml"):
        asset_path("missing.xml")


def test_asset_is_in_the_built_wheel(tmp_path):
    "The MJCF ships in the wheel, so `pip install .` (not only a source checkout) finds it."
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"): shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "simscaleai", src / "simscaleai", ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(src)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel, = (tmp_path / "dist").glob("simscaleai-*.whl")
    assert "simscaleai/sim/assets/panda_reach.xml" in zipfile.ZipFile(wheel).namelist()


# --- reach unchanged by the core/task split (issue 11) ----------------------------------------------

REACH_REFERENCE_FINAL_OBS = [  # single-module simscaleai.sim (issue 10): seed 3, 60 actions U(-1.2, 1.2) from default_rng(0)
    0.16003915044318243, 0.12196661912889807, 0.8911367957946343, 0.26767824414818936, -1.1080064275634889,
    0.10367498822250887, -1.8760579796095336, 0.09457049987968386, 2.001574216450504, 0.7848906281169352,
    0.1171054490773371, -0.5383361920739209, 0.5648549527121868, 0.09809962812078267, 0.055796591193268845,
    0.9685836353133032, -0.001483365386147381, 0.3299772085002685, -0.15791369604234018, 0.37050978608255875]
REACH_REFERENCE_RETURN = -28.75471500402173


def test_reach_episode_is_the_same_as_before_the_split():
    env = make_env("reach")
    obs, _ = env.reset(seed=3)
    total = 0.0
    for a in np.random.default_rng(0).uniform(-1.2, 1.2, (60, 4)).astype(np.float32):
        obs, reward, *_ = env.step(a)
        total += reward
    np.testing.assert_allclose(flatten(obs), REACH_REFERENCE_FINAL_OBS, rtol=0, atol=1e-9)
    assert total == pytest.approx(REACH_REFERENCE_RETURN, abs=1e-9)
