#!/usr/bin/env bash
# Build mockhub's Docker image and prove it serves: health, a Portal call and a raw LOOKUP.
# (Docker image format: the OCI format has no HEALTHCHECK.)
#
# Works without a Docker engine or a registry: podman builds the image (chroot isolation),
# the Python base image is made with debootstrap from Debian packages, and the image's own
# command runs chrooted into the mounted image, as its user, with its environment, on the
# host network. Needs root. Usage: scripts/container-smoke.sh [--keep]
#
# Runs at once do not meet: each has its own work folder (mktemp), image tag and free port,
# and removes them on exit (--keep keeps the folder and the image); the Debian base image,
# shared, is built by one run at a time.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
base=localhost/mockhub-base:bookworm
base_lock=/var/tmp/mockhub-smoke-base.lock
port=${MOCKHUB_SMOKE_PORT:-0}
keep=${1:-}

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (podman build and chroot need it)"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/mockhub-smoke.XXXXXX")
image=localhost/mockhub:smoke-$$-$RANDOM
pid=
mnt=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi
  if [ -n "$mnt" ]; then
    mountpoint -q "$mnt/dev" && umount "$mnt/dev"
    mountpoint -q "$mnt/proc" && umount "$mnt/proc"
    podman image unmount "$image" >/dev/null 2>&1 || true
  fi
  if [ "$keep" = --keep ]; then
    echo "kept: image $image, work folder $work"
  else
    podman rmi -f "$image" >/dev/null 2>&1 || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT

say "tools"
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap >/dev/null
fi
podman --version
# crun cannot set rlimits in this sandbox: build with no default ulimits.
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"

say "base image ($base)"
exec 9>"$base_lock"
flock 9  # another run building it: wait, then use it
if ! podman image exists "$base"; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  mirror=${mirror:-http://deb.debian.org/debian}
  root="$work/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" \
    > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  tar -C "$root" -c . | podman import - "$base-raw" >/dev/null
  rm -rf "$root"
  # This machine reaches PyPI through an intercepting proxy: its CA goes into the local base
  # image only. The project's Dockerfile stays as it must be for a normal python:*-slim base.
  cp /etc/ssl/certs/ca-certificates.crt "$work/host-ca.crt"
  printf 'FROM %s\nCOPY host-ca.crt /etc/ssl/certs/host-ca.crt\nENV PIP_CERT=/etc/ssl/certs/host-ca.crt\n' \
    "$base-raw" > "$work/Containerfile.base"
  podman build --isolation chroot -q -t "$base" -f "$work/Containerfile.base" "$work" >/dev/null
fi
exec 9>&-  # the lock goes with its file descriptor
podman image inspect --format '{{.Id}}' "$base" | cut -c1-12

say "build $image from the project's Dockerfile"
podman build --isolation chroot --format docker -q --build-arg BASE_IMAGE="$base" -t "$image" "$here" | cut -c1-12

say "image config"
config=$(podman image inspect "$image" --format json)
read_config() { python3 -c "import json,sys; c=json.load(sys.stdin)[0]['Config']; print($1)" <<<"$config"; }
user=$(read_config "c.get('User', '')")
entrypoint=$(read_config "' '.join(c.get('Entrypoint') or [])")
healthcheck=$(podman image inspect "$image" --format '{{json .HealthCheck}}' 2>/dev/null || true)
echo "user: $user"
echo "entrypoint: $entrypoint"
echo "healthcheck: $healthcheck"
[ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "$user" != root ] || fail "the image must run as a non-root user"
case "$healthcheck" in *__mockhub/health*) ;; *) fail "no HEALTHCHECK on /__mockhub/health";; esac

say "run the image's command (chroot into the mounted image, as $user)"
mnt=$(podman image mount "$image")
mount --bind /dev "$mnt/dev"
mount -t proc proc "$mnt/proc"
# The image's environment, with the smoke port (0: a free one, which the banner names).
mapfile -t env_lines < <(read_config "'\n'.join(c.get('Env') or [])")
env -i "${env_lines[@]}" MOCKHUB_PORT="$port" \
  chroot --userspec="$user" "$mnt" $entrypoint > "$work/serve.log" 2>&1 &
pid=$!

url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^mockhub .* listening on \(http:[^ ]*\)$/\1/p' "$work/serve.log")
  [ -n "$url" ] && curl -fsS "$url/__mockhub/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; fail "the server exited"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/serve.log"; fail "the server printed no URL"; }
head -n 5 "$work/serve.log"

say "checks from outside"
health=$(curl -fsS "$url/__mockhub/health")
echo "GET /__mockhub/health -> $health"
[[ "$health" == *'"status":"ok"'* ]] || fail "health"

hubs=$(curl -fsS -H 'Authorization: Bearer mockhub-dev-token' "$url/api/v1/hubs?pageSize=1")
echo "GET /api/v1/hubs?pageSize=1 -> ${hubs:0:120}..."
[[ "$hubs" == *'"pageSize":1'* && "$hubs" == *'"total":3'* ]] || fail "Portal hubs"

unauthorized=$(curl -sS -o /dev/null -w '%{http_code}' "$url/api/v1/hubs")
echo "GET /api/v1/hubs without a token -> $unauthorized"
[ "$unauthorized" = 401 ] || fail "401 without a token"

lookup=$(curl -fsS -X LOOKUP -H 'Content-Type: application/json' -d '"ABCDE"' "$url/rest/v1/service/integration_points")
echo "LOOKUP /rest/v1/service/integration_points \"ABCDE\" -> $lookup"
[ "$lookup" = '["b4680fbe-016c-d86f-1d6b-50e54938780c"]' ] || fail "LOOKUP"

# env and chroot exec into the server, so $pid is the server process itself.
uid=$(stat -c %u "/proc/$pid")
echo "server process runs as uid $uid"
[ "$uid" = "${user%%:*}" ] && [ "$uid" != 0 ] || fail "the server must run as the image's non-root user"

say "container smoke test passed"
