"""Demonstrations and behaviour cloning (simscaleai.imitation): the bad-input table, replay, the split by episode, and the saved file."""
import os
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
import torch

from simscaleai.imitation import (BCConfig, BCPolicy, bc_loss, demo_arrays, episode_seeds, load_demos, record_demos,
                                  replay_episode, split_episodes, successful_episodes, train_bc)
from simscaleai.rl.agents.ppo import PPOAgent
from simscaleai.rl.evaluator import EvalConfig, evaluate_policy
from simscaleai.rl.rollouts import flatten_obs
from simscaleai.sim import make_env

SMALL_BC = dict(hidden_dim=16, max_epochs=5, patience=2, batch_size=128)


def idle(obs): return np.zeros(4)              # never reaches, never lifts: every episode fails


def damaged(src, dst, key, value):
    "A copy of dataset folder `src` at `dst` with one entry of hdf5 dataset `key` (e.g. episode_1/actions) set to `value`."
    import shutil
    shutil.copytree(src, dst)
    with h5py.File(dst / "data" / "main_data.hdf5", "a") as f: f[key][(5, 2)] = value
    return dst


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("imitation")
    reach = record_demos("reach", 3, 0, root / "reach", progress=False)
    lift = record_demos("lift", 2, 0, root / "lift", progress=False)
    fails = record_demos("reach", 2, 0, root / "fails", policy=idle, progress=False)
    model = train_bc(reach, BCConfig(**SMALL_BC))
    (root / "empty").mkdir()
    (root / "file.txt").write_text("not a dataset")
    (root / "broken" / "data").mkdir(parents=True); (root / "broken" / "data" / "metadata.json").write_text("{")
    damaged(root / "reach", root / "nan_action", "episode_1/actions", np.nan)
    damaged(root / "reach", root / "inf_obs", "episode_0/observations/joint_vel", np.inf)
    model.save(root / "bc.pt")
    PPOAgent(20, 4).save(root / "ppo.pt")
    ck = torch.load(root / "bc.pt", weights_only=True); ck["format_version"] = 99; torch.save(ck, root / "v99.pt")
    ck = torch.load(root / "bc.pt", weights_only=True); ck["state_dict"]["net.0.weight"][0, 0] = float("nan"); torch.save(ck, root / "nanw.pt")
    return SimpleNamespace(root=root, reach=reach, lift=lift, fails=fails, model=model)


def _record(c, policy, name="new", **kw):
    return record_demos(kw.pop("task", "reach"), kw.pop("n", 1), 0, c.root / name, policy=policy, progress=False, **kw)


