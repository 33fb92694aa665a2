"""Ray rollouts (nbs/05b_ray.ipynb) on local clusters only: `ray.init` on 127.0.0.1 with 2 CPUs, and a head plus a
worker node started with `ray start` on 127.0.0.1. Every wait is bounded; every cluster is torn down, also on failure.
Dashboard and usage reporting are off.

Starting Ray needs a few free CPU-seconds: its raylet aborts when its dashboard agent (a Python process that imports
Ray) has not reported within 15 s, which happens when the machine is saturated by other jobs (seen here at load
averages above ~8 on 2 cores). Starts are tried again a bounded number of times, then the tests fail. `ray stop
--force` (the 2-node test's teardown) ends every Ray process on the machine."""
import json, os, signal, socket, subprocess, sys, textwrap, threading, time
from pathlib import Path

import numpy as np
import pytest

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
ray = pytest.importorskip("ray", reason="the optional ray extra is not installed (pip install -e '.[ray]')")
import gymnasium as gym
import torch

from simscaleai.rl.agents.ppo import ActorCritic, RunningMeanStd
from simscaleai.rl.ray_runner import FragmentWorker, RayRunner, policy_payload

ROOT = Path(__file__).resolve().parents[1]
ROW_KEYS = ("obs", "actions", "log_probs", "values", "rewards", "terminated", "truncated", "final_values")


class HangWhenFlagged(gym.Env):
    "A 1-D point env whose `step` sleeps for an hour once, the first time a step finds `flag` (it deletes it first)."
    def __init__(self, flag:str):
        self.flag = flag
        self.observation_space = gym.spaces.Box(-10, 10, (2,))
        self.action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.target, self.t = 0.0, float(self.np_random.uniform(-1, 1)), 0
        return np.array([self.x, self.target]), {}

    def step(self, action):
        try:
            os.remove(self.flag)
            time.sleep(3600)             # hung: only a kill ends this
        except FileNotFoundError: pass
        self.x += 0.1 * float(action[0]); self.t += 1
        return np.array([self.x, self.target]), -abs(self.x - self.target), False, self.t >= 20, {}


@pytest.fixture(scope="module")
def local_ray():
    "A local Ray on 127.0.0.1 with 2 CPUs, no dashboard; shut down after the module (or on failure)."
    for attempt in range(3):        # the raylet gives its dashboard agent 15 s to start: on a busy machine, try again
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
            break
        except Exception:
            ray.shutdown()
            if attempt == 2: raise
    # the toy env travels to the actors by value (they cannot import this test module)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try: yield
    finally: ray.shutdown()


def payload(obs_dim=20, action_dim=4, seed=0):
    torch.manual_seed(seed)
    return policy_payload(ActorCritic(obs_dim, action_dim, hidden_dim=32), RunningMeanStd((obs_dim,)))


def test_fragments_equal_in_process_and_a_killed_actor_is_restarted(local_ray):
    p = payload()
    runner = RayRunner("reach", n_workers=2, envs_per_worker=2, seed=3)
    try:
        merged = runner.collect(ray.put(p), n_rows=8, fragment=5)
        local = [FragmentWorker("reach", {}, 2, seed=3, worker=w).sample(p, 8, fragment=5) for w in range(2)]
        for k in ROW_KEYS: np.testing.assert_array_equal(merged[k], np.concatenate([f[k] for f in local], axis=1), err_msg=k)
        np.testing.assert_array_equal(merged["last_value"], np.concatenate([f["last_value"] for f in local]))
        assert runner.faults == []

        # kill worker 0's process while it computes a long fragment
        pids = runner.worker_pids()
        counters = list(runner.episode_index[0])
        killer = threading.Timer(0.5, os.kill, (pids[0], signal.SIGKILL)); killer.start()
        with pytest.warns(RuntimeWarning, match="Ray worker 0 died during fragment 6"):
            merged = runner.collect(p, n_rows=1500, fragment=6)
        killer.join()
        assert merged["obs"].shape == (1500, 4, 20) and np.isfinite(merged["values"]).all()
        (fault,) = runner.faults
        assert (fault["worker"], fault["fragment"], fault["kind"]) == (0, 6, "died")
        assert "Lost:" in fault["note"] and fault["lost_episodes"] == 2
        new_pids = runner.worker_pids()
        assert new_pids[0] != pids[0] and new_pids[1] == pids[1]
        # the fragment collected again is what a new worker 0, resuming its envs' episode counters, returns
        again = FragmentWorker("reach", {}, 2, seed=3, worker=0, episode_index=counters).sample(p, 1500, fragment=6)
        for k in ROW_KEYS: np.testing.assert_array_equal(merged[k][:, :2], again[k], err_msg=k)
        assert merged["fresh"].tolist() == [True, True, False, False]   # worker 0's envs began new episodes
        merged = runner.collect(p, n_rows=4, fragment=7)                # and the run goes on
        assert merged["fresh"].tolist() == [False] * 4 and len(runner.faults) == 1
    finally: runner.close()


