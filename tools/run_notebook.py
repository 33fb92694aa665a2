#!/usr/bin/env python
"""Execute a chapter and save its outputs in place, as the docs site shows them (the site never executes notebooks).

    python tools/run_notebook.py nbs/08d_robustness.ipynb              # every cell but the `#| slow` and `#| eval: false` ones
    python tools/run_notebook.py nbs/08d_robustness.ipynb --slow       # the slow cells too (long: they train or sweep)
    python tools/run_notebook.py nbs/07_ppo.ipynb --cells 8c322ef6 2d17c11f   # the setup cells (#| hide, #| export) and these only

Cells run in the notebook's folder with MUJOCO_GL=egl, as `nbdev-test` runs them; a cell that raises stops the run and
nothing is written. Outputs of skipped cells are kept as they were."""
import argparse, os, re, sys
from pathlib import Path

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebook", type=Path)
    p.add_argument("--slow", action="store_true", help="run the `#| slow` cells too")
    p.add_argument("--cells", nargs="*", default=None, metavar="ID", help="run only these cells (by id) after the setup cells; the others keep their outputs")
    a = p.parse_args()
    os.environ.setdefault("MUJOCO_GL", "egl")
    from execnb.shell import CaptureShell, read_nb, write_nb
    path = a.notebook.resolve()
    nb = read_nb(path)
    skip = re.compile(r"^#\|\s*(eval:\s*false|notest" + ("" if a.slow else r"|slow") + r")\s*$", re.M)
    os.chdir(path.parent)
    shell = CaptureShell()
    for cell in nb.cells:
        if cell.cell_type != "code" or skip.search(cell.source): continue
        setup = re.match(r"#\|\s*(hide|export)", cell.source)
        if a.cells is not None and not setup and cell.get("id") not in a.cells: continue
        shell.cell(cell)
        if shell.exc: sys.exit(f"{path.name}: a cell raised, nothing written:\n{cell.source[:300]}\n{shell.exc!r}")
    write_nb(nb, path)
    print(f"wrote the outputs of {path}")

if __name__ == "__main__": main()