# ---- Bad input: (what, call, exception, message) ----
BAD_INPUT = [
    # a path that is not a dataset
    ("missing path", lambda c: load_demos(c.root / "nowhere"), FileNotFoundError, "does not exist"),
    ("empty folder", lambda c: load_demos(c.root / "empty"), ValueError, "is not a Minari dataset: it has no data/metadata.json"),
    ("a file", lambda c: load_demos(c.root / "file.txt"), ValueError, "is not a Minari dataset"),
    ("broken metadata", lambda c: load_demos(c.root / "broken"), ValueError, "is not a readable Minari dataset (JSONDecodeError"),
    # a dataset, model or env of another task
    ("bc_loss on another task's demos", lambda c: bc_loss(c.model, c.lift), ValueError,
     "the dataset's observations {'ee_pos': [3], 'gripper_width': [1]"),
    ("check_env on another task", lambda c: c.model.check_env(make_env("lift")), ValueError, "come from another task"),
    ("evaluate on another task", lambda c: evaluate_policy(make_env("lift"), c.model.predict, EvalConfig(n_episodes=1, progress=False)),
     ValueError, "observation keys ['ee_pos', 'gripper_width', 'joint_pos', 'joint_vel', 'object_pos', 'object_quat', 'target_pos'] are not the ones"),
    ("record another task with the clone", lambda c: _record(c, c.model, task="lift"), ValueError, "missing [], unexpected ['gripper_width'"),
    ("replay in another task's env", lambda c: replay_episode(c.reach, 0, env=make_env("pick_place")), ValueError,
     "the env's observations {'ee_pos': [3], 'goal_pos': [3]"),
    ("predict on another task's obs", lambda c: c.model.predict(make_env("pick_place").reset(seed=0)[0]), ValueError, "unexpected ['goal_pos', 'gripper_width'"),
    # empty or all-failed when successes are asked for
    ("no episodes", lambda c: successful_episodes(c.reach.filter_episodes(lambda ep: False)), ValueError, "the dataset has no episodes"),
    ("all failed", lambda c: successful_episodes(c.fails), ValueError, "none of the dataset's 2 episodes succeeded"),
    ("train on all failed", lambda c: train_bc(c.fails, BCConfig(**SMALL_BC)), ValueError, "none of the dataset's 2 episodes succeeded"),
    ("train on one episode", lambda c: train_bc(c.reach.filter_episodes(lambda ep: ep.id == 0), BCConfig(**SMALL_BC)), ValueError,
     "a split by episode needs at least 2 episodes, the dataset has 1"),
    ("demo_arrays of nothing", lambda c: demo_arrays(c.reach.filter_episodes(lambda ep: False)), ValueError, "the dataset has no episodes"),
    # NaN in recorded actions (or inf in observations)
    ("nan action", lambda c: demo_arrays(load_demos(c.root / "nan_action")), ValueError,
     "episode 1 has a non-finite action (nan or inf) at step 5, flat index 2"),
    ("train on nan action", lambda c: train_bc(load_demos(c.root / "nan_action"), BCConfig(**SMALL_BC, val_fraction=0.5)), ValueError,
     "episode 1 has a non-finite action"),
    ("inf observation", lambda c: demo_arrays(load_demos(c.root / "inf_obs")), ValueError, "episode 0 has a non-finite observation (nan or inf) at step 5"),
    # a policy that returns the wrong thing while recording
    ("wrong shape", lambda c: _record(c, lambda obs: np.zeros(3)), ValueError, "predict_fn returned an action of shape (3,) at episode 0, step 0"),
    ("batch shape", lambda c: _record(c, lambda obs: np.zeros((1, 4))), ValueError, "action of shape (1, 4)"),
    ("nan action recorded", lambda c: _record(c, lambda obs: np.array([0, np.nan, 0, 0])), ValueError, "non-finite action at episode 0, step 0"),
    ("tuple (SB3)", lambda c: _record(c, lambda obs: (np.zeros(4), None)), TypeError, "predict_fn returned a tuple"),
    ("not numbers", lambda c: _record(c, lambda obs: None), TypeError, "non-numeric action"),
    # other arguments
    ("existing out_dir", lambda c: record_demos("reach", 1, 0, c.root / "reach"), FileExistsError, "already exists; refusing to overwrite"),
    ("n_episodes 0", lambda c: record_demos("reach", 0, 0, c.root / "new"), ValueError, "record_demos: n_episodes must be an int >= 1, got 0"),
    ("seed -1", lambda c: record_demos("reach", 1, -1, c.root / "new"), ValueError, "record_demos: seed must be an int >= 0, got -1"),
    ("unknown policy name", lambda c: _record(c, "random"), ValueError, "policy must be 'expert', an object with .predict(obs) or a callable"),
    ("policy not callable", lambda c: _record(c, 3), TypeError, "policy must be 'expert'"),
    ("unknown task", lambda c: record_demos("throw", 1, 0, c.root / "new"), ValueError, "no scripted expert for 'throw'"),
    ("unknown task, own policy", lambda c: _record(c, idle, task="throw"), ValueError, "unknown environment 'throw'"),
    ("env_kwargs not plain", lambda c: _record(c, idle, env_kwargs={"reward_fn": object()}), TypeError, "env_kwargs must be plain values"),
    ("missing info key", lambda c: _record(c, idle, info_keys=("grasped",)), ValueError, "info has no key 'grasped' after reset"),
    ("state not a tensor", lambda c: c.model.predict({"state": np.zeros((1, 20))}), TypeError, "obs['state'] must be a float torch tensor"),
    ("state of one obs", lambda c: c.model.predict({"state": torch.zeros(20)}), ValueError, "must have shape (batch, obs_dim=20)"),
    ("state too short", lambda c: c.model.predict({"state": torch.zeros(2, 19)}), ValueError, "got (2, 19)"),
    ("state nan", lambda c: c.model.predict({"state": torch.full((1, 20), float("nan"))}), ValueError, "obs['state'] holds non-finite values"),
    ("obs nan", lambda c: c.model.predict({**make_env("reach").reset(seed=0)[0], "ee_pos": np.full(3, np.nan)}), ValueError, "hold non-finite values"),
    ("load missing", lambda c: BCPolicy.load(c.root / "none.pt"), FileNotFoundError, "does not exist or is not a file"),
    ("load text", lambda c: BCPolicy.load(c.root / "file.txt"), ValueError, "is not a file written by BCPolicy.save"),
    ("load a PPO checkpoint", lambda c: BCPolicy.load(c.root / "ppo.pt"), ValueError, "is not a BCPolicy file (format 'simscaleai.ppo'"),
    ("load another version", lambda c: BCPolicy.load(c.root / "v99.pt"), ValueError, "has format_version 99; this version reads 1"),
    ("load nan weights", lambda c: BCPolicy.load(c.root / "nanw.pt"), ValueError, "holds non-finite weights"),
    ("config type", lambda c: train_bc(c.reach, {"lr": 1e-3}), TypeError, "train_bc: config must be a BCConfig or None, got dict"),
    ("config value", lambda c: BCConfig(patience=0), ValueError, "BCConfig.patience must be an int >= 1, got 0"),
    ("split fraction", lambda c: split_episodes(c.reach, 1.5), ValueError, "split_episodes: val_fraction must be a finite number > 0 and < 1"),
]


