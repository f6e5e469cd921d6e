#!/usr/bin/env bash
# Runs the README's two commands on a fresh Debian 12: builds a new root with debootstrap,
# copies the committed tree into it (git archive HEAD) at the same path as here, with
# ../shared beside it read-only when it exists, runs tools/run_tests.sh and then
# tools/main_job.sh in it, prints what passed and how long each step took, and removes the
# root. Only a fresh root shows what the install step forgot: a developer's machine and CI's
# keep whatever was installed on them by hand. Run it before adding a dependency.
#
# Usage: tools/fresh_machine_check.sh [--cold] [--keep]
#   --cold  compile without this machine's ccache (by default the fresh root's build reads
#           and fills it; ccache hashes the root's own compiler and headers, so a package
#           the root lacks still fails the build, only a cold build takes ~15 minutes)
#   --keep  leave the root in place to look into (its path is printed)
# Needs root (debootstrap, mounts, chroot; sudo when not root) and a Debian mirror:
# $RUNNEL_DEBIAN_MIRROR, by default http://deb.debian.org/debian. The root goes under
# $RUNNEL_FRESH_ROOT_PARENT (default /var/tmp; ~4 GB), the logs into build/fresh-machine-check/.
set -euo pipefail

cold=0 keep=0
for arg in "$@"; do
  case $arg in
    --cold) cold=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--cold] [--keep]" >&2; exit 2 ;;
  esac
done
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "$0: needs root (debootstrap, chroot)" >&2; exit 1; }
  exec sudo --preserve-env=RUNNEL_DEBIAN_MIRROR,RUNNEL_FRESH_ROOT_PARENT,CI -- "$0" "$@"
fi

