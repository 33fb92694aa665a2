"""Public-API contract for simscaleai.rl.rewards.rewards.

The spec's "Reward Functions" examples (docs: reinforcement-learning.md) run here verbatim, each in a fresh
namespace that provides what the spec leaves to the reader (`abc`, `np`, and a concrete `obs`, `action`, `info`).
Then the cross-module contract (name, compute_terms, batched path) and the bad-input table.
"""
import abc
import math

import numpy as np
import pytest

from simscaleai.rl.rewards.rewards import (
    ActionPenalty, CompositeReward, DistanceReward, ObservationKeyError, RewardFunction, SuccessBonus)

# ---- The spec's code blocks, copied verbatim (section "Reward Functions") ----
SPEC_BASE_CLASS = '''
from simscaleai.rl.rewards.rewards import RewardFunction

class RewardFunction(abc.ABC):
    @abc.abstractmethod
    def compute(self, obs: dict, action: np.ndarray, info: dict) -> float:
        """Compute scalar reward."""
        ...
'''

SPEC_DISTANCE = '''
from simscaleai.rl.rewards.rewards import DistanceReward

reward_fn = DistanceReward(
    key_a="ee_pos",        # Observation key for point A
    key_b="target_pos",    # Observation key for point B
    scale=1.0,             # Reward scaling factor
)

reward = reward_fn.compute(obs, action, info)  # float
'''

SPEC_SUCCESS = '''
from simscaleai.rl.rewards.rewards import SuccessBonus

reward_fn = SuccessBonus(
    key_a="ee_pos",
    key_b="target_pos",
    threshold=0.05,   # Distance threshold (meters)
    bonus=1.0,        # Bonus reward value
)
'''

SPEC_ACTION = '''
from simscaleai.rl.rewards.rewards import ActionPenalty

reward_fn = ActionPenalty(scale=0.01)
'''

SPEC_COMPOSITE = '''
from simscaleai.rl.rewards.rewards import (
    CompositeReward, DistanceReward, SuccessBonus, ActionPenalty
)

reward_fn = CompositeReward([
    (DistanceReward("ee_pos", "target_pos"), 1.0),
    (SuccessBonus("ee_pos", "target_pos", threshold=0.05, bonus=10.0), 1.0),
    (ActionPenalty(scale=0.01), 0.5),
])

total_reward = reward_fn.compute(obs, action, info)
'''

SPEC_CUSTOM = '''
from simscaleai.rl.rewards.rewards import RewardFunction

class OrientationReward(RewardFunction):
    """Reward for maintaining upright object orientation."""

    def __init__(self, key="object_quat", scale=1.0):
        self.key = key
        self.scale = scale

    def compute(self, obs, action, info):
        quat = obs[self.key]
        # Reward for being close to upright (w=1, x=y=z=0)
        upright_error = 1.0 - abs(quat[0])
        return -self.scale * upright_error
'''

SPEC_BLOCKS = [SPEC_BASE_CLASS, SPEC_DISTANCE, SPEC_SUCCESS, SPEC_ACTION, SPEC_COMPOSITE, SPEC_CUSTOM]


def _reach_obs(distance_m=0.5):
    "A reach-env observation (the four keys, float64) with the target `distance_m` from the end-effector."
    ee = np.array([0.4, 0.0, 0.3])
    return {"ee_pos": ee, "joint_pos": np.linspace(-1, 1, 7), "joint_vel": np.zeros(7),
            "target_pos": ee + np.array([0.6, 0.8, 0.0]) * distance_m}


def run_spec(block, **names):
    ns = {"abc": abc, "np": np, **names}
    exec(compile(block, "<spec>", "exec"), ns)
    return ns


@pytest.fixture
def step():
    return dict(obs=_reach_obs(0.5), action=np.array([0.3, 0.4, 0.0, 0.0], dtype=np.float32),
                info={"distance": 0.5, "success": False})


