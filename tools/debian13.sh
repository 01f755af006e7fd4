#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a command of this checkout in a fresh Debian 13 (trixie) root, as on a new trixie machine.
#
#   tools/debian13.sh [--root DIR] [--reuse] -- CMD ARGS…      (root needed)
#
# It makes DIR (default build/debian13/root) with `debootstrap --variant=minbase trixie` from the
# Debian archive, copies the checkout (tracked files and untracked ones git does not ignore, as
# they are in the work tree) to DIR/src, and runs CMD there as root in a chroot that has /proc,
# /sys, /dev, a tmpfs /run and /tmp. Everything is mounted in a private mount namespace, so the
# mounts end with the command. The root is bind-mounted onto itself first: the test harness's
# `unshare --propagation private` needs the root to be a mount point.
#   --reuse   keep an existing DIR (only the copy of the checkout is made anew); without it the
#             root is made from nothing every time, which is what CI does.
# Environment: JPKI_DEBIAN_MIRROR (default http://deb.debian.org/debian). CI=… is passed in.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "debian13: $*" >&2; exit 2; }

root=$PWD/build/debian13/root
reuse=0
while (($#)); do
  case "$1" in
    --root) root=$(realpath -m "$2"); shift 2 ;;
    --reuse) reuse=1; shift ;;
    --) shift; break ;;
    *) die "unknown option $1 (usage: debian13.sh [--root DIR] [--reuse] -- CMD…)" ;;
  esac
done
(($#)) || die "no command given"
[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot and mounts)"
mirror=${JPKI_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [[ "${_JPKI_D13_INSIDE:-}" != 1 ]]; then
  if ! command -v debootstrap >/dev/null; then
    echo "debian13: installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  if ((!reuse)) || [[ ! -x $root/usr/bin/apt-get ]]; then
    if [[ -e $root ]]; then
      # A root left by an earlier run: nothing of it may be mounted any more (own namespace).
      rm -rf --one-file-system "$root"
    fi
    mkdir -p "$root"
    echo "debian13: debootstrap --variant=minbase trixie $root ($mirror)"
    t0=$(date +%s)
    debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
      { tail -n 20 "$root.debootstrap.log" >&2; die "debootstrap failed"; }
    echo "debian13: root made in $(($(date +%s) - t0)) s"
  fi
  # The checkout as it is in the work tree (an untracked but not ignored file comes along too).
  # With --reuse the root's build folder is kept, so that builds are incremental.
  mkdir -p "$root/src"
  find "$root/src" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
  git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$root/src"
  export _JPKI_D13_INSIDE=1
  exec unshare --mount --propagation private "$0" --root "$root" --reuse -- "$@"
fi

# Inside a private mount namespace: make the root a mount point, mount the API file systems.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# Services must not start inside the chroot when packages are installed.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" FUZZ_TIME="${FUZZ_TIME:-}" \
  JPKI_SKIP_FUZZ="${JPKI_SKIP_FUZZ:-}" JPKI_SKIP_SANITIZERS="${JPKI_SKIP_SANITIZERS:-}" \
  /bin/bash -c 'cd /src && exec "$@"' bash "$@"
