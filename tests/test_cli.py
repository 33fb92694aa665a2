"""The `simscale` console script as a user runs it: a subprocess, its exit status, stdout and stderr."""
import json, os, subprocess, sys
from pathlib import Path

import pytest

def simscale(*args, cwd=None):
    "Run the installed console script; returns the CompletedProcess."
    env = {**os.environ, "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1"}
    return subprocess.run(["simscale", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=900)

def test_list_envs_prints_registry():
    r = simscale("list-envs")
    assert r.returncode == 0 and r.stdout.split() == ["lift", "pick_place", "push", "reach", "stack"]

@pytest.mark.parametrize("sub,flags", [
    (None, ["train", "eval", "list-envs", "demos", "bc"]),
    ("demos", ["--episodes", "--seed", "--out", "--policy"]),
    ("bc", ["--out", "--overwrite", "--seed", "--eval-episodes", "--no-video"]),
    ("train", ["--total-timesteps", "--seed", "--n-envs", "--out", "--device", "--resume", "--overwrite", "--eval-episodes", "--no-video",
               "--no-preset", "--eval-every", "--stop-at", "--randomize", "--action-history"]),
    ("eval", ["--env", "--episodes", "--seed", "--videos", "--stochastic", "--json", "--pretrained"]),
])
def test_help_describes_every_flag(sub, flags):
    r = simscale(*([sub] if sub else []), "--help")
    assert r.returncode == 0
    for f in flags: assert f in r.stdout, f

@pytest.mark.parametrize("args,message", [
    (["train", "raech"], "unknown environment 'raech'; available: lift, pick_place, push, reach, stack, or any Gymnasium id"),
    (["train", "no_such_module:Env-v0"], "unknown environment 'no_such_module:Env-v0'"),
    (["train", "CartPole-v1", "--total-timesteps", "64"], "CartPole-v1: PPOAgent needs a one-dimensional Box action space"),
    (["train", "reach", "--stop-at", "1.5"], "--stop-at: expected a success rate in (0, 1] or 'none', got '1.5'"),
    (["train", "reach", "--eval-every", "-1"], "--eval-every must be >= 0 env steps"),
    (["train", "reach", "--eval-every", "0", "--stop-at", "0.9"], "--stop-at 0.9 needs evaluation during training"),
    (["train", "reach", "--eval-episodes", "0"], "--eval-episodes must be >= 1"),
    (["train", "Pendulum-v1", "--stop-at", "0.9", "--total-timesteps", "2048", "--n-envs", "1"], "needs an env that reports info['success']"),
    (["train", "reach", "--total-timesteps", "0"], "--total-timesteps must be >= 1"),
    (["eval", "missing.pt"], "does not exist"),
    (["eval", "garbage.pt"], "cannot read checkpoint"),
    (["eval", "garbage.pt", "--env", "nope"], "unknown environment 'nope'"),
    (["eval"], "eval takes a CHECKPOINT file or --pretrained NAME, one of the two"),
    (["eval", "garbage.pt", "--pretrained", "lift"], "got both 'garbage.pt' and --pretrained 'lift'"),
    (["eval", "--pretrained", "throw"], "--pretrained: no policy named 'throw'; available: ['lift', 'lift_bc', 'lift_demos', 'pick_place', 'pick_place_bc', 'pick_place_demos', 'pick_place_robust', 'push', 'stack']"),
    (["eval", "--pretrained", "pick_place_bc", "--env", "lift"], "are not the ones"),
    # demonstrations and cloning
    (["demos", "raech", "--episodes", "1", "--out", "d"], "unknown environment 'raech'"),
    (["demos", "Pendulum-v1", "--episodes", "1", "--out", "d"], "no scripted expert for 'Pendulum-v1'"),
    (["demos", "reach", "--episodes", "0", "--out", "d"], "--episodes must be >= 1, got 0"),
    (["demos", "reach", "--episodes", "1", "--seed", "-1", "--out", "d"], "--seed must be >= 0, got -1"),
    (["demos", "reach", "--episodes", "1", "--out", "."], "--out: '.' already exists; choose a new folder"),
    (["demos", "reach", "--episodes", "1"], "the following arguments are required: --out"),
    (["demos", "reach", "--episodes", "1", "--out", "d", "--policy", "garbage.pt"], "cannot read checkpoint"),
    (["demos", "reach", "--episodes", "1", "--out", "d", "--policy", "pretrained", "throw"], "--policy pretrained: no policy named 'throw'"),
    (["demos", "reach", "--episodes", "1", "--out", "d", "--policy", "pretrained"], "--policy pretrained takes one NAME, got 0"),
    (["demos", "reach", "--episodes", "1", "--out", "d", "--policy", "pretrained", "lift"], "are not the ones the agent was trained on"),
    (["bc", "nowhere"], "load_demos: 'nowhere' does not exist"),
    (["bc", "garbage.pt"], "is not a Minari dataset"),
    (["bc", "."], "is not a Minari dataset: it has no data/metadata.json"),
])
def test_user_errors_are_one_line_without_traceback(tmp_path, args, message):
    (tmp_path/"garbage.pt").write_bytes(b"\x00not a checkpoint")
    r = simscale(*args, "--no-progress", cwd=tmp_path)
    assert r.returncode == 2, r
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and message in r.stderr, r.stderr

def test_existing_out_dir_is_refused_and_left_untouched(tmp_path):
    out = tmp_path/"run"; out.mkdir(); (out/"result.txt").write_text("keep me")
    r = simscale("train", "reach", "--out", out, "--no-progress", "--total-timesteps", "2048")
    assert r.returncode == 2 and "already exists" in r.stderr and "--overwrite" in r.stderr
    assert (out/"result.txt").read_text() == "keep me" and sorted(os.listdir(tmp_path)) == ["run"]

def test_train_eval_resume_end_to_end(tmp_path):
    run = tmp_path/"run"
    r = simscale("train", "reach", "--total-timesteps", "4096", "--n-envs", "2", "--seed", "3", "--out", run,
                 "--eval-episodes", "3", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in run.iterdir()) == ["best.pt", "checkpoint.pt", "curves.png", "eval.json", "eval_curve.json",
                                                     "eval_video.mp4", "history.json", "run.json"]
    assert "Success rate:" in r.stdout and str(run) in r.stdout
    meta = json.loads((run/"run.json").read_text())
    assert (meta["env"], meta["seed"], meta["total_timesteps"]) == ("reach", 3, 4096)
    metrics = json.loads((run/"eval.json").read_text())
    assert len(metrics["episode_rewards"]) == 3 and len(metrics["episode_successes"]) == 3
    assert (run/"eval_video.mp4").stat().st_size > 1000 and (run/"curves.png").read_bytes()[:4] == b"\x89PNG"

    # eval: the run's policy (a run directory names it in run.json), same seeded episodes -> the metrics train wrote
    assert meta["policy"] == "best.pt"
    r = simscale("eval", run, "--episodes", "3", "--json", "--no-progress")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["mean_reward"] == pytest.approx(metrics["mean_reward"]) and res["success_rate"] == metrics["success_rate"]

    # eval with videos: one file per episode
    r = simscale("eval", run/"checkpoint.pt", "--episodes", "2", "--videos", tmp_path/"vids", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path/"vids").glob("*.mp4"))) == 2 and "Mean reward:" in r.stdout

    # resume: the counters continue, the hyper-parameters come from the checkpoint
    r = simscale("train", "reach", "--resume", run/"checkpoint.pt", "--total-timesteps", "2048", "--out", tmp_path/"run2",
                 "--eval-episodes", "1", "--no-video", "--no-progress")
    assert r.returncode == 0, r.stderr
    meta2 = json.loads((tmp_path/"run2"/"run.json").read_text())
    assert meta2["total_timesteps"] == 4096 + 2048 and meta2["config"]["n_envs"] == 2 and meta2["resumed_from"].endswith("checkpoint.pt")
    assert not (tmp_path/"run2"/"eval_video.mp4").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary run directory was left behind"