def test_hung_actor_is_replaced_and_the_learner_never_waits_forever(local_ray, tmp_path):
    flag = tmp_path/"hang"
    runner = RayRunner(HangWhenFlagged, n_workers=1, envs_per_worker=2, seed=0, env_kwargs={"flag": str(flag)},
                       timeout_s=3.0, start_timeout_s=300.0, max_restarts=1)
    p = payload(2, 1)
    try:
        runner.collect(p, n_rows=10, fragment=0)                 # started and warm
        flag.touch()
        t0 = time.perf_counter()
        with pytest.warns(RuntimeWarning, match="hung past 3 s"):
            merged = runner.collect(p, n_rows=10, fragment=1)
        assert merged["rewards"].shape == (10, 2) and time.perf_counter() - t0 < 70
        (fault,) = runner.faults
        assert fault["kind"] == "hung" and fault["lost_s"] >= 3.0
        runner.collect(p, n_rows=10, fragment=2)                 # the new actor is warm now
        runner.max_restarts = 0                                  # a hang with no restarts left: an error, after 3 s
        flag.touch()
        t0 = time.perf_counter()
        with pytest.raises(RuntimeError, match="Ray worker 0 failed 1 times in fragment 3"):
            runner.collect(p, n_rows=10, fragment=3)
        assert time.perf_counter() - t0 < 30
    finally: runner.close()


def test_package_imports_without_ray():
    code = textwrap.dedent("""
        import sys; sys.modules["ray"] = None          # `import ray` now raises ImportError
        import simscaleai.rl.ray_runner as rr, simscaleai.rl.agents.ppo
        try: rr.RayRunner("reach", 1, 1, seed=0)
        except ImportError as e: print("ImportError:", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert "pip install 'simscaleai[ray]'" in out.stdout


class KillWhenFlagged(HangWhenFlagged):
    "The step that finds `flag` (and deletes it) kills its own process: an actor dying in the middle of a fragment."
    def step(self, action):
        try:
            os.remove(self.flag)
            os.kill(os.getpid(), signal.SIGKILL)
        except FileNotFoundError: pass
        return super().step(action)


def test_ppo_trains_on_ray_actors_and_survives_a_killed_actor(local_ray, tmp_path):
    from simscaleai.rl.agents.ppo import PPOAgent, PPOConfig
    flag = tmp_path/"kill"
    spec = gym.envs.registration.EnvSpec("KillWhenFlagged-v0", entry_point=KillWhenFlagged, kwargs={"flag": str(flag)})
    env = gym.make(spec, disable_env_checker=True)
    config = dict(n_steps=128, batch_size=64, n_epochs=2, n_envs=4, env_workers=0, hidden_dim=32, seed=0, progress_bar=False)
    agent = PPOAgent(2, 1, PPOConfig(ray_workers=2, **config))
    def kill_during_the_next_fragment(a):
        if a.n_updates == 2: flag.touch()
    with pytest.warns(RuntimeWarning, match=r"Ray worker \d died during fragment 2"):
        history = agent.train(env, total_timesteps=5 * 128, callback=kill_during_the_next_fragment)
    assert (agent.num_timesteps, agent.n_updates) == (5 * 128, 5) and not flag.exists()
    assert len(history["episode_reward"]) > 0 and np.isfinite(history["policy_loss"]).all()
    reference = PPOAgent(2, 1, PPOConfig(**config)).train(env, total_timesteps=5 * 128)   # in-process
    assert set(history) == set(reference)                                                 # the same history keys
    agent.save(tmp_path/"ckpt.pt")                                                         # and the same checkpoint
    again = PPOAgent(2, 1).load(tmp_path/"ckpt.pt")
    assert again.config.ray_workers == 2 and again._rollout_state["kind"] == "ray"
    again.train(env, total_timesteps=128)
    assert again.num_timesteps == 6 * 128


def test_cli_trains_with_ray_workers(local_ray, tmp_path):
    from simscaleai.cli import _parser, train_run
    args = _parser().parse_args(["train", "reach", "--ray-workers", "2", "--ray-address", "auto"])
    assert (args.ray_workers, args.ray_address) == (2, "auto")
    run = train_run("reach", total_timesteps=256, n_envs=4, ray_workers=2, out_dir=tmp_path/"run", eval_episodes=1,
                    video=False, progress=False)
    assert json.loads((run/"run.json").read_text())["config"]["ray_workers"] == 2

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_two_node_cluster_on_loopback():
    "A head and a worker node (`ray start`, 1 CPU each) on 127.0.0.1; a driver joins by address; one actor per node."
    if ray.is_initialized(): ray.shutdown()       # `ray stop` below ends every Ray process on this machine
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    node = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    def run(*cmd, timeout=180): return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    def start_cluster() -> int:
        "Head + worker node; the raylet gives its dashboard agent 15 s to start, so on a busy machine try again."
        for attempt in range(2):
            port = _free_port()
            head = run("ray", "start", "--head", f"--port={port}", "--include-dashboard=false", *node)
            worker = run("ray", "start", f"--address=127.0.0.1:{port}", *node) if head.returncode == 0 else head
            if worker.returncode == 0: return port
            run("ray", "stop", "--force", timeout=120)
        raise RuntimeError(f"could not start a 2-node Ray cluster in 2 attempts:\n{worker.stderr[-2000:]}")
    try:
        port = start_cluster()
        driver = textwrap.dedent(f"""
            import json
            from simscaleai.rl.agents.ppo import ActorCritic, RunningMeanStd
            from simscaleai.rl.ray_runner import RayRunner, policy_payload
            runner = RayRunner("reach", n_workers=2, envs_per_worker=2, seed=0, address="127.0.0.1:{port}", start_timeout_s=120)
            try:
                frag = runner.collect(policy_payload(ActorCritic(20, 4, hidden_dim=32), RunningMeanStd((20,))), n_rows=16)
                print(json.dumps({{"nodes": runner.worker_nodes(), "shape": list(frag["obs"].shape)}}))
            finally: runner.close()
        """)
        out = run(sys.executable, "-c", driver, timeout=240)
        assert out.returncode == 0, out.stderr[-3000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["shape"] == [16, 4, 20]
        assert len(set(result["nodes"])) == 2            # one actor on the head, one on the worker node
    finally:
        run("ray", "stop", "--force", timeout=120)
