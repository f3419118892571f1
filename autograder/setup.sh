#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04 base),
# with this zip unpacked in /autograder/source. Steps:
#  1. a Python 3.11 or later: the image's own when it has one, else Ubuntu's deadsnakes build
#     (ppa:deadsnakes/ppa, packages python3.11 and python3.11-venv); 22.04's python3 is 3.10, too
#     old for the pinned numpy, pandas and matplotlib;
#  2. a venv with the pinned stack in $HW2_HOME/venv;
#  3. the data in $HW2_HOME/data (downloaded, or copied from HW2_DATA_MIRROR), checked against
#     the checksums of the data the course staff built the private labels from;
#  4. the sandbox user; 5. permissions: the venv and data readable by all, the reference,
#     labels and hidden-case seed (this folder) by root only.
# Safe to run again. Environment: AUTOGRADER_ROOT (default /autograder), HW2_DATA_MIRROR.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")" && pwd)
. "$source_dir/autograder/gradescope.env"

find_python() {   # system interpreters only: one in a private home (pyenv's) is not runnable by the sandbox user
  local candidate
  for candidate in /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11 \
                   /usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/local/bin/python3.11; do
    if [ -x "$candidate" ] && "$candidate" -c "import venv, ensurepip" 2>/dev/null; then echo "$candidate"; return 0; fi
  done
  return 1
}
if ! python=$(find_python); then
  echo "setup.sh: no Python 3.11+ with venv on the image; installing python3.11 from ppa:deadsnakes/ppa"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update
  apt-get install -y --no-install-recommends python3.11 python3.11-venv
  python=$(find_python) || { echo "setup.sh: error: python3.11 did not install" >&2; exit 1; }
fi
echo "setup.sh: using $python ($("$python" --version))"

mkdir -p "$HW2_HOME"
if ! cmp -s "$source_dir/requirements.txt" "$HW2_HOME/venv/.installed" 2>/dev/null; then
  "$python" -m venv "$HW2_HOME/venv"
  "$HW2_HOME/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$HW2_HOME/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$source_dir/requirements.txt"
  cp "$source_dir/requirements.txt" "$HW2_HOME/venv/.installed"
fi

HW2_DATA_OUT="$HW2_HOME/data" PYTHON="$HW2_HOME/venv/bin/python" "$source_dir/get_dataset.sh"
for sums in MNIST.SHA256SUMS cifar-10-739/SHA256SUMS; do
  if ! cmp -s "$source_dir/data-checksums/$sums" "$HW2_HOME/data/$sums"; then
    echo "setup.sh: error: $HW2_HOME/data/$sums differs from the data the labels were made for;" \
         "rebuild the autograder from the same data (make autograder)" >&2
    exit 1
  fi
done

id -u "$SANDBOX_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$SANDBOX_USER"
chmod -R a+rX "$HW2_HOME"
chmod -R go-rwx "$source_dir"
echo "setup.sh: done (venv and data in $HW2_HOME, sandbox user $SANDBOX_USER)"
