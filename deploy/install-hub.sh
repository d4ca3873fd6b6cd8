#!/bin/sh
# Installs (or upgrades, or with --uninstall removes) the remonitor hub as a systemd service,
# from a checkout where `npm install` has run (it builds dist/ and compiles better-sqlite3):
#
#   git clone … remonitor && cd remonitor && npm install && sudo sh deploy/install-hub.sh
#
# The service runs `remonitor up` (embedded broker + hub + dashboard + an agent for this machine)
# as an unprivileged dynamic user, with its data in /var/lib/remonitor; `remonitor` on PATH
# (/usr/local/bin) is the same program, pointed at that data. POSIX sh.
set -eu

UNIT_NAME=remonitor-hub.service

usage() {
  cat <<EOF
usage: install-hub.sh [options]
  --source DIR      the built checkout to install from   (default: the one holding this script)
  --http-port N     dashboard and API port                (default 8080)
  --mqtt-port N     MQTT port of the embedded broker      (default 1883)
  --host ADDR       address to listen on                  (default 0.0.0.0: reachable by the fleet)
  --prefix DIR      install under DIR instead of /, and leave the host's systemd alone (staging an image)
  --uninstall       stop the service and remove the program and unit (the data stays)
  -h, --help        this text
EOF
}

die() {
  echo "remonitor install-hub: $*" >&2
  exit 1
}

need_value() {
  [ "$2" -ge 2 ] || die "$1 needs a value (see --help)"
}

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
HTTP_PORT=8080
MQTT_PORT=1883
HOST=0.0.0.0
PREFIX=''
UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --source) need_value "$1" $#; SOURCE=$2; shift 2 ;;
    --http-port) need_value "$1" $#; HTTP_PORT=$2; shift 2 ;;
    --mqtt-port) need_value "$1" $#; MQTT_PORT=$2; shift 2 ;;
    --host) need_value "$1" $#; HOST=$2; shift 2 ;;
    --prefix) need_value "$1" $#; PREFIX=$2; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option \"$1\" (see --help)" ;;
  esac
done
for port in "$HTTP_PORT" "$MQTT_PORT"; do
  case "$port" in
    '' | *[!0-9]*) die "port \"$port\" must be a number 0-65535" ;;
  esac
  [ "$port" -le 65535 ] || die "port \"$port\" must be a number 0-65535"
done
case "$HOST" in
  *[!A-Za-z0-9.:-]* | '') die "--host \"$HOST\" must be an address such as 0.0.0.0 or 192.168.1.10" ;;
esac

if [ -n "$PREFIX" ]; then
  mkdir -p "$PREFIX"
  PREFIX=$(cd "$PREFIX" && pwd)
fi
APP_DIR="$PREFIX/opt/remonitor-hub"
CONF_DIR="$PREFIX/etc/remonitor"
CONF_PATH="$CONF_DIR/hub.json"
UNIT_DIR="$PREFIX/etc/systemd/system"
UNIT_PATH="$UNIT_DIR/$UNIT_NAME"
# What `systemctl enable` makes, made by hand where systemctl cannot be asked (see SYSTEMD below).
WANTS_LINK="$UNIT_DIR/multi-user.target.wants/$UNIT_NAME"
# The unit's StateDirectory=.
DATA_DIR="$PREFIX/var/lib/remonitor"
# `remonitor` on PATH: a wrapper, so it runs with the hub's Node.js and data directory.
CLI_PATH="$PREFIX/usr/local/bin/remonitor"
CLI_MARK='# remonitor, as installed by install-hub.sh'

if [ -z "$PREFIX" ] && [ "$(id -u)" -ne 0 ]; then
  die "run this as root (sudo sh $0 …): it writes /opt, /etc, /usr/local/bin and a systemd unit"
fi

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

# Only our own wrapper is replaced or removed: another `remonitor` there (npm install -g) stays.
ours_on_path() {
  [ ! -e "$CLI_PATH" ] || grep -qxF "$CLI_MARK" "$CLI_PATH" 2>/dev/null
}

