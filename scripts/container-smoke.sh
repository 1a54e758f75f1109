#!/usr/bin/env bash
# End-to-end smoke test of the container image, run by hand (not by CI).
#
#   scripts/container-smoke.sh            build the image, then run it
#   SKIP_BUILD=1 scripts/container-smoke.sh   run the image already built
#
# What it does, all on 127.0.0.1:
#   1. builds the Dockerfile with run-image.sh (buildah; see ../shared/container/) as
#      $TAG, and prints the build time and the image size;
#   2. starts an ngircd (plain IRC, no TLS) on a free port with a generated config;
#   3. writes a config for it (network "local", channel #logbot, logs to /logs, plugin
#      data to /data) into a scratch directory, with logs/ and data/ beside it
#      (chmod 777: the image runs as uid 10001);
#   4. runs the image detached with podman (host network, config mounted read-only,
#      the image's default CMD), and an observer, carol, who waits for the bot;
#   5. runs a scripted conversation (scripts/irc_chat.py: alice and bob, messages, an
#      action, a [nolog] line, !ping answered by the bot, a nick change, a part);
#   6. probes the health check (podman healthcheck run, and `logbot health` inside the
#      container) and prints the network's samples of GET /metrics (port 9102);
#   7. stops the container (podman stop: SIGTERM), checks it exited 0 and that carol
#      saw the bot's QUIT, and prints the container's stderr and every file written
#      into the mounted logs/ and data/.
# Exit status 0 when all of that held. The scratch directory is kept (its path is
# printed); the container and ngircd are removed/stopped on exit.
#
# Needs: ngircd (apt-get install ngircd), python3, podman/buildah via run-image.sh.
# Environment:
#   RUN_IMAGE   path of run-image.sh (default: ../shared/container/run-image.sh
#               beside this repository)
#   TAG         image tag (default logbot:local)
#   SKIP_BUILD  1: do not build, use $TAG as it is
#   SCRATCH     scratch directory (default: a new mktemp -d under /tmp)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run_image=${RUN_IMAGE:-$repo/../shared/container/run-image.sh}
tag=${TAG:-logbot:local}
scratch=${SCRATCH:-$(mktemp -d /tmp/logbot-smoke.XXXXXX)}
name=logbot-smoke-$$
chat=(python3 "$repo/scripts/irc_chat.py")
ngircd_pid=
watch_pid=
status=0

