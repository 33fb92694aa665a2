"""Reliability, second round (issue 24): one writer per run directory, bounded waits, nothing accepted silently.

Each case of the issue, with its siblings: in-process tables first, then real `simscale train` processes (every wait
bounded, every process killed in a `finally`)."""
import contextlib, hashlib, json, math, os, signal, socket, subprocess, sys, time, warnings
from pathlib import Path

import numpy as np
import pytest

from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.sim import make_env
from simscaleai.sim.vector import make_vec_env
from simscaleai.testing import SMALL_PPO, ToyReach, without_timing
from simscaleai.utils import DirectoryBusyError, atomic_dir, claim_dir, own_dir

ENV = {**os.environ, "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1"}
QUICK = ["--n-envs", "2", "--eval-episodes", "1", "--eval-every", "0", "--no-video", "--no-progress"]

def simscale(*args, cwd, timeout=600):
    return subprocess.run(["simscale", *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)

def start(*args, cwd):
    return subprocess.Popen(["simscale", "train", *map(str, args)], cwd=cwd, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

def wait_for(predicate, timeout_s:float, what:str):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline: raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)

def kill(proc):
    with contextlib.suppress(ProcessLookupError): os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception): proc.communicate(timeout=30)

def tree_digest(path:Path) -> dict:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- one writer per run directory
def test_a_busy_run_directory_is_refused_to_overwrite_and_resume(tmp_path):
    "A run in progress owns its directory: --overwrite and --resume from other processes are refused at once, nothing changes."
    first = start("reach", "--total-timesteps", "16384", "--checkpoint-every", "1", "--seed", "1", "--out", "busy", *QUICK, cwd=tmp_path)
    try:
        wait_for(lambda: (tmp_path/"busy"/"checkpoint.pt").exists(), 600, "the first run's first checkpoint")
        os.killpg(first.pid, signal.SIGSTOP)     # paused, still owning the directory: it cannot finish before the others ask (a loaded machine)
        try:
            for args in (["train", "reach", "--out", "busy", "--overwrite", "--seed", "2", "--total-timesteps", "2048", *QUICK],
                         ["train", "reach", "--resume", "busy", "--no-progress", "--no-video"]):
                r = simscale(*args, cwd=tmp_path)
                assert r.returncode == 2, r.stderr
                assert "'busy' is in use by another process" in r.stderr and "Traceback" not in r.stderr, r.stderr
        finally: os.killpg(first.pid, signal.SIGCONT)
        _, err = first.communicate(timeout=900)
        assert first.returncode == 0, err
    finally: kill(first)
    meta = json.loads((tmp_path/"busy"/"run.json").read_text())
    assert (meta["status"], meta["seed"]) == ("complete", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]        # no sibling left behind

def test_two_overwrites_at_the_same_instant_leave_one_complete_run(tmp_path):
    "The issue's case: both used to exit 0 while the second deleted the first's results."
    procs = [start("reach", "--out", "same1", "--overwrite", "--seed", str(s), "--total-timesteps", "4096", *QUICK, cwd=tmp_path)
             for s in (1, 2)]
    try: results = [(p.wait(timeout=900), p.stdout.read(), p.stderr.read()) for p in procs]
    finally:
        for p in procs: kill(p)
    winners = [i for i, (code, _, _) in enumerate(results) if code == 0]
    for code, _, err in results:
        assert code in (0, 2), err
        if code == 2: assert "in use by another process" in err or "already exists" in err, err
    assert winners, results
    meta = json.loads((tmp_path/"same1"/"run.json").read_text())
    assert meta["status"] == "complete"
    if len(winners) == 1: assert meta["seed"] == winners[0] + 1          # the directory holds the run that says it wrote it
    else: assert "run directory: same1" in results[0][1] and "run directory: same1" in results[1][1]   # one after the other
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same1"]

def test_own_dir_is_released_when_its_owner_is_killed(tmp_path):
    run = claim_dir(tmp_path/"run")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from simscaleai.utils import own_dir\n"
                               f"with own_dir({str(run)!r}): print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DirectoryBusyError, match="in use by another process"):
            with own_dir(run): pass
    finally: holder.kill(); holder.wait(timeout=30)
    with own_dir(run): pass

