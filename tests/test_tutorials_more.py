"""Tutorials 02-05 run top to bottom, slow cells included, on a small training budget.

Each trains with `STEPS = ...` set in one cell (tens of thousands of env steps: a few minutes on two cores);
here it is replaced by 4,096 steps (two rollouts, so episodes finish and every curve has points): CI checks
that every cell works, not what the policies learn."""
import re
from pathlib import Path

import nbformat, pytest
from execnb.shell import CaptureShell

TUTORIALS = Path(__file__).parents[1]/"nbs"/"tutorials"
STEPS = re.compile(r"^STEPS = [0-9_]+$", re.M)

@pytest.mark.parametrize("name", ["02_own_reward", "03_own_task", "04_ppo_diagnostics", "05_pick_place"])
def test_tutorial_runs_on_a_small_budget(name, tmp_path, monkeypatch):
    nb = nbformat.read(TUTORIALS/f"{name}.ipynb", as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert sum(len(STEPS.findall(c.source)) for c in code_cells) == 1, "the training budget must be set once, as STEPS = ..."
    assert any(c.source.startswith("#| slow") for c in code_cells)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUJOCO_GL", "egl")
    shell = CaptureShell()
    shell.run("import matplotlib; matplotlib.use('Agg')")
    for i, cell in enumerate(code_cells):
        outputs = shell.run(STEPS.sub("STEPS = 4_096", cell.source))
        errors = [o for o in outputs if o.get("output_type") == "error"]
        assert not errors, f"{name}: cell {i} raised:\n{cell.source}\n" + "".join(errors[0]["traceback"])
