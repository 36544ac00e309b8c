#!/usr/bin/env bash
# Build mockhub's Docker image and prove it serves: health, a Portal call and a raw LOOKUP.
# (Docker image format: the OCI format has no HEALTHCHECK.)
#
# Works without a Docker engine or a registry: podman builds the image (chroot isolation),
# the Python base image is made with debootstrap from Debian packages, and the image's own
# command runs chrooted into the mounted image, as its user, with its environment, on the
# host network. Needs root. Usage: scripts/container-smoke.sh [--keep]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${MOCKHUB_SMOKE_DIR:-/var/tmp/mockhub-smoke}
image=localhost/mockhub:smoke
base=localhost/mockhub-base:bookworm
port=${MOCKHUB_SMOKE_PORT:-18080}
keep=${1:-}

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (podman build and chroot need it)"

say "tools"
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap >/dev/null
fi
podman --version
mkdir -p "$work"
# crun cannot set rlimits in this sandbox: build with no default ulimits.
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"

say "base image ($base)"
if ! podman image exists "$base"; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  mirror=${mirror:-http://deb.debian.org/debian}
  root="$work/rootfs"
  if [ ! -x "$root/usr/bin/python3" ]; then
    rm -rf "$root"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" \
      > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  fi
  tar -C "$root" -c . | podman import - "$base-raw" >/dev/null
  # This machine reaches PyPI through an intercepting proxy: its CA goes into the local base
  # image only. The project's Dockerfile stays as it must be for a normal python:*-slim base.
  cp /etc/ssl/certs/ca-certificates.crt "$work/host-ca.crt"
  printf 'FROM %s\nCOPY host-ca.crt /etc/ssl/certs/host-ca.crt\nENV PIP_CERT=/etc/ssl/certs/host-ca.crt\n' \
    "$base-raw" > "$work/Containerfile.base"
  podman build --isolation chroot -q -t "$base" -f "$work/Containerfile.base" "$work" >/dev/null
fi
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
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  mountpoint -q "$mnt/dev" && umount "$mnt/dev"
  mountpoint -q "$mnt/proc" && umount "$mnt/proc"
  podman image unmount "$image" >/dev/null 2>&1 || true
  [ "$keep" = --keep ] || podman rmi -f "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mount --bind /dev "$mnt/dev"
mount -t proc proc "$mnt/proc"
# The image's environment, with the smoke port.
mapfile -t env_lines < <(read_config "'\n'.join(c.get('Env') or [])")
env -i "${env_lines[@]}" MOCKHUB_PORT="$port" \
  chroot --userspec="$user" "$mnt" $entrypoint > "$work/serve.log" 2>&1 &
pid=$!

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$url/__mockhub/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; fail "the server exited"; }
  sleep 0.1
done
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
