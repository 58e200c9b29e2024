#!/bin/sh
# Provides MNIST and Fashion-MNIST as IDX files for memtile.
#
#   scripts/get-data.sh [--offline] [TARGET]
#
# TARGET (default $HOME/.cache/memtile/data) gets mnist/ and fashion-mnist/,
# so that MEMTILE_DATA=TARGET finds both. Each dataset is, in this order:
#   1. already in TARGET and verified;
#   2. downloaded from an official mirror into TARGET and verified;
#   3. taken from a local copy, which TARGET then links to:
#        mnist:         <repo>/../shared/data/mnist
#        fashion-mnist: /usr/share/datasets/fashion-mnist (Debian's
#                       dataset-fashion-mnist, installed if root or sudo allow)
# Verification: MNIST by the md5 of the uncompressed files (the published
# sums, also in shared/data/README.md); downloaded Fashion-MNIST by the md5 of
# the .gz files published in the zalandoresearch/fashion-mnist README; a local
# Fashion-MNIST copy (Debian recompresses the .gz) by its uncompressed sizes.
#
# Environment: MEMTILE_OFFLINE=1 is --offline. MEMTILE_MNIST_MIRRORS and
# MEMTILE_FASHION_MIRRORS replace the mirror lists (space-separated base URLs),
# e.g. for a local cache.
set -u

die() { echo "get-data: $*" >&2; exit 1; }
say() { echo "get-data: $*"; }

offline=${MEMTILE_OFFLINE:-0}
target=""
for arg in "$@"; do
  case $arg in
    --offline) offline=1 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) [ -z "$target" ] || die "only one TARGET directory may be given"; target=$arg ;;
  esac
done
if [ -z "$target" ]; then
  [ -n "${HOME:-}" ] || die "HOME is not set; give a TARGET directory"
  target=$HOME/.cache/memtile/data
fi
repo=$(cd "$(dirname "$0")/.." && pwd) || die "cannot find the repository"
mkdir -p "$target" || die "cannot create $target"
target=$(cd "$target" && pwd)

FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
MNIST_MIRRORS=${MEMTILE_MNIST_MIRRORS:-"https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist http://yann.lecun.com/exdb/mnist"}
FASHION_MIRRORS=${MEMTILE_FASHION_MIRRORS:-"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion"}

# md5 of the uncompressed MNIST files.
mnist_md5() {
  case $1 in
    train-images-idx3-ubyte) echo 6bbc9ace898e44ae57da46a324031adb ;;
    train-labels-idx1-ubyte) echo a25bea736e30d166cdddb491f175f624 ;;
    t10k-images-idx3-ubyte) echo 2646ac647ad5339dbf082846283269ea ;;
    t10k-labels-idx1-ubyte) echo 27ae3e4e09519cfbb04c329615203637 ;;
  esac
}

# md5 of the official Fashion-MNIST .gz files.
fashion_gz_md5() {
  case $1 in
    train-images-idx3-ubyte) echo 8d4fb7e6c68d591d4c3dfef9ec88bf0d ;;
    train-labels-idx1-ubyte) echo 25c81989df183df01b3e8a0aad5dffbe ;;
    t10k-images-idx3-ubyte) echo bef4ecab320f06d8554ea6380940ec79 ;;
    t10k-labels-idx1-ubyte) echo bb300cfdad3c16e7a12a480ee83cd310 ;;
  esac
}

# Uncompressed sizes, the same for both datasets (16 + n*784 and 8 + n bytes).
idx_size() {
  case $1 in
    train-images-idx3-ubyte) echo 47040016 ;;
    train-labels-idx1-ubyte) echo 60008 ;;
    t10k-images-idx3-ubyte) echo 7840016 ;;
    t10k-labels-idx1-ubyte) echo 10008 ;;
  esac
}

# The file for base name $2 in directory $1, plain or .gz (plain preferred, as the loader does).
locate() {
  if [ -f "$1/$2" ]; then echo "$1/$2"
  elif [ -f "$1/$2.gz" ]; then echo "$1/$2.gz"
  else return 1
  fi
}

# Uncompressed content of a file, told by content like the loader (gzip -dcf passes plain files).
content() { gzip -dcf -- "$1"; }

md5_of() { md5sum | cut -d' ' -f1; }

