"""simscaleai.sim lift, pick_place, push and stack: API contract, Gymnasium compliance, vector envs, seeding, bad inputs, honest physics, experts."""
import re, warnings

import numpy as np
import pytest
import gymnasium as gym
from gymnasium.utils.env_checker import check_env

from simscaleai.sim import (make_env, list_envs, scripted_policy, LiftEnv, PickPlaceEnv, LiftConfig, PickPlaceConfig,
                            LIFT_ENV_ID, PICK_PLACE_ENV_ID, scripted_lift_action, scripted_pick_place_action,
                            PushEnv, PUSH_ENV_ID, scripted_push_action, StackEnv, STACK_ENV_ID, scripted_stack_action)
from simscaleai.rl.rewards.rewards import RewardFunction, CompositeReward, DistanceReward

TASKS = ["lift", "pick_place", "push", "stack"]
LIFT_KEYS = ["ee_pos", "gripper_width", "joint_pos", "joint_vel", "object_pos", "object_quat", "target_pos"]
KEYS = {"lift": LIFT_KEYS, "pick_place": sorted(LIFT_KEYS + ["goal_pos"]), "push": sorted(LIFT_KEYS + ["goal_pos"]),
        "stack": sorted(LIFT_KEYS + ["base_pos", "base_quat", "goal_pos"])}


def run(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        if terminated or truncated: return obs, info


def test_registered_everywhere():
    assert {"lift", "pick_place"} <= set(list_envs())
    assert type(make_env("lift")) is LiftEnv and type(make_env("pick_place")) is PickPlaceEnv
    assert make_env("lift").spec.id == LIFT_ENV_ID and make_env("pick_place").spec.id == PICK_PLACE_ENV_ID
    assert scripted_policy("lift") is scripted_lift_action and scripted_policy("pick_place") is scripted_pick_place_action
    assert type(make_env("push")) is PushEnv and make_env("push").spec.id == PUSH_ENV_ID and scripted_policy("push") is scripted_push_action
    assert type(make_env("stack")) is StackEnv and make_env("stack").spec.id == STACK_ENV_ID and scripted_policy("stack") is scripted_stack_action
    with pytest.raises(ValueError, match="no scripted expert"):
        scripted_policy("throw")


@pytest.mark.parametrize("name", TASKS)
def test_spaces_and_step_contract(name):
    env = make_env(name)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    assert list(env.observation_space.spaces) == KEYS[name]
    obs, info = env.reset(seed=0)
    assert sorted(obs) == KEYS[name] and obs in env.observation_space
    assert obs["object_quat"].shape == (4,) and obs["gripper_width"].shape == (1,)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(reward, float) and terminated is False and truncated is False
    assert {"distance", "success", "reward_terms", *{"push": ["on_table"], "stack": ["grasped", "placed"]}.get(name, ["grasped"])} == set(info)
    assert isinstance(info["success"], bool) and isinstance(info["distance"], float)
    assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)