project=$(cd "$(dirname "$0")/.." && pwd)
shared=$(dirname "$project")/shared
mirror=${RUNNEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
logs=$project/build/fresh-machine-check
commit=$(git -C "$project" rev-parse --short HEAD)
mkdir -p "$logs"
if [[ -n $(git -C "$project" status --porcelain --untracked-files=no) ]]; then
  echo "fresh_machine_check: uncommitted changes are not checked, only commit $commit"
fi
if ! command -v debootstrap >/dev/null; then
  echo "fresh_machine_check: installing debootstrap on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap \
        >/dev/null; }
fi

fresh=$(mktemp -d "${RUNNEL_FRESH_ROOT_PARENT:-/var/tmp}/runnel-fresh.XXXXXX")
chmod 755 "$fresh"  # it is the root's /, which every user (apt's _apt too) must traverse
remove_root() {
  # Processes a package left running in the root would keep files open there.
  local proc
  for proc in /proc/[0-9]*; do
    [[ $(readlink "$proc/root" 2>/dev/null) == "$fresh" ]] && kill -9 "${proc#/proc/}" || true
  done
  if [[ $keep -eq 1 ]]; then
    echo "fresh_machine_check: the root stays at $fresh"
  elif findmnt -rn -o TARGET | grep -q "^$fresh"; then
    # The mounts live in per-command namespaces, so this is not expected; never delete
    # through a mount.
    echo "fresh_machine_check: $fresh still has mounts; left in place" >&2
  else
    rm -rf --one-file-system "$fresh"
  fi
}
trap remove_root EXIT

# in_root COMMAND...: runs COMMAND in the fresh root with a new user's environment (and
# this one's proxy settings and CI flag). The mounts live in a namespace of their own and
# vanish with it, whatever happens.
in_root() {
  local ccache_dir=
  if [[ $cold -eq 0 ]] && command -v ccache >/dev/null; then
    ccache_dir=$(ccache -k cache_dir)
    mkdir -p "$ccache_dir" "$fresh/root/.cache/ccache"
  fi
  local name network=()
  for name in CI http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
              PIP_INDEX_URL PIP_CERT SSL_CERT_FILE REQUESTS_CA_BUNDLE; do
    [[ -z ${!name:-} ]] || network+=("$name=${!name}")
  done
  unshare --mount --propagation private -- /bin/bash -euc '
    fresh=$1 shared=$2 ccache_dir=$3; shift 3
    mount -t proc proc "$fresh/proc"
    mount -t sysfs sys "$fresh/sys"
    mount --rbind /dev "$fresh/dev"
    if [[ -d $shared ]]; then
      mkdir -p "$fresh$shared"
      mount --bind -o ro "$shared" "$fresh$shared"
    fi
    [[ -z $ccache_dir ]] || mount --bind "$ccache_dir" "$fresh/root/.cache/ccache"
    exec chroot "$fresh" "$@"
  ' in_root "$fresh" "$shared" "$ccache_dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    "${network[@]}" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

summary=() failed=0
# step NAME LOG COMMAND...: runs a step, its output into LOG, and records its result and time.
step() {
  local name=$1 log=$2 start=$SECONDS result=ok
  shift 2
  echo "fresh_machine_check: $name ..."
  "$@" >"$log" 2>&1 || result=FAILED
  local took=$((SECONDS - start))
  summary+=("$(printf '  %-22s %-6s %3d:%02d  %s' "$name" "$result" $((took / 60)) \
    $((took % 60)) "$(counts "$log")")")
  if [[ $result != ok ]]; then
    failed=1
    echo "---- the end of $log"
    tail -n 60 "$log"
    echo "----"
  fi
  [[ $result == ok ]]
}
# The test runners' closing counts, the main job's accuracy and the build's warnings, as
# the log states them.
counts() {
  local pattern item warnings separator=
  local items=()
  for pattern in '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' \
                 '[0-9]+ (passed|failed)[^=]* in [0-9.]+s' 'frozen graph test accuracy [0-9.]+'; do
    items+=("$(grep -Eo "$pattern" "$1" | tail -n 1)")
  done
  warnings=$(grep -c ' warning: ' "$1")
  [[ $warnings -eq 0 ]] || items+=("$warnings compiler warnings")
  for item in "${items[@]}"; do
    [[ -z $item ]] || { printf '%s%s' "$separator" "$item"; separator='; '; }
  done
}

configure_root() {
  cat >"$fresh/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $mirror-security bookworm-security main
EOF
  # No services start in a chroot.
  printf '#!/bin/sh\nexit 101\n' >"$fresh/usr/sbin/policy-rc.d"
  chmod +x "$fresh/usr/sbin/policy-rc.d"
  # This machine's way to the network comes along (not its software): name servers, pip's
  # settings, and the certificate bundle with the local authorities it was made from (kept
  # when Debian's ca-certificates rebuilds the bundle), for a TLS proxy with its own.
  cp /etc/resolv.conf "$fresh/etc/resolv.conf"
  # What Debian's installer writes and debootstrap does not: without it not even
  # "localhost" resolves there (Spark's local mode binds to it).
  if [[ ! -s $fresh/etc/hosts ]]; then
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
      "$(hostname)" >"$fresh/etc/hosts"
  fi
  local file
  for file in /etc/pip.conf /etc/ssl/certs/ca-certificates.crt \
              /usr/local/share/ca-certificates/*.crt; do
    [[ ! -f $file ]] || install -D -m 644 "$file" "$fresh$file"
  done
  mkdir -p "$fresh$project"
  git -C "$project" archive HEAD | tar -x -C "$fresh$project"
}

echo "fresh_machine_check: commit $commit in a fresh Debian 12 root at $fresh"
if step "debootstrap" "$logs/debootstrap.log" \
     debootstrap --variant=minbase bookworm "$fresh" "$mirror" &&
   step "copy the tree" "$logs/copy.log" configure_root; then
  step "tools/run_tests.sh" "$logs/run_tests.log" \
    in_root /bin/bash -c "cd '$project' && tools/run_tests.sh" || true
  step "tools/main_job.sh" "$logs/main_job.log" \
    in_root /bin/bash -c "cd '$project' && tools/main_job.sh" || true
fi

echo "fresh_machine_check: commit $commit, fresh Debian 12 (logs in $logs)"
printf '%s\n' "${summary[@]}"
if [[ $failed -eq 0 ]]; then
  echo "fresh_machine_check: passed"
else
  echo "fresh_machine_check: FAILED"
fi
exit $failed
