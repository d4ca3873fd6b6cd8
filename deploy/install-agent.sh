#!/bin/sh
# Installs (or upgrades, or with --uninstall removes) the remonitor agent as a systemd service.
#
#   curl -fsSL http://HUB:8080/install.sh | sh -s -- --node kitchen-pi --token TOKEN
#   sh install-agent.sh --bundle ./remonitor-agent.mjs --broker mqtt://hub.local:1883
#
# Needs Node.js 18.15 or newer on the node (Raspberry Pi OS and Debian 12 ship 18.19 and up);
# nothing is compiled here. Re-running it upgrades the bundle and rewrites the config and unit in
# place. Where systemd is not running (a container, a chroot, a CI runner) it installs the files,
# starts nothing and says how to run the agent; --foreground runs it at once instead.
# POSIX sh (tested with dash, Debian's /bin/sh).
set -eu

# The oldest Node.js the agent bundle loads on: it imports statfsSync from node:fs (18.15) and
# parseArgs from node:util (18.3), and a missing named import stops the whole bundle at load.
NODE_MIN=18.15.0

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
  --prefix DIR      install under DIR instead of /, and leave the host's systemd alone (staging an image)
  --shell           the agent as a shell script instead (no Node.js: busybox or bash, and mosquitto_pub);
                    --bundle FILE then names the script, else it comes from URL/agent/remonitor-agent.sh
  --foreground      no service: install the bundle and config, then run the agent here until Ctrl-C
                    (for containers and CI runners, where systemd is not running)
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
FOREGROUND=0
SHELL_AGENT=0
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
    --foreground) FOREGROUND=1; shift ;;
    --shell) SHELL_AGENT=1; shift ;;
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
# Installed as .cjs, so Node runs it as CommonJS (see the unit); installs before kept it as .mjs.
BUNDLE_PATH="$APP_DIR/remonitor-agent.cjs"
OLD_BUNDLE_PATH="$APP_DIR/remonitor-agent.mjs"
CONF_DIR="$PREFIX/etc/remonitor"
CONF_PATH="$CONF_DIR/agent.json"
UNIT_DIR="$PREFIX/etc/systemd/system"
UNIT_PATH="$UNIT_DIR/$UNIT_NAME"
# What `systemctl enable` makes, made by hand where systemctl cannot be asked (see SYSTEMD below).
WANTS_LINK="$UNIT_DIR/multi-user.target.wants/$UNIT_NAME"
# The unit's StateDirectory=, and the spool's home in --foreground mode.
STATE_DIR="$PREFIX/var/lib/remonitor-agent"
# The shell agent's (--shell): the script, its settings, and OpenWrt's init script.
SHELL_SCRIPT_PATH="$APP_DIR/remonitor-agent.sh"
ENV_PATH="$CONF_DIR/agent.env"
INIT_PATH="$PREFIX/etc/init.d/remonitor-agent"

