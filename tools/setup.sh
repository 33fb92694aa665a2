#!/usr/bin/env bash
# All set-up on a fresh machine: system libraries, then PyTorch's CPU build, then this package.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: EGL (Mesa) for offscreen MuJoCo rendering. Installed only when missing.
need_apt=()
ldconfig -p | grep -q 'libEGL.so.1' || need_apt+=(libegl1 libegl-mesa0 libgl1)
ldconfig -p | grep -q 'libOpenGL.so.0' || need_apt+=(libopengl0)
# Docs site: Debian's Chromium and its driver for the browser test; npm to fetch MathJax (below).
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v npm >/dev/null || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PyTorch 2.13.0 first: its CPU build is what pip finds for this exact version; an unpinned
# torch would pull several GB of CUDA packages.
python -m pip install -q --disable-pip-version-check torch==2.13.0
# The ray extra too: tests/test_ray.py runs the Ray rollouts on a local cluster.
python -m pip install -q --disable-pip-version-check -e ".[dev,ray]"

# MathJax 3 for the docs site (tools/build_docs.py serves it from the site itself), from the npm registry.
MATHJAX_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/simscaleai/mathjax-3.2.2"
if [ ! -f "$MATHJAX_DIR/package/es5/startup.js" ]; then
  mkdir -p "$MATHJAX_DIR"
  (cd "$MATHJAX_DIR" && npm pack --silent mathjax@3.2.2 >/dev/null && tar xzf mathjax-3.2.2.tgz && rm mathjax-3.2.2.tgz)
fi

# pyenv exposes new console scripts (simscale, nbdev-*) through shims made by a rehash.
if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
