#!/bin/sh
# Install the Debian packages the self-hosting tests (tests/deploy) run for real: nginx, Caddy,
# podman with runc and iptables (container networking), mmdebstrap (the image's Debian base) and
# systemd-analyze. Idempotent; run as root on Debian/Ubuntu. .ci/run calls it before the tests.
# Without root or apt-get it says so and exits 0: those tests then skip with a visible reason.
set -u
packages="nginx-light caddy podman runc crun iptables netavark aardvark-dns uidmap slirp4netns fuse-overlayfs catatonit mmdebstrap systemd"
missing=""
for pkg in $packages; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -z "$missing" ]; then
  echo "ci-deps: all deploy test packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ci-deps: missing:$missing (need root and apt-get); the deploy tests that need them will skip"
  exit 0
fi
echo "ci-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
attempt=1
while [ "$attempt" -le 3 ]; do
  # shellcheck disable=SC2086  # a list of package names
  if apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
    echo "ci-deps: installed"
    exit 0
  fi
  echo "ci-deps: apt-get install failed (attempt $attempt); refreshing the package lists"
  apt-get update -qq >/dev/null 2>&1 || true
  attempt=$((attempt + 1))
  sleep "$attempt"
done
echo "ci-deps: could not install:$missing; the deploy tests that need them will skip (and fail under CI)"
exit 1
