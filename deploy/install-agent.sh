#!/bin/sh
# Installs (or upgrades, or with --uninstall removes) the remonitor agent as a systemd service.
#
#   curl -fsSL http://HUB:8080/install.sh | sh -s -- --node kitchen-pi --token TOKEN
#   sh install-agent.sh --bundle ./remonitor-agent.mjs --broker mqtt://hub.local:1883
#
# Needs Node.js 20 or newer on the node; nothing is compiled here. Re-running it upgrades the
# bundle and rewrites the config and unit in place. POSIX sh (tested with dash, Debian's /bin/sh).
set -eu

# The hub fills these in when it serves this script at /install.sh.
DEFAULT_HUB_URL=''
DEFAULT_BROKER_URL='mqtt://127.0.0.1:1883'

UNIT_NAME=remonitor-agent.service

usage() {
  cat <<EOF
usage: install-agent.sh [options]
  --node NAME       node name, 1-64 of A-Z a-z 0-9 . _ -   (default: this host's name)
  --broker URL      the hub's MQTT broker                  (default: ${DEFAULT_BROKER_URL})
  --token T         this node's credential: the agent's MQTT password (user name: the node name)
  --hub URL         download the agent bundle from URL/agent/remonitor-agent.mjs (default: ${DEFAULT_HUB_URL:-none})
  --bundle FILE     install this agent bundle instead of downloading it
  --interval D      sample interval such as 1s or 5s        (default: the agent's, 1s)
  --prefix DIR      install under DIR instead of /          (for tests and staging)
  --uninstall       stop the service and remove everything this script installed
  -h, --help        this text
EOF
}

die() {
  echo "remonitor install: $*" >&2
  exit 1
}

need_value() {
  [ "$2" -ge 2 ] || die "$1 needs a value (see --help)"
}

NODE_NAME=''
BROKER_URL=''
TOKEN=''
HUB_URL=''
BUNDLE=''
INTERVAL=''
PREFIX=''
UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --node) need_value "$1" $#; NODE_NAME=$2; shift 2 ;;
    --broker) need_value "$1" $#; BROKER_URL=$2; shift 2 ;;
    --token) need_value "$1" $#; TOKEN=$2; shift 2 ;;
    --hub) need_value "$1" $#; HUB_URL=$2; shift 2 ;;
    --bundle) need_value "$1" $#; BUNDLE=$2; shift 2 ;;
    --interval) need_value "$1" $#; INTERVAL=$2; shift 2 ;;
    --prefix) need_value "$1" $#; PREFIX=$2; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option \"$1\" (see --help)" ;;
  esac
done

# A prefix is made absolute: the unit written under it names real paths.
if [ -n "$PREFIX" ]; then
  mkdir -p "$PREFIX"
  PREFIX=$(cd "$PREFIX" && pwd)
fi
APP_DIR="$PREFIX/opt/remonitor"
BUNDLE_PATH="$APP_DIR/remonitor-agent.mjs"
CONF_DIR="$PREFIX/etc/remonitor"
CONF_PATH="$CONF_DIR/agent.json"
UNIT_DIR="$PREFIX/etc/systemd/system"
UNIT_PATH="$UNIT_DIR/$UNIT_NAME"

