#!/bin/sh
# Build the wire-relay container image from this checkout.
#
#   deploy/container/build.sh [TAG]          (default TAG: localhost/wire-relay:latest)
#
# Environment:
#   CONTAINER_TOOL  podman (default when installed) or docker
#   BASE            the base image (default docker.io/library/python:3.11-slim-bookworm); for a base
#                   made from Debian's packages with no registry at all, see debian-base.sh
#   PYTHON_VERSION  the base's Python (default 3.11): wheels are fetched for it
#   BUILD_ARGS      extra arguments for "<tool> build" (e.g. --network host)
#
# Steps: build the wheels of wire-agent-protocol and wire-relay from this checkout, download the
# binary wheels of their dependencies for the base's Python on Linux, then build the image from a
# small context holding only those wheels and the Containerfile (nothing else of the checkout).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tag=${1:-localhost/wire-relay:latest}
tool=${CONTAINER_TOOL:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}
base=${BASE:-docker.io/library/python:3.11-slim-bookworm}
pyver=${PYTHON_VERSION:-3.11}
python=${PYTHON:-$(command -v python3)}
arch=$(uname -m)

context=$(mktemp -d "${TMPDIR:-/tmp}/wire-relay-image.XXXXXX")
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/wheels"
cp "$here/Containerfile" "$context/Containerfile"

echo "build.sh: wheels of wire-agent-protocol and wire-relay" >&2
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$context/wheels" \
  "$root/packages/wire-protocol" "$root/packages/wire-relay"

echo "build.sh: dependency wheels for CPython $pyver on $arch" >&2
abi="cp$(echo "$pyver" | tr -d .)"
"$python" -m pip download --quiet --only-binary=:all: --dest "$context/wheels" \
  --find-links "$context/wheels" \
  --python-version "$pyver" --implementation cp --abi "$abi" --abi abi3 --abi none \
  --platform "manylinux_2_28_$arch" --platform "manylinux_2_17_$arch" --platform "manylinux2014_$arch" \
  --platform any \
  'wire-relay[postgres]'

# podman writes OCI images by default, which have no HEALTHCHECK; the docker format keeps it
format=""
[ "$(basename "$tool")" = podman ] && format="--format docker"
echo "build.sh: $tool build -t $tag (base $base)" >&2
# shellcheck disable=SC2086  # BUILD_ARGS and format are lists of words on purpose
"$tool" build $format ${BUILD_ARGS:-} --build-arg "BASE=$base" -t "$tag" -f "$context/Containerfile" "$context"