@pytest.mark.parametrize("what,call,exc,message", BAD_INPUT, ids=[row[0] for row in BAD_INPUT])
def test_bad_input(ctx, what, call, exc, message):
    before = sorted(os.listdir(ctx.root))
    with pytest.raises(exc) as e: call(ctx)
    assert message in str(e.value), f"{what}: {e.value}"
    assert sorted(os.listdir(ctx.root)) == before, f"{what} left files behind"     # nothing half-written, no .partial folder


def test_failure_mid_recording_names_the_episode_and_leaves_nothing(ctx):
    calls = []
    def late(obs):
        calls.append(1)
        return np.zeros(4) if len(calls) <= 210 else np.zeros(5)
    with pytest.raises(ValueError, match=r"shape \(5,\) at episode 1, step 10") as e: _record(ctx, late, name="late", n=3)
    assert "while recording episode 1 (reset seed 1)" in "".join(e.value.__notes__)
    assert not (ctx.root / "late").exists() and not [p for p in os.listdir(ctx.root) if "late" in p]


# ---- What is recorded ----
def test_recorded_episodes_replay_exactly(ctx):
    assert episode_seeds(ctx.reach) == [0, 1, 2]
    meta = ctx.reach.storage.metadata
    assert meta["data_format"] == "hdf5" and meta["simscaleai"]["task"] == "reach" and meta["simscaleai"]["seed"] == 0
    for ep, seed in zip(ctx.reach, episode_seeds(ctx.reach)):
        env = make_env("reach")
        obs, _ = env.reset(seed=seed)
        assert all((obs[k] == ep.observations[k][0]).all() for k in obs)
        for t, action in enumerate(ep.actions):
            obs, reward, terminated, truncated, info = env.step(action)
            assert all((obs[k] == ep.observations[k][t + 1]).all() for k in obs), (ep.id, t)
            assert reward == ep.rewards[t] and terminated == ep.terminations[t] and truncated == ep.truncations[t]
            assert info["success"] == ep.infos["success"][t + 1]
    assert [replay_episode(ctx.reach, i) for i in range(3)] == [0.0] * 3 and replay_episode(ctx.lift, 1) == 0.0


def test_split_is_by_episode_and_seeded(tmp_path):
    demos = record_demos("lift", 10, 50, tmp_path / "lift10", progress=False)
    train, val = split_episodes(demos, 0.3, seed=4)
    assert len(val.episode_indices) == 3 and len(train.episode_indices) == 7
    assert not set(train.episode_indices) & set(val.episode_indices)
    _, _, ids = demo_arrays(val)
    assert set(ids) == set(val.episode_indices)                                   # whole episodes: every step of each
    assert list(split_episodes(demos, 0.3, seed=4)[1].episode_indices) == list(val.episode_indices)
    assert list(split_episodes(demos, 0.3, seed=5)[1].episode_indices) != list(val.episode_indices)


