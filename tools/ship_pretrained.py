"""Ship a run of benchmarks/train_manipulation.py as a pretrained policy, and keep its curve and summary as results.

    python tools/ship_pretrained.py RUN_DIR NAME [--checkpoint best.pt]

RUN_DIR is train_manipulation.py's --out directory. This evaluates RUN_DIR/<checkpoint> on the run's own evaluation
episodes (100 deterministic episodes, reset seeds 1,000,000 + i), writes simscaleai/policies/NAME.pt and NAME.json
(simscaleai.pretrained.make_pretrained: the command, seed, env steps, evaluation episode by episode, the curve), and
copies RUN_DIR's curve.json and summary.json to benchmarks/results/<RUN_DIR's name>/.
"""
import os
os.environ.setdefault("MUJOCO_GL", "egl")
import argparse, json, shutil, sys
from pathlib import Path

from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent
from simscaleai.rl.evaluator import evaluate_policy, EvalConfig
from simscaleai.pretrained import make_pretrained

ROOT = Path(__file__).resolve().parent.parent

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("name")
    ap.add_argument("--checkpoint", default="best.pt")
    a = ap.parse_args()
    summary = json.loads((a.run_dir / "summary.json").read_text())
    curve = json.loads((a.run_dir / "curve.json").read_text())
    ckpt = a.run_dir / a.checkpoint
    agent = PPOAgent.from_checkpoint(ckpt)
    env = make_env(summary["task"])
    max_steps = env.unwrapped.config.max_episode_steps
    ev = summary["eval"]
    res = evaluate_policy(env, agent.predict, EvalConfig(n_episodes=ev["episodes"], seed=ev["seed"], max_steps=max_steps, progress=False))
    recorded = next((r["success"] for r in curve if r["steps"] == agent.num_timesteps), None)
    if recorded is not None and recorded != res["success_rate"]:
        sys.exit(f"{ckpt}: {res['success_rate']:.0%} now, {recorded:.0%} when the run evaluated it; not shipping")
    command = summary["command"].replace(str(ROOT) + "/", "").replace("/work/runs/", "runs/")   # as run from the repo root
    provenance = dict(task=summary["task"], seed=summary["seed"], steps=agent.num_timesteps, command=command,
                      checkpoint=a.checkpoint, max_episode_steps=max_steps, config=summary["ppo_config"],
                      eval=dict(episodes=ev["episodes"], seed=ev["seed"], deterministic=True, success_rate=res["success_rate"],
                                mean_reward=res["mean_reward"], episode_successes=res["episode_successes"]),
                      curve=curve, run_summary={k: summary[k] for k in ("steps_and_train_s_to", "best_success", "train_s", "peak_rss_mib")})
    dest = make_pretrained(ckpt, a.name, provenance)
    results = ROOT / "benchmarks" / "results" / a.run_dir.name
    results.mkdir(parents=True, exist_ok=True)
    for f in ("curve.json", "summary.json"): shutil.copy(a.run_dir / f, results / f)
    print(f"{dest} ({dest.stat().st_size / 1024:.0f} KiB): {res['success_rate']:.0%} of {ev['episodes']} episodes at "
          f"{agent.num_timesteps:,} steps; results in {results}")

if __name__ == "__main__":
    main()
