#!/usr/bin/env bash
# Fill data/ with mnist.pkl.gz and cifar-10-739/*.npy. Safe to re-run or interrupt.
#
#   ./get_dataset.sh                          download the public originals and build
#   HW2_DATA_MIRROR=DIR ./get_dataset.sh      copy from a local mirror (no network)
#
# Environment:
#   HW2_DATA_MIRROR  folder laid out as ../shared/datasets: mnist.pkl.gz and SHA256SUMS,
#                    cifar-10-739/*.npy and cifar-10-739/SHA256SUMS. Every checksum is verified.
#   HW2_DATA_OUT     where to write (default: data/ beside this script)
#   HW2_MNIST_URL    base URL of the four MNIST idx .gz files
#   HW2_MNIST_MD5SUMS  md5sum-style file with their checksums (default: the published ones)
#   HW2_CIFAR_URL    URL of cifar-10-python.tar.gz;  HW2_CIFAR_MD5  its md5
#   PYTHON           interpreter with numpy (default: .venv/bin/python, else python3)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi   # the handout says `sh get_dataset.sh`
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${HW2_DATA_OUT:-$here/data}
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$here/.venv/bin/python" ]; then PYTHON=$here/.venv/bin/python; else PYTHON=python3; fi
fi
mnist_url=${HW2_MNIST_URL:-https://ossci-datasets.s3.amazonaws.com/mnist/}
cifar_url=${HW2_CIFAR_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz}
cifar_md5=${HW2_CIFAR_MD5:-c58f30108f718f92721af3b95e74349a}
default_mnist_md5s="f68b3c2dcbeaaa9fbdd348bbdeb94873  train-images-idx3-ubyte.gz
d53e105ee54ea40749a09fcbcd1e9432  train-labels-idx1-ubyte.gz
9fb629c4189551a2d022fa330f9573f3  t10k-images-idx3-ubyte.gz
ec29112dd5afa0611ce80d1b7f02629c  t10k-labels-idx1-ubyte.gz"

die() { echo "get_dataset.sh: error: $*" >&2; exit 1; }
# Temporary files end in .part$$; whatever stops us, none is left behind.
trap 'rm -rf "$out"/*.part$$ "$out"/*/*.part$$' EXIT

# clean_stale_parts DIR...: remove *.part<pid> left by a run that was killed (SIGKILL skips the trap).
# Those of a run still going are left alone.
clean_stale_parts() {
  local dir part pid
  for dir in "$@"; do
    for part in "$dir"/*.part[0-9]*; do
      [ -e "$part" ] || continue
      pid=${part##*.part}
      case $pid in *[!0-9]*) continue ;; esac
      if ! kill -0 "$pid" 2>/dev/null && ! ps -p "$pid" >/dev/null 2>&1; then
        rm -rf "$part" && echo "  removed $part, left by an interrupted run"
      fi
    done
  done
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# write_if_changed TEXT FILE: write FILE (atomically) only when it does not hold TEXT already,
# so that verifying a complete, read-only folder writes nothing.
write_if_changed() {
  if [ -f "$2" ] && [ "$(cat "$2")" = "$1" ]; then return 0; fi
  printf '%s\n' "$1" > "$2.part$$" && mv "$2.part$$" "$2"
}

# copy_verified SRC DEST SHA256: copy unless DEST already has that checksum; verify before rename.
copy_verified() {
  local src=$1 dest=$2 sum=$3
  if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$sum" ]; then return 0; fi
  cat "$src" > "$dest.part$$"
  [ "$(sha256_of "$dest.part$$")" = "$sum" ] || die "$src does not match its SHA256SUMS entry (corrupt mirror?)"
  mv "$dest.part$$" "$dest"
  echo "  $dest"
}

# sum_entry SUMS NAME: the checksum SUMS lists for NAME (empty when none).
sum_entry() { awk -v n="$2" '$2 == n || $2 == "*" n {print $1; exit}' "$1" 2>/dev/null || true; }

# mirror_problems MIRROR: one line per thing the mirror lacks (nothing when it is complete).
mirror_problems() {
  local m=$1 sum name
  if [ ! -f "$m/mnist.pkl.gz" ]; then echo "$m/mnist.pkl.gz is missing"; fi
  if [ ! -f "$m/SHA256SUMS" ]; then echo "$m/SHA256SUMS is missing"
  elif [ -z "$(sum_entry "$m/SHA256SUMS" mnist.pkl.gz)" ]; then echo "$m/SHA256SUMS has no entry for mnist.pkl.gz"; fi
  if [ ! -f "$m/cifar-10-739/SHA256SUMS" ]; then echo "$m/cifar-10-739/SHA256SUMS is missing"; return 0; fi
  while read -r sum name; do
    name=${name#\*}
    if [ -n "$name" ] && [ ! -f "$m/cifar-10-739/$name" ]; then echo "$m/cifar-10-739/$name is missing"; fi
  done < "$m/cifar-10-739/SHA256SUMS"
}

# copy_listed MIRROR_DIR OUT_DIR: copy every file named in MIRROR_DIR/SHA256SUMS.
copy_listed() {
  local from=$1 to=$2 sum name
  mkdir -p "$to"
  while read -r sum name; do
    [ -n "$name" ] || continue
    name=${name#\*}
    copy_verified "$from/$name" "$to/$name" "$sum"
  done < "$from/SHA256SUMS"
  write_if_changed "$(cat "$from/SHA256SUMS")" "$to/SHA256SUMS"
}

# is_complete DIR [SUMS]: DIR/SUMS (default SHA256SUMS) exists and every file it names checks out.
is_complete() { [ -f "$1/${2:-SHA256SUMS}" ] && (cd "$1" && sha256sum --quiet -c "${2:-SHA256SUMS}" >/dev/null 2>&1); }

mkdir -p "$out"
clean_stale_parts "$out" "$out/cifar-10-739" "$out/downloads"
if [ -n "${HW2_DATA_MIRROR:-}" ]; then
  mirror=$(cd "$HW2_DATA_MIRROR" 2>/dev/null && pwd) || die "HW2_DATA_MIRROR=$HW2_DATA_MIRROR is not a folder"
  echo "get_dataset.sh: copying from mirror $mirror"
  problems=$(mirror_problems "$mirror")
  [ -z "$problems" ] || die "the mirror is incomplete:
$problems
HW2_DATA_MIRROR must name a folder laid out like ../shared/datasets: mnist.pkl.gz and SHA256SUMS,
cifar-10-739/*.npy and cifar-10-739/SHA256SUMS"
  sum=$(sum_entry "$mirror/SHA256SUMS" mnist.pkl.gz)
  copy_verified "$mirror/mnist.pkl.gz" "$out/mnist.pkl.gz" "$sum"
  write_if_changed "$sum  mnist.pkl.gz" "$out/MNIST.SHA256SUMS"   # the marker a later run without mirror checks
  copy_listed "$mirror/cifar-10-739" "$out/cifar-10-739"
else
  downloads="$out/downloads"
  if is_complete "$out" MNIST.SHA256SUMS; then
    echo "get_dataset.sh: mnist.pkl.gz present"
  else
    echo "get_dataset.sh: MNIST from $mnist_url"
    mkdir -p "$downloads"
    if [ -n "${HW2_MNIST_MD5SUMS:-}" ]; then md5s=$(cat "$HW2_MNIST_MD5SUMS"); else md5s=$default_mnist_md5s; fi
    while read -r md5 name; do
      [ -n "$name" ] || continue
      "$PYTHON" "$here/hw2_data.py" fetch "${mnist_url%/}/$name" "$downloads/$name" "$md5" \
        || die "could not get $name"
    done <<< "$md5s"
    "$PYTHON" "$here/hw2_data.py" mnist "$downloads" "$out/mnist.pkl.gz" || die "could not build mnist.pkl.gz"
    write_if_changed "$(sha256_of "$out/mnist.pkl.gz")  mnist.pkl.gz" "$out/MNIST.SHA256SUMS"
  fi
  if is_complete "$out/cifar-10-739"; then
    echo "get_dataset.sh: cifar-10-739 present"
  else
    echo "get_dataset.sh: CIFAR-10 from $cifar_url"
    mkdir -p "$downloads"
    "$PYTHON" "$here/hw2_data.py" fetch "$cifar_url" "$downloads/cifar-10-python.tar.gz" "$cifar_md5" \
      || die "could not get cifar-10-python.tar.gz"
    "$PYTHON" "$here/hw2_data.py" cifar "$downloads/cifar-10-python.tar.gz" "$out/cifar-10-739" \
      || die "could not build cifar-10-739"
  fi
fi
echo "get_dataset.sh: data ready in $out"
