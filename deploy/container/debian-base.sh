#!/bin/sh
# Make a Debian bookworm base image with python3 from Debian's own packages (no registry needed):
#
#   deploy/container/debian-base.sh [TAG]     (default TAG: localhost/wire-debian-python:bookworm)
#
# Needs mmdebstrap and podman (apt-get install mmdebstrap podman) and root (or use
# --mode=unshare). Then: BASE=localhost/wire-debian-python:bookworm deploy/container/build.sh
# Documentation, manual pages and locales are left out to keep the image small.
set -eu
tag=${1:-localhost/wire-debian-python:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tarball=$(mktemp "${TMPDIR:-/tmp}/wire-debian-base.XXXXXX.tar")
trap 'rm -f "$tarball"' EXIT
mmdebstrap --quiet --variant=essential --mode="${MMDEBSTRAP_MODE:-auto}" \
  --include=python3,python3-venv,ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  bookworm "$tarball" "$mirror"
podman import --change 'CMD ["/bin/sh"]' "$tarball" "$tag"
