"""Bad inputs and faults a long training run meets (issue 13): each case, and the clear error or safe behaviour it must give.

In-process cases first (tables), then real `simscale train` subprocesses sent SIGINT, SIGTERM and SIGKILL: every wait is
bounded, and every process started here is killed in a `finally`."""
import contextlib, errno, io, json, math, os, signal, stat, subprocess, sys, time, warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import simscaleai.rl.agents.ppo as ppo
from simscaleai.cli import main
from simscaleai.rl.agents.long_runs import Progress, TrainingInterrupted
from simscaleai.rl.agents.ppo import ActorCritic, PPOAgent, PPOConfig
from simscaleai.rl.agents.ppo_update import FlatPPO
from simscaleai.rl.rewards.rewards import CompositeReward, DistanceReward, RewardFunction
from simscaleai.sim import make_env
from simscaleai.testing import SMALL_PPO, ToyReach, without_timing
from simscaleai.utils import atomic_dir, claim_dir


def small(**kw): return PPOConfig(**{**SMALL_PPO, **kw})

@pytest.fixture(scope="module")
def toy_agent():
    agent = PPOAgent(4, 2, small(env_workers=0))
    agent.train(ToyReach(), total_timesteps=256)
    return agent


# ---------------------------------------------------------------- predict: observations unlike the training ones
@pytest.mark.parametrize("obs,exc,message", [
    ({"position": np.zeros(2), "target": np.zeros(2)}, ValueError, r"missing \['pos'\], unexpected \['position'\]"),
    ({"pos": np.zeros(3), "target": np.zeros(1)}, ValueError, r"obs\['pos'\] must have shape \(2,\)"),
    ({"pos": np.zeros((2, 2)), "target": np.zeros(2)}, ValueError, r"obs\['target'\] must have shape \(2,\)"),
    (np.zeros((2, 2, 2)), ValueError, r"must have shape \(obs_dim,\) or \(batch, obs_dim\) with obs_dim=4, got shape \(2, 2, 2\)"),
    ({}, ValueError, r"the observation dict has no keys besides 'image'; the agent was trained on keys \['pos', 'target'\]"),
    (None, TypeError, "obs must be a dict of arrays or an array of numbers, got NoneType"),
    ("pos", TypeError, "got str"),
    ({"pos": "ab", "target": np.zeros(2)}, TypeError, r"predict: obs\['pos'\] must be an array of numbers"),
])
def test_predict_rejects_observations_unlike_training(toy_agent, obs, exc, message):
    with pytest.raises(exc, match=message):
        toy_agent.predict(obs)

def test_predict_empty_dict_does_not_end_a_map(toy_agent):
    with pytest.raises(ValueError):                  # not StopIteration, which a surrounding map() would swallow
        list(map(toy_agent.predict, [{}]))

def test_predict_deterministic_must_be_a_bool(toy_agent):
    with pytest.raises(TypeError, match="predict: deterministic must be True or False, got 'no'"):
        toy_agent.predict(np.zeros(4), deterministic="no")

def test_predict_accepts_reordered_keys_and_batches(toy_agent):
    obs = {"target": np.array([0.1, 0.2]), "pos": np.array([0.3, 0.4])}
    np.testing.assert_array_equal(toy_agent.predict(obs), toy_agent.predict(dict(sorted(obs.items()))))
    assert toy_agent.predict({k: np.stack([v, v]) for k, v in obs.items()}).shape == (2, 2)

def test_observation_schema_is_saved_and_checked_after_load(toy_agent, tmp_path):
    toy_agent.save(tmp_path/"a.pt")
    other = PPOAgent(4, 2).load(tmp_path/"a.pt")
    assert other.obs_schema == {"pos": [2], "target": [2]}
    with pytest.raises(ValueError, match="unexpected"):
        other.predict({"pos": np.zeros(2), "goal": np.zeros(2)})


# ---------------------------------------------------------------- reward terms
class Returns(RewardFunction):
    def __init__(self, value): self.value = value
    def compute(self, obs, action, info): return self.value