# Root writes /etc and /opt; a user without a prefix gets sudo for exactly those steps.
SUDO=''
if [ -z "$PREFIX" ] && [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "run this as root (writes /etc and /opt), or install sudo"
  SUDO=sudo
fi
as_root() {
  if [ -n "$SUDO" ]; then sudo "$@"; else "$@"; fi
}

HAVE_SYSTEMCTL=0
command -v systemctl >/dev/null 2>&1 && HAVE_SYSTEMCTL=1

if [ "$UNINSTALL" -eq 1 ]; then
  if [ "$HAVE_SYSTEMCTL" -eq 1 ]; then
    as_root systemctl disable --now "$UNIT_NAME" 2>/dev/null || true
  fi
  as_root rm -f "$UNIT_PATH" "$BUNDLE_PATH" "$CONF_PATH"
  # Only the folders this script made, and only when nothing else lives in them.
  as_root rmdir "$APP_DIR" "$CONF_DIR" 2>/dev/null || true
  as_root rm -rf "$PREFIX/var/lib/remonitor-agent" "$PREFIX/var/lib/private/remonitor-agent"
  [ "$HAVE_SYSTEMCTL" -eq 1 ] && as_root systemctl daemon-reload
  echo "remonitor agent removed"
  exit 0
fi

# Node.js 20 or newer, said plainly when missing: it is the one thing a node needs.
NODE_BIN=$(command -v node 2>/dev/null || true)
if [ -z "$NODE_BIN" ]; then
  die "Node.js 20 or newer is needed and \`node\` is not on PATH.
  Install it first, e.g. on Debian / Raspberry Pi OS:
    curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs
  (Debian 12's own nodejs package is version 18, too old.) Then run this again."
fi
NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node' 2>/dev/null || echo unknown)
if ! "$NODE_BIN" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  die "Node.js 20 or newer is needed; $NODE_BIN is version $NODE_VERSION. Upgrade it (https://nodejs.org) and run this again."
fi
case "$NODE_BIN" in
  /home/* | /root/*) echo "remonitor install: warning: $NODE_BIN is in a home folder, which the service (an unprivileged user) may not be able to read; a system-wide Node.js (/usr/bin/node) is safer" >&2 ;;
esac

# Settings, checked before anything is written. Values go into JSON, so quotes and backslashes are refused.
[ -n "$NODE_NAME" ] || NODE_NAME=$( (hostname 2>/dev/null || uname -n) | tr -c 'A-Za-z0-9._\n-' '-' | cut -c1-64)
[ -n "$NODE_NAME" ] || die "no --node given and the host name is empty"
case "$NODE_NAME" in
  *[!A-Za-z0-9._-]*) die "--node \"$NODE_NAME\": allowed are A-Z a-z 0-9 . _ - (1 to 64 characters)" ;;
esac
[ ${#NODE_NAME} -le 64 ] || die "--node \"$NODE_NAME\" is ${#NODE_NAME} characters long, the limit is 64"
[ -n "$BROKER_URL" ] || BROKER_URL=$DEFAULT_BROKER_URL
case "$BROKER_URL" in
  mqtt://* | mqtts://* | ws://* | wss://*) ;;
  *) die "--broker \"$BROKER_URL\": must be an mqtt://, mqtts://, ws:// or wss:// URL" ;;
esac
for value in "$BROKER_URL" "$TOKEN" "$INTERVAL"; do
  case "$value" in
    *'"'* | *'\'* | *' '*) die "a value contains a quote, backslash or space, which is not allowed: \"$value\"" ;;
  esac
done
[ -n "$HUB_URL" ] || HUB_URL=$DEFAULT_HUB_URL
if [ -z "$BUNDLE" ] && [ -z "$HUB_URL" ]; then
  die "say where the agent comes from: --hub http://HUB:8080 (downloads it) or --bundle FILE"
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# The bundle: a local file, or downloaded from the hub. Checked to parse before it replaces anything.
if [ -n "$BUNDLE" ]; then
  [ -f "$BUNDLE" ] || die "--bundle $BUNDLE: no such file"
  cp "$BUNDLE" "$TMP/remonitor-agent.mjs"
else
  url="${HUB_URL%/}/agent/remonitor-agent.mjs"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$url" -o "$TMP/remonitor-agent.mjs" || die "could not download $url (is the hub running and reachable from here?)"
  elif command -v wget >/dev/null 2>&1; then
    wget -qO "$TMP/remonitor-agent.mjs" "$url" || die "could not download $url (is the hub running and reachable from here?)"
  else
    die "neither curl nor wget is installed to download $url; copy the bundle over and use --bundle FILE"
  fi
fi
"$NODE_BIN" --check "$TMP/remonitor-agent.mjs" 2>/dev/null || die "the agent bundle does not parse as JavaScript (an error page instead of the bundle?)"

# The agent's --config file (the same keys as its flags). The token is the MQTT password, with the
# node name as user name (MQTT 3.1.1 allows no password without a user name [MQTT-3.1.2-22]).
# Security on the hub side decides what a token must be; until then the broker accepts any.
{
  printf '{\n  "broker": "%s",\n  "node": "%s"' "$BROKER_URL" "$NODE_NAME"
  [ -n "$TOKEN" ] && printf ',\n  "username": "%s",\n  "password": "%s"' "$NODE_NAME" "$TOKEN"
  [ -n "$INTERVAL" ] && printf ',\n  "interval": "%s"' "$INTERVAL"
  printf '\n}\n'
} >"$TMP/agent.json"

# The unit. systemd hands the root-only config to the service through its credentials directory,
# so the token is readable by root and the service's own (dynamic, unprivileged) user only.
cat >"$TMP/$UNIT_NAME" <<EOF
[Unit]
Description=remonitor agent: this machine's telemetry to the hub
Wants=network-online.target
After=network-online.target
# Keep retrying for as long as it takes the hub to come back.
StartLimitIntervalSec=0

[Service]
Type=simple
# The spool (samples kept until the hub acknowledges them) lives in the state directory.
# --lite-mode: V8 without its optimizing compilers, which the agent's few ms of work a second never
# repay; saves about 5 MiB of resident memory at the same CPU (bench/agent-process.ts).
# --no-expose-wasm: lite mode turns WebAssembly off anyway; saying so spares a warning at each start.
# --single-threaded-gc, --v8-pool-size=1: the heap is a few MiB, so V8 collects it on the main thread
# rather than waking helper threads for it: their CPU fell from about 0.45 to 0.15 ms a sample, and
# three thread stacks fewer are about 0.3 MiB of resident memory (bench/agent-process.ts).
ExecStart=$NODE_BIN --lite-mode --no-expose-wasm --single-threaded-gc --v8-pool-size=1 $BUNDLE_PATH --config \${CREDENTIALS_DIRECTORY}/agent.json --spool-dir \${STATE_DIRECTORY}/spool
LoadCredential=agent.json:$CONF_PATH
# A throwaway unprivileged user; implies ProtectSystem=strict, ProtectHome=read-only, PrivateTmp.
DynamicUser=yes
StateDirectory=remonitor-agent
NoNewPrivileges=yes
Restart=on-failure
RestartSec=5
# stdout/stderr are not a terminal here, so the agent logs JSON lines into the journal.
SyslogIdentifier=remonitor-agent

[Install]
WantedBy=multi-user.target
EOF

as_root mkdir -p "$APP_DIR" "$CONF_DIR" "$UNIT_DIR"
# Each file is replaced whole (write beside, then rename), so a running agent is never half-upgraded.
as_root cp "$TMP/remonitor-agent.mjs" "$BUNDLE_PATH.new"
as_root chmod 0644 "$BUNDLE_PATH.new"
as_root mv -f "$BUNDLE_PATH.new" "$BUNDLE_PATH"
as_root cp "$TMP/agent.json" "$CONF_PATH.new"
as_root chmod 0600 "$CONF_PATH.new"
as_root mv -f "$CONF_PATH.new" "$CONF_PATH"
as_root cp "$TMP/$UNIT_NAME" "$UNIT_PATH"
as_root chmod 0644 "$UNIT_PATH"

if [ "$HAVE_SYSTEMCTL" -eq 1 ]; then
  as_root systemctl daemon-reload
  as_root systemctl enable "$UNIT_NAME" >/dev/null 2>&1 || as_root systemctl enable "$UNIT_NAME"
  # restart, not start: a re-run picks up the new bundle and config.
  as_root systemctl restart "$UNIT_NAME"
  echo "remonitor agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL"
  echo "  status: systemctl status remonitor-agent    logs: journalctl -u remonitor-agent -f"
else
  echo "remonitor agent installed as node \"$NODE_NAME\", but systemctl was not found, so no service was started."
  echo "  run it yourself: $NODE_BIN $BUNDLE_PATH --config $CONF_PATH"
fi
