#!/usr/bin/env bash
# All set-up on a fresh machine: system libraries, then PyTorch's CPU build, then this package.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: EGL (Mesa) for offscreen MuJoCo rendering. Installed only when missing.
need_apt=()
ldconfig -p | grep -q 'libEGL.so.1' || need_apt+=(libegl1 libegl-mesa0 libgl1)
ldconfig -p | grep -q 'libOpenGL.so.0' || need_apt+=(libopengl0)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PyTorch 2.13.0 first: its CPU build is what pip finds for this exact version; an unpinned
# torch would pull several GB of CUDA packages.
python -m pip install -q --disable-pip-version-check torch==2.13.0
python -m pip install -q --disable-pip-version-check -e ".[dev]"