@pytest.mark.parametrize("value,exc,message", [
    ("0.5", TypeError, r"reward term 'Returns' \(Returns\) must return a number, got '0.5' \(str\)"),
    (None, TypeError, r"must return a number, got None \(NoneType\)"),
    (np.ones(3), TypeError, r"must return one number for one step, got an array of shape \(3,\)"),
    (float("nan"), ValueError, "reward term 'Returns' \\(Returns\\) returned a non-finite value: nan"),
    (float("inf"), ValueError, "returned a non-finite value: inf"),
])
def test_env_step_names_a_bad_reward_term(value, exc, message):
    env = make_env("reach", reward_fn=CompositeReward([(DistanceReward("ee_pos", "target_pos"), 1.0), (Returns(value), 1.0)]))
    env.reset(seed=0)
    with pytest.raises(exc, match=message):
        env.step(np.zeros(4, np.float32))
    env.close()


# ---------------------------------------------------------------- non-finite rewards, losses, gradients; divergence
class NanRewardAt(gym.Wrapper):
    "ToyReach whose reward is NaN at step `at` of its first episode."
    def __init__(self, at=3): super().__init__(ToyReach()); self.at, self.k = at, 0
    def step(self, a):
        o, r, te, tr, info = self.env.step(a); self.k += 1
        return o, (float("nan") if self.k == self.at else r), te, tr, info

def test_nan_reward_stops_training_naming_env_and_step():
    agent = PPOAgent(4, 2, small(n_envs=1, env_workers=0))
    before = agent._flat.flat.detach().clone()
    with pytest.raises(ValueError, match=r"env 0 returned a non-finite reward \(nan\) at step 2 of the rollout"):
        agent.train(gym.vector.SyncVectorEnv([lambda: NanRewardAt(3)]), total_timesteps=256)
    assert torch.equal(agent._flat.flat, before)

class NanFromCall(RewardFunction):
    "0 for the first `n` calls, then NaN."
    def __init__(self, n): self.n, self.calls = n, 0
    def compute(self, obs, action, info):
        self.calls += 1
        return float("nan") if self.calls > self.n else 0.0

def test_nan_reward_term_names_the_term_env_and_step():
    bad = NanFromCall(1 + 2 + 3); bad.name = "grip_bonus"   # the runner's checks (one batched step: does the reward take batches? then a 2-step replay), then 3 good rollout steps
    env = make_env("reach", reward_fn=CompositeReward([(DistanceReward("ee_pos", "target_pos"), 1.0), (bad, 1.0)]))
    agent = PPOAgent(20, 4, small(n_envs=1, env_workers=0, n_steps=64))
    with pytest.raises(ValueError, match=r"envs 0\.\.0, step 3 of the rollout: reward term 'grip_bonus' \(NanFromCall\) returned a non-finite value: nan"):
        agent.train(env, total_timesteps=64)

def test_non_finite_loss_stops_the_update_before_any_parameter_changes(monkeypatch):
    agent = PPOAgent(4, 2, small(env_workers=0))
    agent.train(ToyReach(), total_timesteps=256)
    before, adam = agent._flat.flat.detach().clone(), agent.optimizer.state_dict()["state"][0]["exp_avg"].clone()
    calls = []
    real = FlatPPO.loss_and_grad
    def nan_on_third(self, *a, **k):
        stats = real(self, *a, **k); calls.append(1)
        if len(calls) == 3: self.flat.grad[0] = float("nan")
        return stats
    monkeypatch.setattr(FlatPPO, "loss_and_grad", nan_on_third)
    with pytest.raises(FloatingPointError, match=r"update 2, epoch 0, mini-batch 2: the loss .* or its gradient is non-finite; the update was undone"):
        agent.train(ToyReach(), total_timesteps=256)
    assert torch.equal(agent._flat.flat, before)                 # two Adam steps of this update were undone too
    assert torch.equal(agent.optimizer.state_dict()["state"][0]["exp_avg"], adam)