# verify DATASET DIR [strict]: all four files present and correct. With
# strict, Fashion-MNIST must match the official .gz sums (a fresh download);
# otherwise a local copy passes on uncompressed sizes.
verify() {
  for f in $FILES; do
    path=$(locate "$2" "$f") || { why="no ${f}[.gz] in $2"; return 1; }
    if [ "$1" = mnist ]; then
      sum=$(content "$path" | md5_of)
      [ "$sum" = "$(mnist_md5 "$f")" ] || { why="$path: md5 of the data is $sum, expected $(mnist_md5 "$f")"; return 1; }
      continue
    fi
    case $path in
      *.gz) [ "$(md5_of <"$path")" = "$(fashion_gz_md5 "$f")" ] && continue ;;
    esac
    [ "${3:-}" = strict ] && { why="$path: md5 differs from the official .gz"; return 1; }
    size=$(content "$path" | wc -c)
    [ "$size" -eq "$(idx_size "$f")" ] || { why="$path: $size bytes of data, expected $(idx_size "$f")"; return 1; }
  done
}

# fetch URL OUT: short timeouts so that an offline machine fails fast instead of hanging.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 5 --max-time 300 --speed-limit 1024 --speed-time 15 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T 10 -t 1 -O "$2" "$1"
  else
    return 1
  fi
}

# download DATASET MIRRORS: into a scratch directory, moved into place only once verified.
download() {
  [ "$offline" = 1 ] && { why="offline"; return 1; }
  part=$target/.$1.part.$$
  for base in $2; do
    rm -rf "$part" && mkdir -p "$part" || return 1
    ok=1
    for f in $FILES; do
      if ! fetch "$base/$f.gz" "$part/$f.gz"; then
        why="$base/$f.gz could not be fetched"
        ok=0
        break
      fi
    done
    if [ $ok = 1 ] && verify "$1" "$part" strict; then
      rm -rf "${target:?}/$1" && mv "$part" "$target/$1" && return 0
    fi
    say "$1: $base failed ($why)" >&2
  done
  rm -rf "$part"
  return 1
}

# Installs Debian's dataset-fashion-mnist when we may; otherwise says how.
install_fashion() {
  if [ "$(id -u)" -eq 0 ]; then sudo=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
  else
    say "fashion-mnist: to install it, run: sudo apt-get install dataset-fashion-mnist" >&2
    return 1
  fi
  say "fashion-mnist: installing Debian's dataset-fashion-mnist"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends dataset-fashion-mnist ||
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends dataset-fashion-mnist; }
}

# local_copy DATASET: sets local_dir to the local copy's directory, verified.
local_copy() {
  case $1 in
    mnist) local_dir=$repo/../shared/data/mnist ;;
    fashion-mnist)
      local_dir=/usr/share/datasets/fashion-mnist
      [ -d "$local_dir" ] || install_fashion ||
        { why="$local_dir missing and dataset-fashion-mnist not installed"; return 1; }
      ;;
  esac
  [ -d "$local_dir" ] || { why="no $local_dir"; return 1; }
  local_dir=$(cd "$local_dir" && pwd)
  verify "$1" "$local_dir"
}

# provide DATASET MIRRORS: prints where the dataset is; returns 1 if nowhere.
provide() {
  why=""
  if [ -e "$target/$1" ] && verify "$1" "$target/$1"; then
    say "$1: $(cd "$target/$1" && pwd -P) (already there, verified)"
    return 0
  fi
  [ -e "$target/$1" ] && say "$1: $target/$1 is not usable ($why)" >&2
  if download "$1" "$2"; then
    say "$1: $target/$1 (downloaded, verified)"
    return 0
  fi
  say "$1: no download ($why); trying a local copy"
  if local_copy "$1"; then
    # A link lets MEMTILE_DATA=$target reach every dataset the same way.
    link="not linked: $target/$1 exists"
    [ -L "$target/$1" ] && [ ! -e "$target/$1" ] && rm -f "$target/$1" # dangling
    if [ ! -e "$target/$1" ] && [ ! -L "$target/$1" ] && ln -s "$local_dir" "$target/$1"; then
      link="linked from $target/$1"
    else
      outside="$outside $1"
    fi
    say "$1: $local_dir (local copy, verified; $link)"
    return 0
  fi
  echo "get-data: $1: cannot be provided: $why; run again online, or put the four IDX files (.gz or plain) in $target/$1" >&2
  return 1
}

failed=""
outside="" # provided, but not reachable through $target
provide mnist "$MNIST_MIRRORS" || failed="$failed mnist"
provide fashion-mnist "$FASHION_MIRRORS" || failed="$failed fashion-mnist"
[ -z "$failed" ] || die "missing:$failed (see the messages above)"
if [ -z "$outside" ]; then
  say "all datasets present; MEMTILE_DATA=$target selects them"
else
  say "all datasets present; memtile's default search finds them, but not MEMTILE_DATA=$target" \
    "(fix or remove:$(for d in $outside; do printf ' %s' "$target/$d"; done))"
fi
