#!/usr/bin/env bash
# Every test: the package matches the notebooks, README.md matches nbs/index.ipynb,
# the notebooks' inline tests pass, then the pytest suites.
set -euo pipefail
cd "$(dirname "$0")/.."
export MUJOCO_GL=egl

echo "== nbdev-export: simscaleai/ must match the notebooks"
nbdev-export
if [ -n "$(git status --porcelain -- simscaleai)" ]; then
  git status --porcelain -- simscaleai
  git diff --stat -- simscaleai
  echo "simscaleai/ differs from what the notebooks export: edit the notebook, run nbdev-export, commit both." >&2
  exit 1
fi

echo "== README.md must match nbs/index.ipynb"
python tools/make_readme.py --check

echo "== nbdev-test (notebooks' inline tests; 'slow' and 'notest' cells skipped)"
OMP_NUM_THREADS=1 nbdev-test --n-workers 2 --timing

echo "== docs site: python tools/build_docs.py (docs/, checked in Chromium by tests/test_docs_site.py)"
python tools/build_docs.py --strict

echo "== pytest"
OMP_NUM_THREADS=1 python -m pytest tests -q -rs