def test_huge_learning_rate_is_caught_at_the_update():
    agent = PPOAgent(4, 2, small(env_workers=0, lr=1e4))
    with pytest.raises(FloatingPointError, match=r"the Adam step \(lr=10000\) made the parameters non-finite: training diverged"):
        agent.train(ToyReach(), total_timesteps=256)
    assert torch.isfinite(agent._flat.flat).all()

def test_get_action_hands_out_no_graph():
    action, log_prob, value = ActorCritic(4, 2, 16, 1).get_action(torch.randn(4))
    assert not any(t.requires_grad for t in (action, log_prob, value))
    action.numpy()                                               # no "Can't call numpy() on Tensor that requires grad"


# ---------------------------------------------------------------- save and load: nothing poisoned, all or nothing
def test_save_refuses_non_finite_weights(toy_agent, tmp_path):
    agent = PPOAgent(4, 2, small())
    agent._flat.flat.data[0] = float("nan")
    with pytest.raises(ValueError, match="the policy has non-finite weights; refusing to write a poisoned checkpoint"):
        agent.save(tmp_path/"nan.pt")
    assert not (tmp_path/"nan.pt").exists()

def edited(tmp_path, toy_agent, edit):
    toy_agent.save(tmp_path/"good.pt")
    ckpt = torch.load(tmp_path/"good.pt", weights_only=True)
    edit(ckpt)
    torch.save(ckpt, tmp_path/"bad.pt")
    return tmp_path/"bad.pt"

def _poison_weight(c): next(iter(c["policy"].values()))[0] = float("nan")
def _negative_var(c): c["obs_rms"]["var"][0] = -1.0

@pytest.mark.parametrize("edit,message", [
    (lambda c: c.pop("counters"), r"incomplete checkpoint: missing section\(s\) \['counters'\]"),
    (lambda c: c.pop("rng"), r"missing section\(s\) \['rng'\]"),
    (lambda c: c.update(format_version="2"), r"format_version must be an int, got '2' \(str\)"),
    (lambda c: c.update(format_version=99), "format version 99; this code reads versions 1 to 2"),
    (lambda c: c.update(history=[1.0]), "section 'history' must be dict, got list"),
    (_poison_weight, "has non-finite weights: a diverged model is not loaded"),
    (_negative_var, r"obs_rms\['var'\] has negative variances"),
    (lambda c: c["counters"].update(num_timesteps=-5), r"counters\['num_timesteps'\] must be an int >= 0"),
    (lambda c: c["policy"].pop("critic.bias"), "malformed checkpoint"),
])
def test_load_is_all_or_nothing_and_names_the_problem(toy_agent, tmp_path, edit, message):
    path = edited(tmp_path, toy_agent, edit)
    agent = PPOAgent(4, 2, small(seed=123))
    before = (agent.config, agent.seed, agent._flat.flat.detach().clone(), agent.num_timesteps, agent.history)
    with pytest.raises(ValueError, match=message):
        agent.load(path)
    assert (agent.config, agent.seed, agent.num_timesteps, agent.history) == (before[0], before[1], before[3], before[4])
    assert torch.equal(agent._flat.flat, before[2])

@pytest.mark.parametrize("content", [b"", b"hello", b"101", b"just some text\n", b"PK\x03\x04 truncated"])
def test_a_file_that_is_not_a_checkpoint_says_so(tmp_path, content):
    (tmp_path/"x.pt").write_bytes(content)
    with pytest.raises(ValueError, match="is not a readable PPOAgent checkpoint") as e:
        PPOAgent(4, 2).load(tmp_path/"x.pt")
    assert "weights_only" not in str(e.value)
    code, err = run_main("eval", tmp_path/"x.pt", "--no-progress")
    assert code == 2 and "it is not a checkpoint written by simscale train or PPOAgent.save" in err and "weights_only" not in err