def test_spec_blocks_match_spec_file():
    "The blocks above are the spec's own text (checked when the spec is available next to the repo)."
    import pathlib, re
    spec = pathlib.Path(__file__).resolve().parents[2] / "shared/spec/reinforcement-learning.md"
    if not spec.exists(): pytest.skip(f"spec not found at {spec}")
    section = spec.read_text().split("## Reward Functions", 1)[1].split("\n---", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert [b.strip("\n") for b in blocks] == [b.strip("\n") for b in SPEC_BLOCKS]


def test_spec_base_class_block(step):
    ns = run_spec(SPEC_BASE_CLASS, **step)
    # the block re-declares the abstract class locally; the library's class has the same abstract method
    assert getattr(RewardFunction.compute, "__isabstractmethod__", False)
    assert getattr(ns["RewardFunction"].compute, "__isabstractmethod__", False)
    with pytest.raises(TypeError): RewardFunction()


def test_spec_distance_block(step):
    ns = run_spec(SPEC_DISTANCE, **step)
    assert type(ns["reward"]) is float
    assert ns["reward"] == pytest.approx(-0.5)


def test_spec_success_block(step):
    fn = run_spec(SPEC_SUCCESS, **step)["reward_fn"]
    assert fn.compute(step["obs"], step["action"], step["info"]) == 0.0
    assert fn.compute(_reach_obs(0.049), step["action"], step["info"]) == 1.0
    assert fn.compute(_reach_obs(0.05), step["action"], step["info"]) == 0.0


def test_spec_action_block(step):
    fn = run_spec(SPEC_ACTION, **step)["reward_fn"]
    assert fn.compute(step["obs"], step["action"], step["info"]) == pytest.approx(-0.01 * 0.5)


def test_spec_composite_block(step):
    ns = run_spec(SPEC_COMPOSITE, **step)
    assert type(ns["total_reward"]) is float
    assert ns["total_reward"] == pytest.approx(-0.5 + 0.0 + 0.5 * (-0.01 * 0.5))
    near = run_spec(SPEC_COMPOSITE, obs=_reach_obs(0.01), action=step["action"], info=step["info"])
    assert near["total_reward"] == pytest.approx(-0.01 + 10.0 - 0.0025)
    terms = ns["reward_fn"].compute_terms(step["obs"], step["action"], step["info"])
    assert list(terms) == ["DistanceReward", "SuccessBonus", "ActionPenalty"]
    assert sum(terms.values()) == ns["total_reward"]


def test_spec_custom_block(step):
    OrientationReward = run_spec(SPEC_CUSTOM)["OrientationReward"]
    obs = {**step["obs"], "object_quat": np.array([math.cos(0.3), 0.0, math.sin(0.3), 0.0])}
    fn = OrientationReward()
    assert fn.compute(obs, step["action"], step["info"]) == pytest.approx(-(1 - math.cos(0.3)))
    assert fn.name == "OrientationReward"           # works without super().__init__()
    assert fn.compute_terms(obs, step["action"], step["info"]) == {"OrientationReward": fn.compute(obs, step["action"], step["info"])}
    mixed = CompositeReward([(fn, 2.0), (DistanceReward("ee_pos", "target_pos"), 1.0)])
    terms = mixed.compute_terms(obs, step["action"], step["info"])
    assert terms["OrientationReward"] == pytest.approx(-2 * (1 - math.cos(0.3)))
    assert sum(terms.values()) == mixed.compute(obs, step["action"], step["info"])


# ---- Cross-module contract: name, compute_terms, unique names ----
def test_names_and_terms(step):
    d = DistanceReward("ee_pos", "target_pos")
    assert d.name == "DistanceReward"
    fn = CompositeReward([(d, 1.0), (DistanceReward("ee_pos", "target_pos", scale=3.0), 0.5),
                          (DistanceReward("joint_pos", "joint_vel"), 0.1), (ActionPenalty(), 2.0)])
    terms = fn.compute_terms(**step)
    assert list(terms) == ["DistanceReward", "DistanceReward_1", "DistanceReward_2", "ActionPenalty"]
    assert terms["DistanceReward_1"] == pytest.approx(0.5 * -3.0 * 0.5)   # weighted
    assert all(type(v) is float for v in terms.values())
    assert sum(terms.values()) == fn.compute(**step)
    d.name = "reach_distance"
    assert list(fn.compute_terms(**step))[0] == "reach_distance"


def test_reach_default_reward_formula():
    "The reach env's default reward, r = -d + 1[d < 0.05]."
    fn = CompositeReward([(DistanceReward("ee_pos", "target_pos", scale=1.0), 1.0),
                          (SuccessBonus("ee_pos", "target_pos", threshold=0.05, bonus=1.0), 1.0)])
    for d in [0.0, 0.01, 0.0499, 0.05, 0.2, 1.3]:
        assert fn.compute(_reach_obs(d), np.zeros(4), {}) == pytest.approx(-d + (1.0 if d < 0.05 else 0.0))


# ---- Batched path agrees with the scalar path ----
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_matches_scalar(seed):
    rng = np.random.default_rng(seed)
    B = 64
    obs = {"ee_pos": rng.uniform(-1, 1, (B, 3)), "target_pos": rng.uniform(-1, 1, (B, 3)),
           "joint_pos": rng.normal(size=(B, 7)), "joint_vel": rng.normal(size=(B, 7))}
    obs["ee_pos"][: B // 2] = obs["target_pos"][: B // 2] + rng.normal(scale=0.03, size=(B // 2, 3))
    action = rng.uniform(-1, 1, (B, 4))
    fns = [DistanceReward("ee_pos", "target_pos", scale=2.0), SuccessBonus("ee_pos", "target_pos"),
           ActionPenalty(scale=0.1),
           CompositeReward([(DistanceReward("ee_pos", "target_pos"), 1.0),
                            (SuccessBonus("ee_pos", "target_pos", threshold=0.05, bonus=10.0), 1.0),
                            (ActionPenalty(scale=0.01), 0.5)])]
    for fn in fns:
        batched = fn.compute(obs, action, {})
        assert isinstance(batched, np.ndarray) and batched.shape == (B,), fn
        rows = [fn.compute({k: v[i] for k, v in obs.items()}, action[i], {}) for i in range(B)]
        assert all(type(r) is float for r in rows)
        np.testing.assert_allclose(batched, rows, rtol=0, atol=1e-12)
        terms = fn.compute_terms(obs, action, {})
        assert all(np.shape(v) == (B,) for v in terms.values())
        np.testing.assert_array_equal(sum(terms.values()), batched)
    bonus = fns[1].compute(obs, action, {})
    assert 0 < (bonus > 0).sum() < B   # both branches exercised


def test_scalar_path_returns_python_float():
    obs32 = {k: v.astype(np.float32) for k, v in _reach_obs(0.3).items()}
    for fn in [DistanceReward("ee_pos", "target_pos"), SuccessBonus("ee_pos", "target_pos"), ActionPenalty()]:
        assert type(fn.compute(obs32, np.zeros(4, np.float32), {})) is float


# ---- Bad input: clear errors, at construction where possible ----
_d = DistanceReward("ee_pos", "target_pos")
CONSTRUCTION_ERRORS = [
    (lambda: CompositeReward([]), ValueError, "terms is empty"),
    (lambda: CompositeReward([(_d, float("nan"))]), ValueError, "weight of term 0 (DistanceReward) must be a finite number, got nan"),
    (lambda: CompositeReward([(_d, 1.0), (_d, float("inf"))]), ValueError, "weight of term 1"),
    (lambda: CompositeReward([(_d, "1.0")]), TypeError, "CompositeReward: the weight of term 0 (DistanceReward) must be a number, got '1.0' (str)"),
    (lambda: CompositeReward([(_d, None)]), TypeError, "must be a number, got None (NoneType)"),
    (lambda: CompositeReward([(lambda o, a, i: 0.0, 1.0)]), TypeError, "is not a RewardFunction"),
    (lambda: CompositeReward([("DistanceReward", 1.0)]), TypeError, "term 0: 'DistanceReward' (str) is not a RewardFunction"),
    (lambda: CompositeReward([_d]), TypeError, "term 0 must be a (reward_fn, weight) pair"),
    (lambda: CompositeReward(_d), TypeError, "must be a list of (reward_fn, weight) pairs"),
    (lambda: SuccessBonus("ee_pos", "target_pos", threshold=-0.05), ValueError, "SuccessBonus: threshold must be a finite number >= 0, got -0.05"),
    (lambda: SuccessBonus("ee_pos", "target_pos", threshold=float("nan")), ValueError, "threshold must be a finite number"),
    (lambda: SuccessBonus("ee_pos", "target_pos", bonus=float("inf")), ValueError, "bonus must be a finite number"),
    (lambda: DistanceReward("ee_pos", "target_pos", scale=float("nan")), ValueError, "scale must be a finite number"),
    (lambda: DistanceReward("ee_pos", 3), TypeError, "DistanceReward: key_b must be a str, got 3 (int)"),
    (lambda: ActionPenalty(scale=[0.01]), TypeError, "ActionPenalty: scale must be a number, got [0.01] (list)"),
]


@pytest.mark.parametrize("make,exc,msg", CONSTRUCTION_ERRORS)
def test_bad_construction(make, exc, msg):
    with pytest.raises(exc) as e: make()
    assert msg in str(e.value)


@pytest.mark.parametrize("fn", [DistanceReward("ee_pos", "goal_pos"), SuccessBonus("goal_pos", "target_pos"),
                                CompositeReward([(DistanceReward("ee_pos", "goal_pos"), 1.0)])])
def test_missing_key_names_key_and_lists_keys(fn):
    with pytest.raises(KeyError) as e: fn.compute(_reach_obs(), np.zeros(4), {})
    assert isinstance(e.value, ObservationKeyError)
    assert str(e.value).endswith("no key 'goal_pos'; keys present: ['ee_pos', 'joint_pos', 'joint_vel', 'target_pos']")


def test_other_bad_compute_inputs():
    with pytest.raises(ValueError, match=r"must be vectors of the same shape, got \(3,\) and \(7,\)"):
        DistanceReward("ee_pos", "joint_pos").compute(_reach_obs(), np.zeros(4), {})
    with pytest.raises(TypeError, match="obs must be a dict of arrays, got ndarray"):
        DistanceReward("ee_pos", "target_pos").compute(np.zeros(20), np.zeros(4), {})
    with pytest.raises(TypeError, match="needs the action, got None"):
        ActionPenalty().compute(_reach_obs(), None, {})


# ---- The reach env uses these rewards ----
def test_reach_env_default_and_user_reward():
    from simscaleai.sim import make_env
    env = make_env("reach")
    assert isinstance(env.reward_fn, CompositeReward)
    assert repr(env.reward_fn) == repr(CompositeReward([(DistanceReward("ee_pos", "target_pos", scale=1.0), 1.0),
                                                        (SuccessBonus("ee_pos", "target_pos", threshold=0.05, bonus=1.0), 1.0)]))
    mine = CompositeReward([(DistanceReward("ee_pos", "target_pos", scale=3.0), 1.0), (ActionPenalty(scale=0.5), 2.0)])
    user_env = make_env("reach", reward_fn=mine)
    for e in (env, user_env): e.reset(seed=5)
    action = np.array([0.5, -0.2, 0.1, 1.0], np.float32)
    for _ in range(5):
        obs, r_default, *_, info = env.step(action)
        obs_u, r_user, *_, info_u = user_env.step(action)
        np.testing.assert_array_equal(obs["ee_pos"], obs_u["ee_pos"])
        d = np.linalg.norm(obs["ee_pos"] - obs["target_pos"])
        assert r_default == pytest.approx(-d + (d < 0.05))
        assert r_user == pytest.approx(-3.0 * d - 2.0 * 0.5 * np.linalg.norm(action))
        assert list(info_u["reward_terms"]) == ["DistanceReward", "ActionPenalty"]
        assert sum(info_u["reward_terms"].values()) == pytest.approx(r_user)