@pytest.mark.parametrize("name", TASKS)
def test_check_env_strict(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(make_env(name), skip_render_check=True)
        check_env(make_env(name, render_mode="rgb_array"))
        e = gym.make({"lift": LIFT_ENV_ID, "pick_place": PICK_PLACE_ENV_ID, "push": PUSH_ENV_ID, "stack": STACK_ENV_ID}[name])
        e.reset(seed=0); e.step(e.action_space.sample()); e.close()


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs(name, mode):
    fns = [lambda: make_env(name) for _ in range(2)]
    vec = gym.vector.SyncVectorEnv(fns) if mode == "sync" else gym.vector.AsyncVectorEnv(fns)
    try:
        obs, _ = vec.reset(seed=[3, 4])
        np.testing.assert_array_equal(obs["object_pos"][1], make_env(name).reset(seed=4)[0]["object_pos"])
        for _ in range(3): obs, reward, terminated, truncated, info = vec.step(vec.action_space.sample())
        assert reward.shape == (2,) and info["success"].dtype == bool and obs in vec.observation_space
    finally:
        vec.close()


@pytest.mark.parametrize("name", TASKS)
def test_seeding(name):
    a, b = make_env(name), make_env(name)
    oa, ob = a.reset(seed=7)[0], b.reset(seed=7)[0]
    for k in oa: np.testing.assert_array_equal(oa[k], ob[k])
    assert not np.array_equal(a.reset(seed=8)[0]["object_pos"], oa["object_pos"])
    actions = np.random.default_rng(0).uniform(-1, 1, (15, 4))
    a.reset(seed=7); b.reset(seed=7)
    for act in actions:
        ra, rb = a.step(act), b.step(act)
        for k in ra[0]: np.testing.assert_array_equal(ra[0][k], rb[0][k])


@pytest.mark.parametrize("name", TASKS)
def test_truncation_not_termination(name):
    env = make_env(name)
    env.reset(seed=0)
    n = env.config.max_episode_steps
    assert 50 <= n <= 150
    for t in range(1, n + 1):
        _, _, terminated, truncated, _ = env.step(np.zeros(4))
        assert terminated is False and truncated is (t == n)


def test_no_constraint_or_mocap_holds_the_cube():
    for name in TASKS:
        m = make_env(name).model
        assert m.neq == 0                                     # no weld / equality constraint
        assert m.nmocap == 1 and m.body_mocapid[m.body("object").id] == -1   # the only mocap body is the goal marker
        assert m.jnt_type[m.joint("object_joint").id] == 0   # a free joint
        assert m.geom_contype[m.geom("target_marker").id] == 0 and m.geom_conaffinity[m.geom("target_marker").id] == 0


def test_cube_falls_when_released():
    env = make_env("lift")
    obs, _ = env.reset(seed=1)
    while not env.unwrapped._grasped() or obs["object_pos"][2] < 0.1:
        obs, *_ = env.step(scripted_lift_action(obs))
    for _ in range(10): obs, _, _, _, info = env.step(np.array([0, 0, 0, 1.0]))   # open
    assert not info["grasped"] and obs["object_pos"][2] == pytest.approx(0.02, abs=0.005)   # back on the table


@pytest.mark.parametrize("name,policy", [("lift", scripted_lift_action), ("pick_place", scripted_pick_place_action), ("push", scripted_push_action), ("stack", scripted_stack_action)])
def test_expert_solves_a_few_episodes(name, policy):
    env = make_env(name)
    assert sum(run(env, policy, seed)[1]["success"] for seed in range(5)) >= 4


@pytest.mark.parametrize("name", TASKS)
def test_random_policy_rarely_succeeds(name):
    env, rng = make_env(name), np.random.default_rng(0)
    assert sum(run(env, lambda o: rng.uniform(-1, 1, 4), seed)[1]["success"] for seed in range(10)) <= 1


@pytest.mark.parametrize("name", TASKS)
def test_reward_switches(name):
    assert make_env(name, reward="sparse").reward_fn.term_names == ["success"]
    mine = CompositeReward([(DistanceReward("ee_pos", "object_pos"), 1.0)])
    env = make_env(name, reward_fn=mine)
    env.reset(seed=0)
    obs, reward, *_ , info = env.step(np.zeros(4))
    assert env.reward_fn is mine and reward == pytest.approx(-np.linalg.norm(obs["ee_pos"] - obs["object_pos"]))


@pytest.mark.parametrize("name", TASKS)
def test_spec_orientation_reward_works_as_written(name):
    class OrientationReward(RewardFunction):
        def __init__(self, key="object_quat", scale=1.0): self.key, self.scale = key, scale
        def compute(self, obs, action, info): return -self.scale * (1.0 - abs(obs[self.key][0]))
    env = make_env(name, reward_fn=OrientationReward(key="object_quat"))
    env.reset(seed=0)
    obs, reward, *_ = env.step(np.zeros(4))
    assert reward == pytest.approx(-(1 - abs(obs["object_quat"][0])))


BAD_CONFIG = [
    ({"object_size_m": 0.1}, ValueError, "object_size_m"),
    ({"object_size_m": "big"}, TypeError, "object_size_m"),
    ({"friction": -1.0}, ValueError, "friction"),
    ({"reward": "shaped"}, ValueError, "reward must be one of"),
    ({"reward": 1}, TypeError, "reward"),
    ({"object_low_m": (0.4,)}, ValueError, "object_low_m"),
    ({"object_high_m": (0.9, 0.1)}, ValueError, "start region"),
    ({"lift_height_m": 0.0}, ValueError, "lift_height_m"),
    ({"n_substeps": 2.5}, TypeError, "n_substeps"),
    ({"bogus": 1}, ValueError, "unknown config key 'bogus'"),
    ({"config": {"n_substeps": 5}}, TypeError, "Config"),
    ({"render_camera": "nope"}, ValueError, "unknown camera 'nope'"),
]


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("kwargs,exc,message", BAD_CONFIG, ids=[str(i) for i in range(len(BAD_CONFIG))])
def test_bad_config(name, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        make_env(name, **kwargs)


def test_pick_place_bad_config():
    with pytest.raises(ValueError, match="success_threshold_m"):
        make_env("pick_place", success_threshold_m=0.06)


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("action,exc", [(np.zeros(3), ValueError), (np.array([0, np.nan, 0, 0]), ValueError),
                                        (["a", "b", "c", "d"], TypeError), (None, TypeError)])
def test_bad_action_does_not_step(name, action, exc):
    env = make_env(name)
    env.reset(seed=0)
    env.step(np.array([0.2, 0.1, -0.1, 0.0]))
    qpos, t = env.data.qpos.copy(), env.data.time
    with pytest.raises(exc, match="action"):
        env.step(action)
    np.testing.assert_array_equal(env.data.qpos, qpos)
    assert env.data.time == t


@pytest.mark.parametrize("name,options,message", [
    ("lift", {"object_xy": [0.9, 0.0]}, "start region"), ("lift", {"object_xy": "abc"}, "start region"),
    ("pick_place", {"goal_pos": [0.5, 0.0, 0.6]}, "goal box"), ("pick_place", {"goal_pos": [0.5, np.nan, 0.1]}, "goal box")])
def test_bad_reset_options_change_nothing(name, options, message):
    env = make_env(name)
    env.reset(seed=0)
    qpos = env.data.qpos.copy()
    with pytest.raises(ValueError, match=message):
        env.reset(options=options)
    np.testing.assert_array_equal(env.data.qpos, qpos)


def test_pick_place_goals_mostly_need_a_lift():
    env = make_env("pick_place")
    env.reset(seed=0)
    goals = np.array([env.reset()[0]["goal_pos"] for _ in range(1000)])
    assert ((goals[:, 2] - 0.02) > env.config.success_threshold_m).mean() >= 0.5


def test_render_three_quarter_default():
    env = make_env("lift", render_mode="rgb_array")
    env.reset(seed=0)
    assert env.config.render_camera == "three_quarter" and env.render().shape == (240, 320, 3)
    env.close()


@pytest.mark.parametrize("name", TASKS)
def test_expert_is_an_evaluate_policy_predict_fn(name):
    from simscaleai.rl.evaluator import evaluate_policy, EvalConfig
    result = evaluate_policy(make_env(name), scripted_policy(name), EvalConfig(n_episodes=3, seed=0, progress=False))
    again = evaluate_policy(make_env(name), scripted_policy(name), EvalConfig(n_episodes=3, seed=0, progress=False))
    assert result["success_rate"] >= 2 / 3 and result["success_rate"] == again["success_rate"]   # no hidden state across calls