@pytest.mark.parametrize("flags,gamma,n_envs", [([], 0.9, 32), (["--no-preset"], 0.99, 16)])
def test_train_lift_uses_the_task_preset_unless_told_not_to(tmp_path, flags, gamma, n_envs):
    run = tmp_path/"run"
    r = simscale("train", "lift", "--total-timesteps", "4096", "--out", run, "--eval-episodes", "1", "--no-video", "--no-progress", *flags)
    assert r.returncode == 0, r.stderr
    config = json.loads((run/"run.json").read_text())["config"]
    assert (config["gamma"], config["n_envs"]) == (gamma, n_envs)

@pytest.mark.parametrize("name", ["lift", "pick_place", "lift_bc", "pick_place_bc", "pick_place_robust", "lift_demos", "pick_place_demos", "push", "stack"])
def test_eval_pretrained_runs_the_shipped_policy_on_its_own_task(name):
    from simscaleai import pretrained
    meta = pretrained.info(name)
    r = simscale("eval", "--pretrained", name, "--episodes", "5", "--seed", meta["eval"]["seed"], "--json", "--no-progress")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    # the first 5 of the episodes the file's evaluation ran: the same successes, episode by episode
    assert res["episode_successes"] == meta["eval"]["episode_successes"][:5]
    assert len(res["episode_lengths"]) == 5 and set(res["episode_lengths"]) == {meta["max_episode_steps"]}


def test_demos_bc_eval_end_to_end(tmp_path):
    "Record expert demos, clone them, evaluate the clone: from its run directory and from its file, as a PPO run is evaluated."
    r = simscale("demos", "reach", "--episodes", "4", "--seed", "0", "--out", tmp_path/"demos", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "recorded 4 episodes of expert on reach" in r.stdout and (tmp_path/"demos"/"data"/"metadata.json").is_file()
    r = simscale("bc", tmp_path/"demos", "--out", tmp_path/"run", "--eval-episodes", "3", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "Success rate:" in r.stdout and f"run directory: {tmp_path/'run'}" in r.stdout
    assert sorted(os.listdir(tmp_path/"run")) == ["eval.json", "eval_video.mp4", "history.json", "policy.pt", "run.json"]
    run = json.loads((tmp_path/"run"/"run.json").read_text())
    assert (run["command"], run["env"], run["policy"], run["episodes"]) == ("bc", "reach", "policy.pt", 4)
    saved = json.loads((tmp_path/"run"/"eval.json").read_text())
    for target in (tmp_path/"run", tmp_path/"run"/"policy.pt"):                 # the run directory, or the clone's file (its own task)
        r = simscale("eval", target, "--episodes", "3", "--json", "--no-progress")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["episode_successes"] == saved["episode_successes"]
    r = simscale("bc", tmp_path/"demos", "--out", tmp_path/"run", "--no-progress")
    assert r.returncode == 2 and "already exists" in r.stderr and "--overwrite" in r.stderr
    r = simscale("demos", "reach", "--episodes", "1", "--out", tmp_path/"again", "--policy", tmp_path/"run"/"policy.pt", "--no-progress")
    assert r.returncode == 0 and "recorded 1 episodes of " in r.stdout, r.stderr      # a clone records demonstrations too
