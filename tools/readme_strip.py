"""The frame strip on the README / home page: a trained reach policy, one evaluation episode, four moments.

    simscale train reach --seed 0 --out runs/reach-seed0
    python tools/readme_strip.py runs/reach-seed0/checkpoint.pt      # writes nbs/images/reach_strip.jpg
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from simscaleai.sim import make_env
from simscaleai.rl.agents.ppo import PPOAgent
from simscaleai.rl.evaluator import evaluate_policy, EvalConfig

STEPS = (0, 5, 10, 40)     # frames shown: after reset, then after these many steps

def main(checkpoint, out=Path(__file__).parents[1]/"nbs"/"images"/"reach_strip.jpg", episode_seed=0):
    agent = PPOAgent(obs_dim=20, action_dim=4, device="cpu"); agent.load(checkpoint)
    env = make_env("reach", render_mode="rgb_array")
    frames = evaluate_policy(env, agent.predict, EvalConfig(n_episodes=1, max_steps=max(STEPS), render=True,
                                                             seed=episode_seed, progress=False))["frames"][0]
    gap = np.full((frames.shape[1], 4, 3), 255, np.uint8)
    strip = np.concatenate(sum(([frames[t], gap] for t in STEPS), [])[:-1], axis=1)
    Image.fromarray(strip).save(out, quality=85)
    print(f"{out}: {strip.shape[1]}x{strip.shape[0]}, {Path(out).stat().st_size // 1024} KB")

if __name__ == "__main__": main(sys.argv[1])