def test_overwrite_keeps_the_old_run_whole_until_the_new_one_is_in_place(tmp_path):
    target = tmp_path/"run"
    with atomic_dir(target) as d: (d/"old.txt").write_text("old")
    with atomic_dir(target, overwrite=True) as d:
        (d/"new.txt").write_text("new")
        assert (target/"old.txt").read_text() == "old"                  # untouched while the new one is built
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"] and sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# ---------------------------------------------------------------- resume checks what it continues
def test_resume_of_another_tasks_checkpoint_is_refused_before_anything_is_written(tmp_path):
    agent = PPOAgent.for_env("reach", PPOConfig(**{**SMALL_PPO, "n_envs": 2, "n_steps": 128}))
    agent.train("reach", total_timesteps=128)
    (tmp_path/"rdir").mkdir(); agent.save(tmp_path/"rdir"/"checkpoint.pt")   # a reach checkpoint without run.json
    before = tree_digest(tmp_path)
    for args in (["--resume", "rdir"], ["--resume", "rdir/checkpoint.pt", "--out", "new"]):
        r = simscale("train", "lift", *args, "--no-progress", "--no-video", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert "cannot continue on 'lift'" in r.stderr and "env observations flatten to 28 values, but the agent has obs_dim=20" in r.stderr, r.stderr
    assert tree_digest(tmp_path) == before                               # nothing rewritten, nothing new

def test_train_refuses_an_env_with_the_same_size_but_other_keys():
    class Renamed(ToyReach):
        def __init__(self):
            super().__init__()
            import gymnasium as gym
            self.observation_space = gym.spaces.Dict({"a": gym.spaces.Box(-2, 2, (2,)), "b": gym.spaces.Box(-1, 1, (2,))})
        def _obs(self): return {"a": self.pos.copy(), "b": self.target.copy()}
    agent = PPOAgent(4, 2, PPOConfig(**{**SMALL_PPO, "env_workers": 0}))
    agent.train(ToyReach(), total_timesteps=256)
    with pytest.raises(ValueError, match="not the ones the agent was trained on"):
        agent.train(Renamed(), total_timesteps=256)
    assert agent.num_timesteps == 256


# ---------------------------------------------------------------- counters describe what was learnt
@pytest.mark.parametrize("at_step", [1, 100, 255])
def test_an_interrupted_rollout_is_not_counted(at_step):
    class Interrupted(ToyReach):
        left = None
        def step(self, action):
            Interrupted.left -= 1
            if Interrupted.left == 0: raise KeyboardInterrupt
            return super().step(action)
    cfg = PPOConfig(**{**SMALL_PPO, "env_workers": 0})
    agent = PPOAgent(4, 2, cfg); agent.train(ToyReach(), total_timesteps=256)
    before = (agent.num_timesteps, agent.n_episodes, {k: len(v) for k, v in agent.history.items()}, agent._flat.flat.clone(),
              agent.obs_rms.mean.copy())
    Interrupted.left = at_step
    with pytest.raises(KeyboardInterrupt): agent.train(Interrupted(), total_timesteps=256)
    after = (agent.num_timesteps, agent.n_episodes, {k: len(v) for k, v in agent.history.items()}, agent._flat.flat, agent.obs_rms.mean)
    assert after[:3] == before[:3]
    assert bool((after[3] == before[3]).all()) and np.array_equal(after[4], before[4])


# ---------------------------------------------------------------- bounded waits for Ray
@pytest.mark.parametrize("flags,message", [
    (["--ray-address", "127.0.0.1:1"], "--ray-address is only used by Ray collection: set --ray-workers > 0 with it"),
    (["--ray-workers", "2", "--ray-address", "127.0.0.1:1"], "--ray-address: no Ray cluster at '127.0.0.1:1': Connection refused"),
    (["--ray-workers", "2", "--ray-address", "localhost"], "--ray-address must be 'auto' or 'host:port'"),
    (["--ray-workers", "2", "--ray-address", "SILENT"], "--ray-address: no Ray cluster at '127.0.0.1:"),
])
def test_ray_address_errors_are_quick_one_line_user_errors(tmp_path, flags, message):
    with socket.socket() as silent:                       # listens, never answers: a wrong port, a firewall's black hole
        silent.bind(("127.0.0.1", 0)); silent.listen()
        flags = [f"127.0.0.1:{silent.getsockname()[1]}" if f == "SILENT" else f for f in flags]
        r = simscale("train", "reach", "--total-timesteps", "2048", *flags, "--out", "run", *QUICK, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())                  # refused before any directory was claimed


# ---------------------------------------------------------------- envs: nothing accepted silently
@pytest.mark.parametrize("task", ["reach", "lift", "pick_place", "push", "stack"])
def test_use_after_close_raises(task):
    env = make_env(task, render_mode="rgb_array"); env.reset(seed=0); env.close()
    for call in (lambda: env.step(np.zeros(4)), lambda: env.reset(seed=0), env.render):
        with pytest.raises(RuntimeError, match="after close"): call()
    venv = make_vec_env(task, num_envs=2); venv.reset(seed=0); venv.close()
    for call in (lambda: venv.step(np.zeros((2, 4))), lambda: venv.reset(seed=0), lambda: venv.step_some(np.zeros((2, 4)), np.ones(2, bool))):
        with pytest.raises(RuntimeError, match="after close"): call()

@pytest.mark.parametrize("task,action", [("lift", [1e30, 0, 0, 0]), ("lift", [0, 0, 0, 5.0]), ("pick_place", [-7, 3, 0, -2])])
def test_the_action_penalty_is_on_the_applied_action(task, action):
    env, clipped = make_env(task), make_env(task)
    env.reset(seed=3); clipped.reset(seed=3)
    _, r, *_ = env.step(np.array(action, np.float64))
    _, rc, *_ = clipped.step(np.clip(action, -1, 1))
    assert r == rc and math.isfinite(r)
    venv = make_vec_env(task, num_envs=1); venv.reset(seed=3)
    _, rv, *_ = venv.step(np.array([action], np.float64))
    assert rv[0] == pytest.approx(r, abs=1e-9)

@pytest.mark.parametrize("task", ["lift", "pick_place", "push", "stack"])
def test_a_cube_flung_out_of_the_workspace_ends_the_episode(task):
    env = make_env(task); env.reset(seed=0)
    adr = env.model.jnt_dofadr[env.model.joint("object_joint").id]
    env.data.qvel[adr:adr + 3] = (0.0, -300.0, 50.0)
    with pytest.warns(UserWarning, match="the cube left the workspace"):
        obs, _, terminated, _, info = env.step(np.zeros(4))
    assert terminated and "object_pos" in info["out_of_bounds"] and obs in env.observation_space

def test_joint_velocities_past_their_bound_end_the_episode():
    "The arm's damping keeps its joints far inside the bound (500 rad/s set by hand is gone within a step): a blow-up's net, tested by hand."
    env = make_env("reach"); env.reset(seed=0)
    observe = env._observe
    def diverged():
        obs, info = observe(); obs["joint_vel"] = obs["joint_vel"] + 50.0; return obs, info
    env._observe = diverged
    with pytest.warns(UserWarning, match="joint_vel"):
        obs, _, terminated, _, info = env.step(np.zeros(4))
    assert terminated and info["out_of_bounds"].startswith("joint_vel") and obs in env.observation_space

@pytest.mark.parametrize("overrides,message", [
    (dict(min_goal_distance_m=0.3, target_low_m=(0.45, -0.05, 0.02), target_high_m=(0.55, 0.05, 0.1)),
     "PickPlaceConfig.min_goal_distance_m=0.3 cannot be met"),
    (dict(min_goal_distance_m=0.2, object_low_m=(0.49, -0.01), object_high_m=(0.51, 0.01), target_low_m=(0.45, -0.05, 0.02),
          target_high_m=(0.55, 0.05, 0.2)), "the farthest goal in the goal box"),
])
def test_an_unsatisfiable_goal_distance_is_refused(overrides, message):
    with pytest.raises(ValueError, match=message): make_env("pick_place", **overrides)

def test_a_barely_satisfiable_goal_distance_is_always_met():
    env = make_env("pick_place", min_goal_distance_m=0.3)     # the default boxes allow 0.3 m from every start, rarely
    for seed in range(200):
        obs, _ = env.reset(seed=seed)
        assert np.linalg.norm(obs["goal_pos"] - obs["object_pos"]) >= 0.3 - 1e-9, seed

@pytest.mark.parametrize("task,options,message", [
    ("pick_place", {"goal_position": [0.5, 0, 0.1]}, "unknown option(s) ['goal_position'] for PickPlaceEnv; it takes ['object_xy', 'goal_pos']"),
    ("reach", {"target": [0.5, 0, 0.2]}, "unknown option(s) ['target'] for ReachEnv; it takes ['target_pos']"),
    ("lift", {"object_xy": [0.5, 0.0], "yaw": 0.1}, "unknown option(s) ['yaw']"),
])
def test_unknown_reset_options_are_refused(task, options, message):
    env = make_env(task)
    with pytest.raises(ValueError, match=re_escape(message)): env.reset(seed=0, options=options)
    venv = make_vec_env(task, num_envs=2)
    with pytest.raises(ValueError, match=re_escape(message)): venv.reset(seed=0, options=options)

def re_escape(s:str) -> str:
    import re
    return re.escape(s)
