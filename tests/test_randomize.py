"""Domain randomization end to end (issue 26): training copies of a randomized env stay randomized, the CLI's --randomize, bad input."""
import json, os, subprocess

import numpy as np
import pytest

from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.rl.callbacks import evaluate_batched
from simscaleai.rl.robustness import batched
from simscaleai.rl.shards import replicate_env
from simscaleai.sim import make_env
from simscaleai.sim.core import scripted_policy

ENV = {**os.environ, "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1"}

def simscale(*args, cwd):
    return subprocess.run(["simscale", *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)

@pytest.mark.parametrize("n_envs", [2, 4, 16])
def test_the_training_runner_steps_randomized_copies(n_envs):
    "Every env copy the runner steps draws its world as the env given to train() does (the batched copies once lost it)."
    from simscaleai.rl.runners import make_runner
    env = make_env("lift", randomize={"latency_steps": 2, "friction_scale": (0.3, 1.5)})
    runner = make_runner(env, n_envs, 1, seed=0)
    try:
        envs = [e for sh in runner.shards for e in (sh.venv.envs if hasattr(sh, "venv") else sh.envs)]
        assert len(envs) == n_envs
        for e in envs: assert e.unwrapped._dr is not None and e.unwrapped._dr.spec == env._dr.spec
    finally: runner.close()

def test_training_copies_keep_the_randomization():
    env = make_env("lift", randomize={"latency_steps": 2, "friction_scale": (0.3, 1.5)})
    for copy in replicate_env(env, 2):
        dr = copy.unwrapped._dr
        assert dr is not None and dr.spec == env._dr.spec
        copy.reset(seed=5); env.reset(seed=5)
        assert dr.draw_.values == env._dr.draw_.values

def test_a_perturbed_world_changes_what_a_policy_achieves():
    "Not a number to meet: that the batched evaluator really evaluates in the perturbed world (3 steps of latency vs none)."
    expert = batched(scripted_policy("lift"))
    today = evaluate_batched("lift", expert, 20, 3_000_000)
    late = evaluate_batched("lift", expert, 20, 3_000_000, randomize={"latency_steps": 3, "action_noise": 0.5})
    assert today["episode_rewards"] != late["episode_rewards"]

@pytest.mark.parametrize("flags,message", [
    (["lift", "--randomize", "{bad"], "argument --randomize: expected 'preset' or a JSON object"),
    (["lift", "--randomize", "[1, 2]"], "argument --randomize: expected 'preset' or a JSON object"),
    (["lift", "--randomize", '{"friction": 1}'], "--randomize: unknown perturbation 'friction'"),
    (["lift", "--randomize", '{"friction_scale": [1.5, 0.3]}'], "the range's low 1.5 is above its high 0.3"),
    (["lift", "--randomize", '{"object_mass_scale": -2}'], "--randomize['object_mass_scale'] must be a finite number >= 0"),
    (["lift", "--randomize", '{"latency_steps": 0.5}'], "--randomize['latency_steps'] must be an int"),
    (["reach", "--randomize", "preset"], "no randomize preset for 'reach'"),
    (["reach", "--randomize", '{"object_mass_scale": 2}'], "this task has no cube"),
    (["Pendulum-v1", "--randomize", '{"friction_scale": 2}'], "--randomize perturbs the package's tasks"),
    (["Pendulum-v1", "--action-history", "2"], "--action-history is a setting of the package's tasks"),
    (["lift", "--action-history", "11"], "--action-history must be a whole number of actions from 0 to 10, got 11"),
    (["lift", "--action-history", "-1"], "--action-history must be a whole number of actions from 0 to 10, got -1"),
])
def test_randomize_flag_errors(tmp_path, flags, message):
    r = simscale("train", *flags, "--total-timesteps", "2048", "--no-progress", "--no-video", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())

def test_train_with_randomize_records_it_and_resume_keeps_it(tmp_path):
    spec = {"friction_scale": [0.5, 1.5], "latency_steps": 1}
    r = simscale("train", "lift", "--total-timesteps", "8192", "--n-envs", "2", "--checkpoint-every", "1", "--eval-every", "0",
                 "--eval-episodes", "2", "--no-video", "--no-progress", "--out", "run", "--randomize", json.dumps(spec), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path/"run"/"run.json").read_text())
    assert meta["randomize"] == spec
    r = simscale("train", "lift", "--resume", "run", "--randomize", "preset", "--no-progress", cwd=tmp_path)
    assert r.returncode == 2 and "--randomize cannot be given with --resume RUN_DIR" in r.stderr

def test_action_history_extends_a_file_and_the_run_keeps_it(tmp_path):
    "--resume FILE --action-history 2: a policy trained without its last actions learns on with them; eval and the run's record see them."
    base = ["--eval-every", "0", "--eval-episodes", "2", "--no-video", "--no-progress"]
    r = simscale("train", "lift", "--total-timesteps", "2048", "--n-envs", "2", *base, "--out", "a", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = simscale("train", "lift", "--resume", "a/checkpoint.pt", "--action-history", "2", "--total-timesteps", "2048", *base, "--out", "b",
                 "--randomize", '{"latency_steps": [0, 2]}', cwd=tmp_path)
    assert r.returncode == 0 and "learns from here with its last actions observed too" in r.stderr, r.stderr
    meta = json.loads((tmp_path/"b"/"run.json").read_text())
    assert meta["env_config"] == {"action_history": 2}
    before, after = (PPOAgent.from_checkpoint(tmp_path/run/"checkpoint.pt") for run in ("a", "b"))
    assert after.num_timesteps > before.num_timesteps == json.loads((tmp_path/"a"/"run.json").read_text())["total_timesteps"]
    assert after.obs_schema == {**before.obs_schema, "last_actions": [8]} and after.obs_dim == before.obs_dim + 8
    r = simscale("eval", "b/checkpoint.pt", "--env", "lift", "--episodes", "2", "--json", "--no-progress", cwd=tmp_path)   # made with them
    assert r.returncode == 0 and len(json.loads(r.stdout)["episode_rewards"]) == 2, r.stderr
    r = simscale("train", "lift", "--resume", "b", "--action-history", "3", "--no-progress", cwd=tmp_path)
    assert r.returncode == 2 and "--action-history cannot be given with --resume RUN_DIR" in r.stderr


def test_eval_in_a_perturbed_world(tmp_path):
    "simscale eval --randomize: the shipped pick_place policy on the same 20 episodes, today and a control step late."
    today, late = (json.loads(simscale("eval", "--pretrained", "pick_place", "--episodes", "20", "--seed", "2000000", "--json", "--no-progress",
                                       *extra, cwd=tmp_path).stdout) for extra in ([], ["--randomize", '{"latency_steps": 1}']))
    assert today["episode_rewards"] != late["episode_rewards"]
    r = simscale("eval", "--pretrained", "pick_place", "--randomize", '{"latency": 1}', "--no-progress", cwd=tmp_path)
    assert r.returncode == 2 and "unknown perturbation 'latency'" in r.stderr