# ---- The clone ----
def test_clone_file_is_plain_data_and_acts_the_same(ctx):
    ckpt = torch.load(ctx.root / "bc.pt", weights_only=True)
    assert ckpt["format"] == "simscaleai-bc" and ckpt["obs_schema"] == {"ee_pos": [3], "joint_pos": [7], "joint_vel": [7], "target_pos": [3]}
    back = BCPolicy.load(ctx.root / "bc.pt")
    obs, _ = make_env("reach").reset(seed=3)
    assert np.array_equal(back.predict(obs), ctx.model.predict(obs))
    assert back.provenance["task"] == "reach" and back.history == ctx.model.history
    state = torch.from_numpy(flatten_obs(obs)).float()[None]
    assert torch.equal(back.predict({"state": state}), ctx.model.predict({"state": state}))
    assert np.allclose(back.predict({"state": state})[0].numpy(), back.predict(obs), atol=1e-6)


def test_train_bc_is_seeded_and_restores_threads(ctx):
    threads = torch.get_num_threads()
    a, b = train_bc(ctx.reach, BCConfig(**SMALL_BC)), train_bc(ctx.reach, BCConfig(**SMALL_BC))
    assert torch.get_num_threads() == threads
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    c = train_bc(ctx.reach, BCConfig(**{**SMALL_BC, "seed": 1}))
    assert not torch.equal(a.net[0].weight, c.net[0].weight)


def test_a_ppo_agent_records_too(ctx, tmp_path):
    agent = PPOAgent.for_env("reach")
    demos = record_demos("reach", 1, 7, tmp_path / "ppo", policy=agent, progress=False)
    obs = {k: v[0] for k, v in demos[0].observations.items()}
    assert np.array_equal(demos[0].actions[0], np.clip(agent.predict(obs), -1, 1).astype(np.float32))
    assert demos.storage.metadata["algorithm_name"] == "PPOAgent" and demos.id == "simscaleai/reach/PPOAgent-v0"


# ---- The shipped clone runs the spec's "With a trained BC/VLA model" block as written ----
def spec_bc_block():
    "The spec's code from '# With a trained BC/VLA model' to the end of its block (section 'Closed-Loop Evaluation'), verbatim."
    import re
    from pathlib import Path
    spec = Path(__file__).resolve().parents[2] / "shared/spec/reinforcement-learning.md"
    if not spec.exists(): pytest.skip(f"spec not found at {spec}")
    usage = re.findall(r"```python\n(.*?)```", spec.read_text().split("## Closed-Loop Evaluation", 1)[1], flags=re.S)[1]
    return "# With a trained BC/VLA model" + usage.split("# With a trained BC/VLA model", 1)[1]


def test_spec_bc_block_with_the_shipped_pick_place_clone(capsys):
    from simscaleai import pretrained
    from simscaleai.sim import scripted_policy
    block = spec_bc_block()
    assert "model.predict({\"state\": state})" in block and "evaluate_policy(env, predict_fn=model_predict)" in block
    model = pretrained.load("pick_place_bc")
    assert isinstance(model, BCPolicy) and pretrained.info("pick_place_bc")["demos"]["episodes"] <= 200
    ns = {"np": np, "torch": torch, "evaluate_policy": evaluate_policy, "EvalConfig": EvalConfig, "env": make_env("pick_place"), "model": model}
    exec(block, ns)                                             # the spec's default EvalConfig: 20 episodes, seeds 0-19
    assert ns["results"]["success_rate"] >= 0.9, ns["results"]["success_rate"]
    assert "Success rate:" in capsys.readouterr().out
    # and on 100 fresh episodes no demonstration saw (reset seeds 2,000,000+; the demos are seeds 0-199), against the expert there
    fresh = EvalConfig(n_episodes=100, seed=2_000_000, max_steps=60, progress=False)
    clone = evaluate_policy(ns["env"], ns["model_predict"], fresh)
    assert clone["success_rate"] >= 0.9, clone["success_rate"]
    assert clone["success_rate"] == pretrained.info("pick_place_bc")["eval"]["success_rate"]
    assert not set(clone["episode_seeds"]) & set(range(200))


def test_shipped_lift_clone_loads_and_matches_its_record():
    from simscaleai import pretrained
    model, meta = pretrained.load("lift_bc"), pretrained.info("lift_bc")
    assert isinstance(model, BCPolicy) and meta["format"] == "simscaleai-bc" and meta["task"] == "lift"
    res = evaluate_policy(make_env("lift"), model.predict, EvalConfig(n_episodes=100, seed=meta["eval"]["seed"], max_steps=50, progress=False))
    assert res["success_rate"] == meta["eval"]["success_rate"] >= 0.95
