"""Evaluation during training as a user leaves it running: the callback interface, the best checkpoint that resumes exactly,
stop at success, the same training with and without evaluation, and `simscale train` on any Gymnasium env."""
import json, os, subprocess
from pathlib import Path

import numpy as np
import pytest
from simscaleai.testing import ToyReach, SMALL_PPO, TOY_REACH_ID, without_timing
from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
from simscaleai.rl.callbacks import EvalCallback

TOY = f"simscaleai.testing:{TOY_REACH_ID}"     # a Gymnasium env named the way a user names their own: module:EnvId

def simscale(*args, cwd=None):
    env = {**os.environ, "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1"}
    return subprocess.run(["simscale", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=900)

def strip(history): return {k: v for k, v in without_timing(history).items() if not k.startswith("eval/")}

def test_user_callbacks_compose_with_the_evaluation_and_any_false_stops():
    calls = []
    def mine(agent):
        calls.append(agent.num_timesteps)
        return agent.num_timesteps < 768                         # stop after the third update
    ev = EvalCallback(ToyReach(), every_steps=256, n_episodes=3, verbose=False)
    agent = PPOAgent.for_env(ToyReach(), PPOConfig(**SMALL_PPO))
    agent.train(ToyReach(), total_timesteps=2560, callback=[ev, mine])
    assert calls == [256, 512, 768] and agent.num_timesteps == 768
    assert [r["timesteps"] for r in ev.curve] == [256, 512, 768]  # both were called every update
    with pytest.raises(TypeError, match="callback must be a callable"):
        agent.train(ToyReach(), total_timesteps=256, callback="not a callback")

def test_evaluation_does_not_change_training():
    def run(callback):
        agent = PPOAgent.for_env(ToyReach(), PPOConfig(**SMALL_PPO))
        agent.train(ToyReach(), total_timesteps=1024, callback=callback)
        return agent
    plain, evaluated = run(None), run(EvalCallback(ToyReach(), every_steps=256, n_episodes=4, verbose=False))
    assert strip(evaluated.history) == strip(plain.history) and len(evaluated.history["eval/timesteps"]) == 4
    probe = np.random.default_rng(0).normal(size=(5, 4))
    assert (evaluated.predict(probe) == plain.predict(probe)).all()

def test_interrupted_and_resumed_run_gives_the_same_evaluations(tmp_path):
    "A run stopped at its periodic checkpoint and resumed with a new callback: the same curve, the same best, as one run."
    whole = EvalCallback(ToyReach(), every_steps=256, n_episodes=4, verbose=False)
    agent = PPOAgent.for_env(ToyReach(), PPOConfig(**SMALL_PPO))
    agent.train(ToyReach(), total_timesteps=1536, callback=whole)
    first = EvalCallback(ToyReach(), every_steps=256, n_episodes=4, best_path=tmp_path/"best.pt", verbose=False)
    part = PPOAgent.for_env(ToyReach(), PPOConfig(**SMALL_PPO))
    part.train(ToyReach(), total_timesteps=768, callback=first)
    part.save(tmp_path/"checkpoint.pt")
    second = EvalCallback(ToyReach(), every_steps=256, n_episodes=4, best_path=tmp_path/"best.pt", verbose=False)
    resumed = PPOAgent.from_checkpoint(tmp_path/"checkpoint.pt")
    resumed.train(ToyReach(), total_timesteps=768, callback=second)
    key = lambda c: [(r["timesteps"], r["success_rate"], r["mean_reward"]) for r in c]
    assert key(second.curve) == key(whole.curve)
    assert second.best["timesteps"] == whole.best["timesteps"]
    assert PPOAgent.from_checkpoint(tmp_path/"best.pt").num_timesteps == whole.best["timesteps"]
    assert strip(resumed.history) == strip(agent.history)

def test_best_checkpoint_is_the_best_evaluation_and_resumes_exactly(tmp_path):
    ev = EvalCallback(ToyReach(), every_steps=256, n_episodes=4, best_path=tmp_path/"best.pt", verbose=False)
    agent = PPOAgent.for_env(ToyReach(), PPOConfig(**SMALL_PPO))
    agent.train(ToyReach(), total_timesteps=1280, callback=ev)
    best = max(ev.curve, key=lambda r: (r["success_rate"], r["mean_reward"]))
    saved = PPOAgent.from_checkpoint(tmp_path/"best.pt")
    assert saved.num_timesteps == best["timesteps"] == ev.best["timesteps"]
    assert saved.history["eval/timesteps"][-1] == best["timesteps"]            # it carries its own curve
    if saved.num_timesteps < 1280:
        saved.train(ToyReach(), total_timesteps=1280 - saved.num_timesteps)
        assert strip(saved.history) == strip(agent.history)

def test_cli_stops_at_success_and_keeps_the_best(tmp_path):
    run = tmp_path/"run"
    r = simscale("train", TOY, "--total-timesteps", "204800", "--n-envs", "4", "--eval-every", "2048", "--eval-episodes", "20",
                 "--stop-at", "0.5", "--out", run, "--no-video", "--no-progress")
    assert r.returncode == 0, r.stderr
    meta, curve = json.loads((run/"run.json").read_text()), json.loads((run/"eval_curve.json").read_text())
    assert meta["stopped_at_success"] is True and meta["policy"] == "best.pt"
    assert curve[-1]["success_rate"] >= 0.5 and all(row["success_rate"] < 0.5 for row in curve[:-1])
    assert meta["total_timesteps"] == curve[-1]["timesteps"] < 204800
    assert meta["best_on_held_out"]["timesteps"] == curve[-1]["timesteps"]
    history = json.loads((run/"history.json").read_text())
    assert history["eval/timesteps"] == [row["timesteps"] for row in curve]
    # a run that stopped at success is complete: resuming it is refused, and nothing in it changes
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    r = simscale("train", TOY, "--resume", run, "--no-progress")
    assert r.returncode == 2 and "it stopped at success" in r.stderr and "Traceback" not in r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before

def test_cli_trains_a_gymnasium_mujoco_env(tmp_path):
    "simscale train Hopper-v5: the spaces are read from the env, success is n/a, the best policy by return."
    run = tmp_path/"hopper"
    r = simscale("train", "Hopper-v5", "--total-timesteps", "4096", "--n-envs", "2", "--eval-episodes", "2", "--out", run,
                 "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "Success rate:  n/a" in r.stdout
    meta, metrics = json.loads((run/"run.json").read_text()), json.loads((run/"eval.json").read_text())
    assert meta["policy"] == "best.pt" and meta["best_on_held_out"]["success_rate"] is None and metrics["success_rate"] is None
    assert meta["eval_during_training"]["every_steps"] == 2048          # a tenth of the budget, in whole rollouts
    assert (run/"eval_video.mp4").stat().st_size > 1000