# ---------------------------------------------------------------- configuration and device
def test_n_steps_must_be_divisible_by_batch_size():
    with pytest.raises(ValueError, match=r"PPOConfig.n_steps must be divisible by batch_size=64 \(equal mini-batches\), got 2000"):
        PPOConfig(n_steps=2000, n_envs=8)

@pytest.mark.parametrize("device,message", [
    ("bogus", "device: 'bogus' is not a torch device"),
    pytest.param("cuda", "device: 'cuda' was asked for, but this machine does not have it; available here: cpu",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")),
])
def test_unavailable_device_is_named(device, message):
    with pytest.raises(ValueError, match=message):
        PPOAgent(4, 2, device=device)


# ---------------------------------------------------------------- CLI user errors: one line, the flag, exit 2
def run_main(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: code = main([str(a) for a in argv])
        except SystemExit as e: code = e.code
    return code, err.getvalue()

@pytest.mark.parametrize("argv,message", [
    (["train", "reach", "--device", "bogus"], "--device: 'bogus' is not a torch device"),
    pytest.param(["train", "reach", "--device", "cuda"], "--device: 'cuda' was asked for, but this machine does not have it",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")),
    (["train", "reach", "--out", "README.md/run"], "--out: cannot use 'README.md/run': README.md is a file, not a directory"),
    (["train", "reach", "--total-timesteps", "abc"], "argument --total-timesteps: invalid int value: 'abc'"),
    (["train", "reach", "--checkpoint-every", "0"], "--checkpoint-every must be >= 1, got 0"),
    (["train", "reach", "--resume", "rundir", "--total-timesteps", "10"], "--total-timesteps cannot be given with --resume RUN_DIR"),
    (["train", "reach", "--resume", "rundir"], "--resume: 'rundir' has no checkpoint.pt to continue from"),
    (["eval", "ckpt.pt", "--videos", "README.md"], "--videos='README.md' is not a writable directory"),
    (["eval", "ckpt.pt", "--device", "nope"], "--device: 'nope' is not a torch device"),
])
def test_cli_user_errors_name_the_flag(tmp_path, monkeypatch, toy_agent, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path/"README.md").write_text("# a file\n"); (tmp_path/"rundir").mkdir()
    agent = PPOAgent(20, 4, small(n_envs=2, env_workers=0, n_steps=64)); agent.save(tmp_path/"ckpt.pt")
    code, err = run_main(*argv, "--no-progress")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and message in err, err
    assert "EvalConfig" not in err and "PPOConfig" not in err


# ---------------------------------------------------------------- files: atomic claim, never another run's files, umask
def test_claim_dir_is_atomic_and_never_reuses(tmp_path):
    a, b = claim_dir(tmp_path/"reach-20260101-000000", unique=True), claim_dir(tmp_path/"reach-20260101-000000", unique=True)
    assert a != b and a.is_dir() and b.is_dir()
    with pytest.raises(FileExistsError):
        claim_dir(a)

def test_atomic_dir_never_removes_a_directory_another_process_made(tmp_path):
    target = tmp_path/"run"
    with pytest.raises(FileExistsError, match="appeared while this one was being built"):
        with atomic_dir(target) as tmp:
            (tmp/"mine.txt").write_text("mine")
            target.mkdir(); (target/"theirs.txt").write_text("theirs")
    assert (target/"theirs.txt").read_text() == "theirs"

@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_run_directories_and_files_follow_the_umask(tmp_path, umask, toy_agent):
    old = os.umask(umask)
    try:
        claimed = claim_dir(tmp_path/"claimed")
        with atomic_dir(tmp_path/"built") as tmp: toy_agent.save(tmp/"checkpoint.pt")
        toy_agent.save(claimed/"checkpoint.pt")
    finally: os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)
    assert mode(claimed) == mode(tmp_path/"built") == 0o777 & ~umask
    assert mode(claimed/"checkpoint.pt") == mode(tmp_path/"built"/"checkpoint.pt") == 0o666 & ~umask


# ---------------------------------------------------------------- checkpoints during training, resume, full disk
def test_sigterm_in_training_checkpoints_and_resume_is_exact(tmp_path):
    whole = PPOAgent(4, 2, small())
    whole.train(ToyReach(), total_timesteps=1024)
    def terminate_after_2(agent):
        if agent.n_updates == 2: os.kill(os.getpid(), signal.SIGTERM)   # handled: stop at the end of this update
    cut = PPOAgent(4, 2, small())
    with pytest.raises(TrainingInterrupted, match="stopped by SIGTERM; resumable checkpoint") as e:
        cut.train(ToyReach(), total_timesteps=1024, checkpoint=tmp_path/"ck.pt", callback=terminate_after_2)
    assert e.value.signum == signal.SIGTERM and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    resumed = PPOAgent(4, 2, small()).load(tmp_path/"ck.pt")
    assert (resumed.num_timesteps, resumed._target_timesteps) == (768, 1024)     # stopped after update 3: the callback runs after the check
    resumed.train(ToyReach(), total_timesteps=resumed._target_timesteps - resumed.num_timesteps)
    assert torch.equal(resumed._flat.flat, whole._flat.flat)
    assert without_timing(resumed.history) == without_timing(whole.history)

def test_periodic_checkpoints_survive_a_full_disk(tmp_path, monkeypatch):
    agent = PPOAgent(4, 2, small(checkpoint_every=1))
    real, calls = torch.save, []
    def full_after_first(obj, f, *a, **k):
        calls.append(1)
        if len(calls) > 1: raise OSError(errno.ENOSPC, "No space left on device")
        return real(obj, f, *a, **k)
    monkeypatch.setattr(ppo.torch, "save", full_after_first)
    with pytest.warns(RuntimeWarning, match="No space left on device.*the previous checkpoint is kept and training goes on"):
        agent.train(ToyReach(), total_timesteps=768, checkpoint=tmp_path/"ck.pt")
    assert agent.num_timesteps == 768                                   # training went on
    assert PPOAgent(4, 2).load(tmp_path/"ck.pt").num_timesteps == 256  # the first checkpoint is intact
    assert os.listdir(tmp_path) == ["ck.pt"]


# ---------------------------------------------------------------- observability
def test_progress_without_a_terminal_prints_lines_and_the_true_total(capfd):
    PPOAgent(4, 2, small(progress_bar=True, log_every=2)).train(ToyReach(), total_timesteps=600)
    err = capfd.readouterr().err
    lines = [l for l in err.splitlines() if l.startswith("PPO ")]
    assert "\r" not in err and len(lines) == 2, err                     # updates 2 and 3 (the end), one line each
    assert lines[0].startswith("PPO 512/768 steps (67%) update 2 sps=") and lines[1].startswith("PPO 768/768 steps (100%) update 3")

def test_no_ret_nan_before_the_first_episode_ends():
    log = io.StringIO(); p = Progress(2048, True, 1, log)
    p.update(2048, 1000.0, None); p.close()
    assert "ret=" not in log.getvalue() and "nan" not in log.getvalue()

def test_tensorboard_logs_every_history_scalar(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    agent = PPOAgent(4, 2, small())
    h = agent.train(ToyReach(), total_timesteps=512, tensorboard=tmp_path/"tb")
    acc = EventAccumulator(str(tmp_path/"tb")); acc.Reload()
    tags = set(acc.Tags()["scalars"])
    for k in ("policy_loss", "value_loss", "approx_kl", "clip_fraction", "explained_variance", "entropy", "lr", "sps"):
        assert f"train/{k}" in tags, k
    for k in ("episode/reward", "episode/length", "episode/success", "reward_term/distance", "reward_term/bonus",
              "rollout/success_rate", "rollout/return_20"):
        assert any(t.endswith(k) for t in tags), (k, tags)
    assert len(acc.Scalars("episode/reward")) == len(h["episode_reward"])


# ---------------------------------------------------------------- real processes, real signals
ENV = {**os.environ, "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1"}
TRAIN = ["--total-timesteps", "8192", "--n-envs", "2", "--seed", "5", "--eval-episodes", "1", "--no-video", "--no-progress"]

def start(*args, cwd):
    return subprocess.Popen(["simscale", "train", "reach", *map(str, args)], cwd=cwd, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

def children(pid:int) -> list:
    "Live (non-zombie) processes whose parent is `pid`."
    out = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z": out.append(int(stat_file.parent.name))
    return out

def alive(pid:int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False

def wait_for(predicate, timeout_s:float, what:str):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline: raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)

def kill_all(proc, workers=()):
    for pid in [proc.pid, *workers]:
        with contextlib.suppress(ProcessLookupError): os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception): proc.communicate(timeout=30)

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_checkpoints_and_resume_equals_uninterrupted(tmp_path, sig):
    proc, workers = start(*TRAIN, "--checkpoint-every", "1", "--out", "cut", cwd=tmp_path), []
    try:
        wait_for(lambda: (tmp_path/"cut"/"checkpoint.pt").exists(), 600, "the first periodic checkpoint")
        workers = children(proc.pid)   # env copies step in the trainer's threads (batched vector envs); any child process must die with it
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 128 + sig, err
        assert err.strip().splitlines()[-1] == f"simscale: stopped by {signal.Signals(sig).name}; continue with: simscale train reach --resume cut", err
        wait_for(lambda: not any(alive(w) for w in workers), 30, "the env worker to exit")
    finally: kill_all(proc, workers)
    meta = json.loads((tmp_path/"cut"/"run.json").read_text())
    assert meta["status"] == "training"
    r = subprocess.run(["simscale", "train", "reach", "--resume", "cut", "--eval-episodes", "1", "--no-video", "--no-progress"],
                       cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["simscale", "train", "reach", *TRAIN, "--out", "whole"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    resumed, whole = (json.loads((tmp_path/d/"history.json").read_text()) for d in ("cut", "whole"))
    assert without_timing(resumed) == without_timing(whole)
    assert json.loads((tmp_path/"cut"/"run.json").read_text())["status"] == "complete"
    r = subprocess.run(["simscale", "train", "reach", "--resume", "cut", "--no-progress"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "is already complete" in r.stderr

def test_sigkill_leaves_no_orphan_worker_and_a_resumable_checkpoint(tmp_path):
    proc, workers = start(*TRAIN, "--checkpoint-every", "1", "--out", "run", cwd=tmp_path), []
    try:
        wait_for(lambda: (tmp_path/"run"/"checkpoint.pt").exists(), 600, "the first periodic checkpoint")
        workers = children(proc.pid)   # env copies step in the trainer's threads (batched vector envs); any child process must die with it
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        wait_for(lambda: not any(alive(w) for w in workers), 30, "the orphaned env worker to exit")
    finally: kill_all(proc, workers)
    assert PPOAgent(20, 4).load(tmp_path/"run"/"checkpoint.pt").num_timesteps >= 2048
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]

def test_two_runs_never_share_or_delete_a_run_directory(tmp_path):
    args = ["--total-timesteps", "2048", "--n-envs", "2", "--eval-episodes", "1", "--no-video", "--no-progress"]
    procs = [start(*args, "--out", "same", cwd=tmp_path) for _ in range(2)] + [start(*args, cwd=tmp_path) for _ in range(2)]
    try: results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    finally:
        for p in procs: kill_all(p)
    same = sorted(code for code, _ in results[:2])
    assert same == [0, 2], results
    assert "already exists; pass --overwrite" in [err for code, err in results[:2] if code == 2][0]
    assert json.loads((tmp_path/"same"/"run.json").read_text())["status"] == "complete"
    assert [code for code, _ in results[2:]] == [0, 0], results
    runs = sorted(p.name for p in (tmp_path/"runs").iterdir())
    assert len(runs) == 2 and all((tmp_path/"runs"/r/"eval.json").exists() for r in runs), runs