step() { printf '\n### %s\n' "$*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
fail() { echo "FAILED: $*" >&2; status=1; }

cleanup() {
    podman rm -f "$name" >/dev/null 2>&1 || true
    [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null || true
    if [ -n "$ngircd_pid" ]; then
        kill "$ngircd_pid" 2>/dev/null || true
        wait "$ngircd_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

command -v ngircd >/dev/null || { echo "ngircd is not installed (apt-get install ngircd)" >&2; exit 1; }
[ -x "$run_image" ] || { echo "no run-image.sh at $run_image (set RUN_IMAGE)" >&2; exit 1; }
mkdir -p "$scratch"
echo "scratch directory: $scratch"

# --- 1. the image --------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    step "build ($tag)"
    # buildah's default OCI format drops HEALTHCHECK: build in Docker's format.
    t0=$(date +%s.%N)
    BUILDAH_FORMAT=docker "$run_image" build "$repo" "$tag" >"$scratch/build.log" 2>&1 \
        || { tail -30 "$scratch/build.log" >&2; exit 1; }
    echo "built in $(since "$t0") s (log: $scratch/build.log)"
fi
podman images --format 'table {{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' "$tag"
podman image inspect --format 'user={{.Config.User}} entrypoint={{.Config.Entrypoint}} cmd={{.Config.Cmd}} healthcheck={{.Config.Healthcheck}}' "$tag" 2>/dev/null || true

# --- 2. the IRC server ---------------------------------------------------------------
step "ngircd"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$scratch/ngircd.conf" <<EOF
[Global]
	Name = ngircd.smoke.test
	Info = logbot container smoke test
	Listen = 127.0.0.1
	Ports = $port
	PidFile = $scratch/ngircd.pid
[Limits]
	MaxConnectionsIP = 0
	MaxJoins = 100
	MaxPenaltyTime = 0
[Options]
	DNS = no
	Ident = no
	PAM = no
	RequireAuthPing = no
EOF
ngircd --nodaemon --passive --config "$scratch/ngircd.conf" >"$scratch/ngircd.log" 2>&1 &
ngircd_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
    || { cat "$scratch/ngircd.log" >&2; echo "ngircd did not start" >&2; exit 1; }
echo "ngircd $(ngircd --version | head -n 1 | awk '{print $2}') on 127.0.0.1:$port (pid $ngircd_pid)"

# --- 3. the bot's config and volumes -------------------------------------------------
mkdir -p "$scratch/config" "$scratch/logs" "$scratch/data"
chmod 777 "$scratch/logs" "$scratch/data"
cat >"$scratch/config/config.yaml" <<EOF
logging:
  root: /logs
  formats: [text, jsonl]
networks:
  - name: local
    servers: ["127.0.0.1:$port"]
    nick: logbot
    channels: ["#logbot"]
    quit_message: "logbot shutting down"
plugins:
  data_dir: /data
EOF
chmod 644 "$scratch/config/config.yaml"
step "config (/config/config.yaml)"
cat "$scratch/config/config.yaml"

# --- 4. the container ----------------------------------------------------------------
step "run"
# run-image.sh runs "podman run --rm --network host ...": --rm=false keeps the
# container after it stops, to read its exit code and its stderr.
"$run_image" run "$tag" --rm=false -d --name "$name" \
    -v "$scratch/config/config.yaml:/config/config.yaml:ro" \
    -v "$scratch/logs:/logs" -v "$scratch/data:/data"
started=$(date +%s.%N)
"${chat[@]}" watch --port "$port" --timeout 120 --ready "$scratch/watch.ready" \
    >"$scratch/watch.out" 2>&1 &
watch_pid=$!
for _ in $(seq 300); do
    [ -e "$scratch/watch.ready" ] && break
    podman container exists "$name" && [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] \
        || { podman logs "$name" >&2 || true; echo "the container stopped" >&2; exit 1; }
    sleep 0.1
done
[ -e "$scratch/watch.ready" ] || { cat "$scratch/watch.out" >&2; echo "the bot never joined" >&2; exit 1; }
echo "the bot is in #logbot $(since "$started") s after podman run"

# --- 5. the conversation -------------------------------------------------------------
step "conversation (scripts/irc_chat.py chat)"
"${chat[@]}" chat --port "$port" --timeout 60 || fail "the conversation"

# --- 6. the health check -------------------------------------------------------------
step "health"
if podman healthcheck run "$name"; then echo "podman healthcheck run: healthy"; else fail "podman healthcheck run (exit $?)"; fi
if podman exec "$name" logbot health; then echo "logbot health: exit 0"; else fail "logbot health (exit $?)"; fi
# the endpoint from the host (host network; the image listens on LOGBOT_HEALTH_PORT)
echo "GET /metrics (the network's samples):"
python3 - <<'PY' || fail "GET /metrics"
import urllib.request
body = urllib.request.urlopen("http://127.0.0.1:9102/metrics", timeout=5).read().decode()
for line in body.splitlines():
    if 'network="local"' in line:
        print("   ", line)
PY

# --- 7. stop ---------------------------------------------------------------------------
step "podman stop (SIGTERM)"
t0=$(date +%s.%N)
podman stop -t 20 "$name" >/dev/null
echo "stopped in $(since "$t0") s"
code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
echo "exit code: $code"
[ "$code" = 0 ] || fail "exit code $code"
if wait "$watch_pid"; then
    echo "carol saw: $(grep ' << ' "$scratch/watch.out" | grep -i ' QUIT ' | sed 's/^.* << //')"
else
    cat "$scratch/watch.out" >&2
    fail "carol did not see the bot's QUIT"
fi
watch_pid=

step "container stderr (podman logs)"
podman logs "$name" 2>&1

step "files in the mounted volumes"
(cd "$scratch" && find logs data -type f | LC_ALL=C sort) | while read -r f; do
    echo "== $f"
    case "$f" in
    *.gz) gzip -dc "$scratch/$f" ;;
    *) cat "$scratch/$f" ;;
    esac
done

step "result"
if [ "$status" = 0 ]; then echo "smoke test passed"; else echo "smoke test FAILED"; fi
exit "$status"
