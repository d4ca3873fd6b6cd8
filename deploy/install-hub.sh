#!/bin/sh
# Installs (or upgrades, or with --uninstall removes) the remonitor hub as a systemd service,
# from a checkout where `npm install` has run (it builds dist/ and compiles better-sqlite3):
#
#   git clone … remonitor && cd remonitor && npm install && sudo sh deploy/install-hub.sh
#
# The service runs `remonitor up` (embedded broker + hub + dashboard + an agent for this machine)
# as an unprivileged dynamic user, with its data in /var/lib/remonitor. POSIX sh.
set -eu

UNIT_NAME=remonitor-hub.service

usage() {
  cat <<EOF
usage: install-hub.sh [options]
  --source DIR      the built checkout to install from   (default: the one holding this script)
  --http-port N     dashboard and API port                (default 8080)
  --mqtt-port N     MQTT port of the embedded broker      (default 1883)
  --host ADDR       address to listen on                  (default 0.0.0.0: reachable by the fleet)
  --prefix DIR      install under DIR instead of /        (for tests and staging)
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

if [ -z "$PREFIX" ] && [ "$(id -u)" -ne 0 ]; then
  die "run this as root (sudo sh $0 …): it writes /opt, /etc and a systemd unit"
fi
HAVE_SYSTEMCTL=0
command -v systemctl >/dev/null 2>&1 && HAVE_SYSTEMCTL=1

if [ "$UNINSTALL" -eq 1 ]; then
  [ "$HAVE_SYSTEMCTL" -eq 1 ] && { systemctl disable --now "$UNIT_NAME" 2>/dev/null || true; }
  rm -rf "$APP_DIR"
  rm -f "$UNIT_PATH" "$CONF_PATH"
  rmdir "$CONF_DIR" 2>/dev/null || true
  [ "$HAVE_SYSTEMCTL" -eq 1 ] && systemctl daemon-reload
  echo "remonitor hub removed; its data stays in /var/lib/remonitor (delete it yourself if you want)"
  exit 0
fi

NODE_BIN=$(command -v node 2>/dev/null || true)
[ -n "$NODE_BIN" ] || die "Node.js 20 or newer is needed and \`node\` is not on PATH; install it (https://nodejs.org) and run this again"
"$NODE_BIN" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  die "Node.js 20 or newer is needed; $NODE_BIN is version $("$NODE_BIN" -p process.versions.node)"

# What the hub reads at run time: the same list as the Dockerfile's runtime stage.
[ -f "$SOURCE/dist/remonitor.mjs" ] || die "$SOURCE/dist/remonitor.mjs is missing: run \`npm install\` (or \`npm run build\`) in $SOURCE first"
[ -d "$SOURCE/node_modules/better-sqlite3" ] || die "$SOURCE/node_modules is missing: run \`npm install\` in $SOURCE first (it needs python3, make and g++ when no prebuilt better-sqlite3 fits)"

rm -rf "$APP_DIR.new"
mkdir -p "$APP_DIR.new/hub" "$APP_DIR.new/web" "$APP_DIR.new/deploy" "$CONF_DIR" "$UNIT_DIR"
cp -R "$SOURCE/dist" "$SOURCE/bin" "$SOURCE/node_modules" "$SOURCE/package.json" "$APP_DIR.new/"
cp -R "$SOURCE/hub/migrations" "$APP_DIR.new/hub/"
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

cat >"$UNIT_PATH" <<EOF
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
chmod 0644 "$UNIT_PATH"

if [ "$HAVE_SYSTEMCTL" -eq 1 ]; then
  systemctl daemon-reload
  systemctl enable "$UNIT_NAME" >/dev/null 2>&1 || systemctl enable "$UNIT_NAME"
  systemctl restart "$UNIT_NAME"
  echo "remonitor hub installed: dashboard on port $HTTP_PORT, MQTT on port $MQTT_PORT"
  echo "  status: systemctl status remonitor-hub    logs: journalctl -u remonitor-hub -f"
else
  echo "remonitor hub installed, but systemctl was not found, so no service was started."
  echo "  run it yourself: $NODE_BIN $APP_DIR/bin/remonitor.mjs up --config $CONF_PATH --data-dir /var/lib/remonitor"
fi