# Root writes /etc and /opt; a user without a prefix gets sudo for exactly those steps.
SUDO=''
if [ -z "$PREFIX" ] && [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "run this as root (writes /etc and /opt), or install sudo"
  SUDO=sudo
fi
as_root() {
  if [ -n "$SUDO" ]; then sudo "$@"; else "$@"; fi
}

# How the service is handled: `host` asks the running systemd (systemctl); `offline` writes the unit
# and enables it by hand, for the next boot with systemd (a prefix, a chroot, a container that
# has systemctl but was not booted with systemd); `none` has no systemd at all, so no unit.
# /run/systemd/system exists exactly when systemd is PID 1 (sd_booted(3)).
if [ -n "$PREFIX" ]; then
  SYSTEMD=offline
elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  SYSTEMD=host
elif command -v systemctl >/dev/null 2>&1; then
  SYSTEMD=offline
else
  SYSTEMD=none
fi

if [ "$UNINSTALL" -eq 1 ]; then
  [ "$SYSTEMD" = host ] && { as_root systemctl disable --now "$UNIT_NAME" 2>/dev/null || true; }
  if [ -x "$INIT_PATH" ] && [ -z "$PREFIX" ]; then as_root "$INIT_PATH" disable 2>/dev/null || true; as_root "$INIT_PATH" stop 2>/dev/null || true; fi
  as_root rm -f "$UNIT_PATH" "$WANTS_LINK" "$BUNDLE_PATH" "$OLD_BUNDLE_PATH" "$CONF_PATH" "$SHELL_SCRIPT_PATH" "$ENV_PATH" "$INIT_PATH"
  # Only the folders this script made, and only when nothing else lives in them.
  as_root rmdir "$APP_DIR" "$CONF_DIR" "$(dirname "$WANTS_LINK")" 2>/dev/null || true
  as_root rm -rf "$STATE_DIR" "$PREFIX/var/lib/private/remonitor-agent"
  [ "$SYSTEMD" = host ] && as_root systemctl daemon-reload
  echo "remonitor agent removed"
  exit 0
fi

# `version_at_least 18.20.4 18.15.0`: whether a major.minor.patch version is at least another.
version_at_least() {
  have=$1 need=$2
  case "$have" in '' | *[!0-9.]* | .* | *..* | *.) return 1 ;; esac
  for _ in 1 2 3; do
    h=${have%%.*} n=${need%%.*}
    [ "${h:-0}" -gt "$n" ] && return 0
    [ "${h:-0}" -lt "$n" ] && return 1
    case "$have" in *.*) have=${have#*.} ;; *) have=0 ;; esac
    need=${need#*.}
  done
  return 0
}

# Node.js, said plainly when missing or too old: it is the one thing a node needs.
NODE_HOWTO="  Raspberry Pi OS, Debian 12 (bookworm), Ubuntu 24.04: sudo apt install nodejs   (Node.js 18, enough)
    run sudo apt update first: Debian 12 came out with Node.js 18.13, too old; its updates bring 18.19 and up
  Newer, from NodeSource: curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs
  Pi Zero / Pi 1 (armv6l): nodejs.org and NodeSource have no armv6 builds; if apt's nodejs does not run there,
    use an unofficial build: https://unofficial-builds.nodejs.org/download/release/ (node-v22.*-linux-armv6l.tar.xz,
    unpacked into /usr/local)
  Then run this again.
  No Node.js for this machine (a Pi Zero, a router, a NAS)? Add --shell: the agent as a shell script,
    which needs mosquitto_pub (apt install mosquitto-clients) and busybox or bash."
if [ "$SHELL_AGENT" -eq 0 ]; then
  NODE_BIN=$(command -v node 2>/dev/null || true)
  [ -n "$NODE_BIN" ] || die "the agent needs Node.js $NODE_MIN or newer, and \`node\` is not on PATH. Install it:
$NODE_HOWTO"
  NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node' 2>/dev/null || echo unknown)
  version_at_least "$NODE_VERSION" "$NODE_MIN" || die "the agent needs Node.js $NODE_MIN or newer; $NODE_BIN is version $NODE_VERSION. Upgrade it:
$NODE_HOWTO"
  case "$NODE_BIN" in
    /home/* | /root/*) echo "remonitor install: warning: $NODE_BIN is in a home folder, which the service (an unprivileged user) may not be able to read; a system-wide Node.js (/usr/bin/node) is safer" >&2 ;;
  esac
fi

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

# --shell: the agent as a shell script (deploy/remonitor-agent.sh), for machines without Node.js (a
# Pi Zero, a router, a NAS). Its settings go into an environment file of REMONITOR_* variables,
# root only, which systemd (EnvironmentFile=) or OpenWrt's procd init script hands to it. The same
# unit name as the Node agent's: one agent a node, and --uninstall removes either.
if [ "$SHELL_AGENT" -eq 1 ]; then
  case "$BROKER_URL" in
    ws://* | wss://*) die "--broker \"$BROKER_URL\": the shell agent speaks MQTT over TCP (mosquitto_pub); give the hub's mqtt:// or mqtts:// address" ;;
  esac
  command -v mosquitto_pub >/dev/null 2>&1 || die "the shell agent publishes with mosquitto_pub, which is not installed:
  Debian, Raspberry Pi OS: sudo apt install mosquitto-clients
  OpenWrt: opkg update && opkg install mosquitto-client-ssl
  Then run this again."
  command -v busybox >/dev/null 2>&1 || command -v bash >/dev/null 2>&1 || die "the shell agent runs under busybox sh or bash, and neither is installed (Debian: sudo apt install busybox)"
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT INT TERM
  if [ -n "$BUNDLE" ]; then
    [ -f "$BUNDLE" ] || die "--bundle $BUNDLE: no such file"
    cp "$BUNDLE" "$TMP/remonitor-agent.sh"
  else
    url="${HUB_URL%/}/agent/remonitor-agent.sh"
    if command -v curl >/dev/null 2>&1; then
      curl -fsSL "$url" -o "$TMP/remonitor-agent.sh" || die "could not download $url (is the hub running and reachable from here?)"
    elif command -v wget >/dev/null 2>&1; then
      wget -qO "$TMP/remonitor-agent.sh" "$url" || die "could not download $url (is the hub running and reachable from here?)"
    else
      die "neither curl nor wget is installed to download $url; copy the script over and use --bundle FILE"
    fi
  fi
  sh -n "$TMP/remonitor-agent.sh" 2>/dev/null || die "the shell agent does not parse as a shell script (an error page instead of the script?)"
  {
    echo "REMONITOR_BROKER=$BROKER_URL"
    echo "REMONITOR_NODE=$NODE_NAME"
    if [ -n "$TOKEN" ]; then printf 'REMONITOR_USERNAME=%s\nREMONITOR_PASSWORD=%s\n' "$NODE_NAME" "$TOKEN"; fi
    if [ -n "$INTERVAL" ]; then echo "REMONITOR_INTERVAL=$INTERVAL"; fi
  } >"$TMP/agent.env"
  as_root mkdir -p "$APP_DIR" "$CONF_DIR"
  as_root cp "$TMP/remonitor-agent.sh" "$SHELL_SCRIPT_PATH.new"
  as_root chmod 0755 "$SHELL_SCRIPT_PATH.new"
  as_root mv -f "$SHELL_SCRIPT_PATH.new" "$SHELL_SCRIPT_PATH"
  as_root cp "$TMP/agent.env" "$ENV_PATH.new"
  as_root chmod 0600 "$ENV_PATH.new"
  as_root mv -f "$ENV_PATH.new" "$ENV_PATH"
  as_root rm -f "$BUNDLE_PATH" "$OLD_BUNDLE_PATH" "$CONF_PATH" # the Node agent's, from an earlier install
  RUN_AS=''
  [ -n "$SUDO" ] && RUN_AS='sudo '
  RUN_LINE="${RUN_AS}sh -c 'set -a; . $ENV_PATH; exec /bin/sh $SHELL_SCRIPT_PATH'"
  if [ "$FOREGROUND" -eq 1 ]; then
    echo "remonitor shell agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL; running it in the foreground (Ctrl-C stops it):"
    echo "  $RUN_LINE"
    rm -rf "$TMP"
    trap - EXIT INT TERM
    as_root sh -c 'set -a; . "$1"; exec /bin/sh "$2"' sh "$ENV_PATH" "$SHELL_SCRIPT_PATH"
    exit $?
  fi
  # OpenWrt: a procd init script (deploy/remonitor-agent.init) instead of a unit.
  if [ -z "$PREFIX" ] && [ -f /etc/rc.common ] && [ -x /sbin/procd ]; then
    cat >"$TMP/init" <<EOF
#!/bin/sh /etc/rc.common
# remonitor shell agent under procd, written by install-agent.sh --shell; settings in $ENV_PATH.
USE_PROCD=1
START=99
STOP=10

start_service() {
	procd_open_instance
	procd_set_param command /bin/sh $SHELL_SCRIPT_PATH
	procd_set_param env \$(grep '^REMONITOR_[A-Z_]*=' $ENV_PATH)
	procd_set_param respawn 3600 5 0
	procd_set_param stdout 1
	procd_set_param stderr 1
	procd_close_instance
}
EOF
    as_root cp "$TMP/init" "$INIT_PATH"
    as_root chmod 0755 "$INIT_PATH"
    as_root "$INIT_PATH" enable
    as_root "$INIT_PATH" restart
    echo "remonitor shell agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL (procd service remonitor-agent)"
    echo "  logs: logread -e remonitor"
    exit 0
  fi
  cat >"$TMP/$UNIT_NAME" <<EOF
[Unit]
Description=remonitor agent (shell, no Node.js): this machine's telemetry to the hub
Wants=network-online.target
After=network-online.target
# Keep retrying for as long as it takes the hub to come back.
StartLimitIntervalSec=0

[Service]
Type=simple
# REMONITOR_BROKER, _NODE, _USERNAME, _PASSWORD, _INTERVAL; the file is root's, read by systemd.
EnvironmentFile=$ENV_PATH
# /bin/sh: the script starts itself again under busybox or bash where /bin/sh is dash.
ExecStart=/bin/sh $SHELL_SCRIPT_PATH
# A throwaway unprivileged user; implies ProtectSystem=strict, ProtectHome=read-only, PrivateTmp.
DynamicUser=yes
NoNewPrivileges=yes
Restart=on-failure
RestartSec=5
# Exit 2 is a bad setting: starting again would not mend it.
RestartPreventExitStatus=2
SyslogIdentifier=remonitor-agent

[Install]
WantedBy=multi-user.target
EOF
  if [ "$SYSTEMD" != none ]; then
    as_root mkdir -p "$UNIT_DIR"
    as_root cp "$TMP/$UNIT_NAME" "$UNIT_PATH"
    as_root chmod 0644 "$UNIT_PATH"
  fi
  case "$SYSTEMD" in
    host)
      as_root systemctl daemon-reload
      as_root systemctl enable "$UNIT_NAME" >/dev/null 2>&1 || as_root systemctl enable "$UNIT_NAME"
      as_root systemctl restart "$UNIT_NAME"
      echo "remonitor shell agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL"
      echo "  status: systemctl status remonitor-agent    logs: journalctl -u remonitor-agent -f"
      ;;
    offline)
      as_root mkdir -p "$(dirname "$WANTS_LINK")"
      as_root ln -sfn "../$UNIT_NAME" "$WANTS_LINK"
      echo "remonitor shell agent installed${PREFIX:+ under $PREFIX} as node \"$NODE_NAME\", publishing to $BROKER_URL; no service was started (systemd is not running here, or --prefix)."
      echo "  the unit is enabled for the next boot with systemd; to run the agent now: $RUN_LINE"
      ;;
    none)
      echo "remonitor shell agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL, but this system has no systemd (nor procd), so no service"
      echo "was installed. Run it with your init system or in the foreground: $RUN_LINE"
      ;;
  esac
  exit 0
fi

echo "remonitor install: the agent will run on Node.js $NODE_VERSION ($NODE_BIN)"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# The bundle: a local file, or downloaded from the hub. Checked to parse before it replaces anything.
if [ -n "$BUNDLE" ]; then
  [ -f "$BUNDLE" ] || die "--bundle $BUNDLE: no such file"
  cp "$BUNDLE" "$TMP/remonitor-agent.cjs"
else
  url="${HUB_URL%/}/agent/remonitor-agent.mjs"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$url" -o "$TMP/remonitor-agent.cjs" || die "could not download $url (is the hub running and reachable from here?)"
  elif command -v wget >/dev/null 2>&1; then
    wget -qO "$TMP/remonitor-agent.cjs" "$url" || die "could not download $url (is the hub running and reachable from here?)"
  else
    die "neither curl nor wget is installed to download $url; copy the bundle over and use --bundle FILE"
  fi
fi
"$NODE_BIN" --check "$TMP/remonitor-agent.cjs" 2>/dev/null || die "the agent bundle does not parse as a CommonJS script (an error page instead of the bundle, or a bundle older than this script?)"

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
# The bundle runs as CommonJS (.cjs): an ES module entry would load Node's ES module loader, about
# 1.8 MiB of resident memory for the life of the agent (the same file runs as an ES module too).
# MALLOC_MMAP_THRESHOLD_: blocks of 32 KiB and up get pages of their own, returned when freed. Without
# it, what V8 parses the bundle in at start is freed into the middle of malloc's heap and stays
# resident, about 3 MiB (bench/agent-cost.ts).
Environment=MALLOC_MMAP_THRESHOLD_=32768
ExecStart=$NODE_BIN --lite-mode --no-expose-wasm --single-threaded-gc --v8-pool-size=1 $BUNDLE_PATH --config \${CREDENTIALS_DIRECTORY}/agent.json --spool-dir \${STATE_DIRECTORY}/spool
LoadCredential=agent.json:$CONF_PATH
# A throwaway unprivileged user; implies ProtectSystem=strict, ProtectHome=read-only, PrivateTmp.
DynamicUser=yes
StateDirectory=remonitor-agent
# /run/remonitor-agent (RAM): while the hub link is up, samples it has not acknowledged yet wait here,
# not on the SD card; kept across a restart after a crash, so a killed agent sends them on its return.
RuntimeDirectory=remonitor-agent
RuntimeDirectoryPreserve=restart
NoNewPrivileges=yes
Restart=on-failure
RestartSec=5
# stdout/stderr are not a terminal here, so the agent logs JSON lines into the journal.
SyslogIdentifier=remonitor-agent

[Install]
WantedBy=multi-user.target
EOF

# The agent run by hand, as root: the config is root-only. The spool goes where the unit keeps it.
RUN_AS=''
[ -n "$SUDO" ] && RUN_AS='sudo '
RUN_LINE="$RUN_AS$NODE_BIN $BUNDLE_PATH --config $CONF_PATH --spool-dir $STATE_DIR/spool"

if [ "$FOREGROUND" -eq 1 ] && [ "$SYSTEMD" = host ] && systemctl is-active --quiet "$UNIT_NAME" 2>/dev/null; then
  die "remonitor-agent.service is running on this host; a second agent here would share its spool. Stop it first (sudo systemctl disable --now remonitor-agent), or leave out --foreground to upgrade it"
fi

as_root mkdir -p "$APP_DIR" "$CONF_DIR"
# Each file is replaced whole (write beside, then rename), so a running agent is never half-upgraded.
as_root cp "$TMP/remonitor-agent.cjs" "$BUNDLE_PATH.new"
as_root chmod 0644 "$BUNDLE_PATH.new"
as_root mv -f "$BUNDLE_PATH.new" "$BUNDLE_PATH"
as_root rm -f "$OLD_BUNDLE_PATH"
as_root cp "$TMP/agent.json" "$CONF_PATH.new"
as_root chmod 0600 "$CONF_PATH.new"
as_root mv -f "$CONF_PATH.new" "$CONF_PATH"

if [ "$FOREGROUND" -eq 1 ]; then
  as_root mkdir -p "$STATE_DIR"
  echo "remonitor agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL; running it in the foreground (Ctrl-C stops it):"
  echo "  $RUN_LINE"
  rm -rf "$TMP"
  trap - EXIT INT TERM
  if [ -n "$SUDO" ]; then
    exec sudo "$NODE_BIN" "$BUNDLE_PATH" --config "$CONF_PATH" --spool-dir "$STATE_DIR/spool"
  fi
  exec "$NODE_BIN" "$BUNDLE_PATH" --config "$CONF_PATH" --spool-dir "$STATE_DIR/spool"
fi

if [ "$SYSTEMD" != none ]; then
  as_root mkdir -p "$UNIT_DIR"
  as_root cp "$TMP/$UNIT_NAME" "$UNIT_PATH"
  as_root chmod 0644 "$UNIT_PATH"
fi

case "$SYSTEMD" in
  host)
    as_root systemctl daemon-reload
    as_root systemctl enable "$UNIT_NAME" >/dev/null 2>&1 || as_root systemctl enable "$UNIT_NAME"
    # restart, not start: a re-run picks up the new bundle and config.
    as_root systemctl restart "$UNIT_NAME"
    echo "remonitor agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL"
    echo "  status: systemctl status remonitor-agent    logs: journalctl -u remonitor-agent -f"
    ;;
  offline)
    # Enabled as `systemctl enable` would (a link in the target's .wants), for the next boot with systemd.
    as_root mkdir -p "$(dirname "$WANTS_LINK")"
    as_root ln -sfn "../$UNIT_NAME" "$WANTS_LINK"
    if [ -n "$PREFIX" ]; then
      echo "remonitor agent installed under $PREFIX as node \"$NODE_NAME\", publishing to $BROKER_URL; the host's systemd was left alone (--prefix)."
      echo "  the unit is enabled for a system booted from $PREFIX; to run the agent now: $RUN_LINE"
    else
      echo "remonitor agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL, but systemd is not running here"
      echo "(a container, a chroot or a CI runner?), so no service was started; the unit is enabled for the next boot with systemd."
      echo "  run the agent now, in the foreground: $RUN_LINE"
      echo "  or run this script again with --foreground"
    fi
    ;;
  none)
    echo "remonitor agent installed as node \"$NODE_NAME\", publishing to $BROKER_URL, but this system has no systemd, so no service"
    echo "was installed. Run the agent with your init system or in the foreground: $RUN_LINE"
    echo "  (or run this script again with --foreground)"
    ;;
esac