if [ "$UNINSTALL" -eq 1 ]; then
  [ "$SYSTEMD" = host ] && { systemctl disable --now "$UNIT_NAME" 2>/dev/null || true; }
  rm -rf "$APP_DIR"
  rm -f "$UNIT_PATH" "$WANTS_LINK" "$CONF_PATH"
  ours_on_path && rm -f "$CLI_PATH"
  rmdir "$CONF_DIR" "$(dirname "$WANTS_LINK")" 2>/dev/null || true
  [ "$SYSTEMD" = host ] && systemctl daemon-reload
  echo "remonitor hub removed; its data stays in $DATA_DIR (delete it yourself if you want)"
  exit 0
fi

# `version_at_least 20.19.2 20.19.0`: whether a major.minor.patch version is at least another.
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

# The hub's minimum is package.json's "engines" (">=20.19"), made major.minor.patch.
NODE_MIN=$(sed -n 's/^ *"node": *">=\([0-9.]*\)".*/\1/p' "$SOURCE/package.json" 2>/dev/null | head -n 1)
[ -n "$NODE_MIN" ] || die "$SOURCE/package.json names no \"engines\": { \"node\": \">=X.Y\" }: is --source a remonitor checkout?"
case "$NODE_MIN" in *.*.*) ;; *.*) NODE_MIN="$NODE_MIN.0" ;; *) NODE_MIN="$NODE_MIN.0.0" ;; esac
NODE_HOWTO="  Debian, Raspberry Pi OS, Ubuntu, from NodeSource: curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs
  (apt's own nodejs on Debian 12 and Raspberry Pi OS is 18: enough for an agent, too old for the hub.) Then run this again."
NODE_BIN=$(command -v node 2>/dev/null || true)
[ -n "$NODE_BIN" ] || die "the hub needs Node.js $NODE_MIN or newer, and \`node\` is not on PATH. Install it:
$NODE_HOWTO"
NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node' 2>/dev/null || echo unknown)
version_at_least "$NODE_VERSION" "$NODE_MIN" || die "the hub needs Node.js $NODE_MIN or newer; $NODE_BIN is version $NODE_VERSION. Upgrade it:
$NODE_HOWTO"

# What the hub reads at run time: the same list as the Dockerfile's runtime stage.
[ -f "$SOURCE/dist/remonitor.mjs" ] || die "$SOURCE/dist/remonitor.mjs is missing: run \`npm install\` (or \`npm run build\`) in $SOURCE first"
[ -d "$SOURCE/node_modules/better-sqlite3" ] || die "$SOURCE/node_modules is missing: run \`npm install\` in $SOURCE first (it needs python3, make and g++ when no prebuilt better-sqlite3 fits)"

rm -rf "$APP_DIR.new"
mkdir -p "$APP_DIR.new/hub/storage/sqlite" "$APP_DIR.new/web" "$APP_DIR.new/deploy" "$CONF_DIR"
cp -R "$SOURCE/dist" "$SOURCE/bin" "$SOURCE/node_modules" "$SOURCE/package.json" "$APP_DIR.new/"
cp -R "$SOURCE/hub/storage/sqlite/migrations" "$APP_DIR.new/hub/storage/sqlite/"
cp -R "$SOURCE/web/public" "$APP_DIR.new/web/"
cp "$SOURCE/deploy/install-agent.sh" "$APP_DIR.new/deploy/"
# Development packages (compiler, test runner, browser driver) are not needed to run.
if command -v npm >/dev/null 2>&1 && [ -f "$SOURCE/package-lock.json" ]; then
  cp "$SOURCE/package-lock.json" "$APP_DIR.new/"
  (cd "$APP_DIR.new" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null 2>&1) || echo "remonitor install-hub: npm prune failed; development packages stay installed" >&2
fi
# Swap the program folder whole, so that a restart never sees half an upgrade.
rm -rf "$APP_DIR.old"
[ -d "$APP_DIR" ] && mv "$APP_DIR" "$APP_DIR.old"
mv "$APP_DIR.new" "$APP_DIR"
rm -rf "$APP_DIR.old"

# Options of `remonitor up`, the same keys as its flags (`remonitor up --help`).
printf '{\n  "host": "%s",\n  "http-port": %s,\n  "mqtt-port": %s\n}\n' "$HOST" "$HTTP_PORT" "$MQTT_PORT" >"$CONF_PATH"
chmod 0644 "$CONF_PATH"

# `remonitor` on PATH, the README's next step (`sudo remonitor node add NAME`).
if ours_on_path; then
  mkdir -p "$(dirname "$CLI_PATH")"
  cat >"$CLI_PATH.new" <<EOF
#!/bin/sh
$CLI_MARK
# The hub's own program and Node.js, and by default the installed hub's data directory
# (--data-dir or REMONITOR_DATA_DIR still choose another).
REMONITOR_DATA_DIR=\${REMONITOR_DATA_DIR:-$DATA_DIR}
export REMONITOR_DATA_DIR
exec $NODE_BIN $APP_DIR/bin/remonitor.mjs "\$@"
EOF
  chmod 0755 "$CLI_PATH.new"
  mv -f "$CLI_PATH.new" "$CLI_PATH"
else
  echo "remonitor install-hub: $CLI_PATH is another program, left as it is; this hub's command is $NODE_BIN $APP_DIR/bin/remonitor.mjs" >&2
fi
RUN_LINE="$NODE_BIN $APP_DIR/bin/remonitor.mjs up --config $CONF_PATH --data-dir $DATA_DIR"

UNIT_TMP=$(mktemp)
trap 'rm -f "$UNIT_TMP"' EXIT INT TERM
cat >"$UNIT_TMP" <<EOF
[Unit]
Description=remonitor hub: MQTT broker, ingest into SQLite, dashboard
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
WorkingDirectory=$APP_DIR
ExecStart=$NODE_BIN $APP_DIR/bin/remonitor.mjs up --config $CONF_PATH --data-dir \${STATE_DIRECTORY}
# A throwaway unprivileged user; its data lives in /var/lib/remonitor (StateDirectory).
DynamicUser=yes
StateDirectory=remonitor
# Private to the hub: auth.db holds password hashes and the cookie secret.
StateDirectoryMode=0700
NoNewPrivileges=yes
Restart=on-failure
RestartSec=5
# SIGTERM stores what is pending and closes the database; give it time on a slow SD card.
TimeoutStopSec=30
# Not a terminal: JSON log lines into the journal.
SyslogIdentifier=remonitor-hub

[Install]
WantedBy=multi-user.target
EOF
if [ "$SYSTEMD" != none ]; then
  mkdir -p "$UNIT_DIR"
  cp "$UNIT_TMP" "$UNIT_PATH"
  chmod 0644 "$UNIT_PATH"
fi

case "$SYSTEMD" in
  host)
    systemctl daemon-reload
    systemctl enable "$UNIT_NAME" >/dev/null 2>&1 || systemctl enable "$UNIT_NAME"
    systemctl restart "$UNIT_NAME"
    echo "remonitor hub installed: dashboard on port $HTTP_PORT, MQTT on port $MQTT_PORT"
    echo "  status: systemctl status remonitor-hub    logs: journalctl -u remonitor-hub -f"
    ;;
  offline)
    # Enabled as `systemctl enable` would (a link in the target's .wants), for the next boot with systemd.
    mkdir -p "$(dirname "$WANTS_LINK")"
    ln -sfn "../$UNIT_NAME" "$WANTS_LINK"
    if [ -n "$PREFIX" ]; then
      echo "remonitor hub installed under $PREFIX; the host's systemd was left alone (--prefix)."
      echo "  the unit is enabled for a system booted from $PREFIX; to run the hub now: $RUN_LINE"
    else
      echo "remonitor hub installed, but systemd is not running here (a container or a chroot?), so no service was"
      echo "started; the unit is enabled for the next boot with systemd. Run the hub now, in the foreground: $RUN_LINE"
    fi
    ;;
  none)
    echo "remonitor hub installed, but this system has no systemd, so no service was started."
    echo "  run it with your init system or in the foreground: $RUN_LINE"
    ;;
esac
ours_on_path && echo "  enrol a node: sudo remonitor node add NAME    (\`remonitor\` is $CLI_PATH)"
