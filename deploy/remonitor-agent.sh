#!/bin/sh
# The remonitor agent without Node.js, for a Pi Zero (armv6), an OpenWrt router or a NAS: CPU, load,
# memory, swap, filesystems, disk I/O, network and temperature from /proc, /sys and df, sent as JSON
# samples (PROTOCOL.md, "JSON samples") through one long-lived mosquitto_pub connection.
#
#   REMONITOR_PASSWORD=TOKEN sh remonitor-agent.sh --broker mqtt://hub.local:1883 --node kitchen-pi --interval 5s
#
# Same flags and REMONITOR_* variables as `remonitor agent` (flags win). Needs mosquitto_pub
# (Debian: mosquitto-clients; OpenWrt: mosquitto-client-ssl or -nossl), awk and df. Runs under
# busybox ash (1.32 and up) and bash; under a shell whose `read` has no -t (dash) it starts itself
# again under busybox or bash.
#
# Three processes for its life: this shell (options, schedule, status, restarts), one awk that
# takes a sample when asked (it reads /proc whole, where the shell's `read` takes a byte a system
# call: 9 ms a sample instead of 2), and mosquitto_pub, which sends each line awk prints. Nothing
# else lives between samples (no sleep, no cat: the shell waits in `read -t`); df and a status
# publisher run once a minute. bench/shell-agent.ts measures it beside collectd.
#
# What it leaves out, next to the Node.js agent: the process list and process count, the birth
# record (CBOR, which mosquitto_pub cannot send), remote commands and the spool: a sample taken
# while the broker is unreachable is lost (its seq shows the gap).

PROG=remonitor-agent.sh

usage() {
  cat <<'EOF'
usage: remonitor-agent.sh [options]   (each also from its environment variable)
  --broker URL       mqtt://host[:port] or mqtts://host[:port]   [REMONITOR_BROKER, default mqtt://127.0.0.1:1883]
  --node NAME        node name, 1-64 of A-Z a-z 0-9 . _ -          [REMONITOR_NODE, default this host's name]
  --username NAME    MQTT user name (default: the node name when a password is given)  [REMONITOR_USERNAME]
  --password TOKEN   MQTT password or node token; prefer the variable: arguments show in ps  [REMONITOR_PASSWORD]
  --interval D       sample interval, 250ms-1h, such as 1s or 5s   [REMONITOR_INTERVAL, default 1s]
  --ca FILE          PEM CA certificate for mqtts:// (default: the system's CAs)  [REMONITOR_CA]
  -h, --help         this text
EOF
}

# A bad option: said with its name, exit 2 (as `remonitor agent` does).
bad_option() {
  echo "$PROG: $*" >&2
  echo "$PROG: see --help" >&2
  exit 2
}
log() {
  echo "$PROG: $*" >&2
}

# `read -t` waits for the publisher's output and the next sample at once (no `sleep` process per
# sample). dash has no -t: start again under a shell that has it, once.
# (At end of file read says 1; dash says 2, for the option it does not know.)
(read -t 1 _ </dev/null) 2>/dev/null
if [ $? -eq 2 ]; then
  if [ -z "${REMONITOR_AGENT_SHELL_TRIED:-}" ]; then
    export REMONITOR_AGENT_SHELL_TRIED=1
    if command -v busybox >/dev/null 2>&1; then exec busybox sh "$0" "$@"; fi
    if command -v bash >/dev/null 2>&1; then exec bash "$0" "$@"; fi
  fi
  echo "$PROG: this shell's read has no -t; run it with busybox sh or bash" >&2
  exit 1
fi

# Options: flags over REMONITOR_* variables over defaults. Unset first, so none stays exported
# from the environment to mosquitto_pub.
unset BROKER NODE USERNAME PASSWORD INTERVAL CA HOST PORT TLS
BROKER=${REMONITOR_BROKER:-mqtt://127.0.0.1:1883}
NODE=${REMONITOR_NODE:-}
USERNAME=${REMONITOR_USERNAME:-}
PASSWORD=${REMONITOR_PASSWORD:-}
INTERVAL=${REMONITOR_INTERVAL:-1s}
CA=${REMONITOR_CA:-}
while [ $# -gt 0 ]; do
  flag=$1
  value=''
  has_value=0
  case "$flag" in
    --*=*) value=${flag#*=}; flag=${flag%%=*}; has_value=1 ;;
  esac
  case "$flag" in
    -h | --help) usage; exit 0 ;;
    --broker | --node | --username | --password | --interval | --ca)
      if [ "$has_value" -eq 0 ]; then
        [ $# -ge 2 ] || bad_option "$flag needs a value"
        value=$2
        shift
      fi
      case "$flag" in
        --broker) BROKER=$value ;;
        --node) NODE=$value ;;
        --username) USERNAME=$value ;;
        --password) PASSWORD=$value ;;
        --interval) INTERVAL=$value ;;
        --ca) CA=$value ;;
      esac
      ;;
    --config | --process-interval | --spool-dir | --spool-max | --spool-max-age | --log-level)
      bad_option "$flag is an option of the Node.js agent only; this one takes --broker, --node, --username, --password, --interval and --ca" ;;
    *) bad_option "unknown option \"$flag\"" ;;
  esac
  shift
done

# Sizes in bytes need 64-bit arithmetic (busybox: FEATURE_SH_MATH_64, on in Debian and OpenWrt).
if [ "$((4294967296 * 2))" != 8589934592 ]; then
  echo "$PROG: this shell's arithmetic is 32-bit, too small for byte counts; run it with busybox sh (built with 64-bit math) or bash" >&2
  exit 1
fi

# --node: as the Node agent checks it; the default is the host name with other characters as '-'.
if [ -z "$NODE" ]; then
  read -r NODE </proc/sys/kernel/hostname 2>/dev/null || NODE=node
  case "$NODE" in *[!A-Za-z0-9._-]*) NODE=$(printf '%s' "$NODE" | tr -c 'A-Za-z0-9._-' '-') ;; esac
  NODE=${NODE%"${NODE#????????????????????????????????????????????????????????????????}"}
  [ -n "$NODE" ] || NODE=node
fi
case "$NODE" in
  *[!A-Za-z0-9._-]*) bad_option "--node \"$NODE\": allowed are A-Z a-z 0-9 . _ - (1 to 64 characters)" ;;
esac
[ ${#NODE} -le 64 ] || bad_option "--node \"$NODE\" is ${#NODE} characters long, the limit is 64"

# --broker: mqtt://[user[:password]@]host[:port][/] or mqtts://; credentials in the URL win, as in the Node agent.
case "$BROKER" in
  mqtt://*) TLS=0; rest=${BROKER#mqtt://}; PORT=1883 ;;
  mqtts://*) TLS=1; rest=${BROKER#mqtts://}; PORT=8883 ;;
  ws://* | wss://*) bad_option "--broker \"$BROKER\": mosquitto_pub speaks MQTT over TCP only; use the hub's mqtt:// or mqtts:// address" ;;
  *) bad_option "--broker \"$BROKER\": must be an mqtt:// or mqtts:// URL" ;;
esac
rest=${rest%%/*}
case "$rest" in
  *@*)
    userinfo=${rest%@*}
    rest=${rest##*@}
    case "$userinfo" in
      *:*) USERNAME=${userinfo%%:*}; PASSWORD=${userinfo#*:} ;;
      *) USERNAME=$userinfo ;;
    esac
    ;;
esac
case "$rest" in
  \[*\]:*) HOST=${rest%%]:*}; HOST=${HOST#[}; PORT=${rest##*]:} ;;
  \[*\]) HOST=${rest#[}; HOST=${HOST%]} ;;
  *:*:*) bad_option "--broker \"$BROKER\": write an IPv6 address in brackets, mqtt://[::1]:1883" ;;
  *:*) HOST=${rest%%:*}; PORT=${rest#*:} ;;
  *) HOST=$rest ;;
esac
[ -n "$HOST" ] || bad_option "--broker \"$BROKER\": no host"
case "$PORT" in
  '' | *[!0-9]*) bad_option "--broker \"$BROKER\": the port must be a number" ;;
esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || bad_option "--broker \"$BROKER\": port $PORT is not between 1 and 65535"
if [ -n "$CA" ]; then
  [ "$TLS" -eq 1 ] || bad_option "--ca is for mqtts:// brokers; --broker is \"$BROKER\""
  [ -r "$CA" ] || bad_option "--ca \"$CA\": cannot read the file"
fi

# --interval: as parseDuration (protocol/duration.ts): a bare number is ms; units ms, s, m, h, d.
parse_interval() {
  text=$1
  case "$text" in
    *[!0-9.a-z]* | '' | .* | *..*) return 1 ;;
  esac
  number=${text%%[a-z]*}
  unit=${text#"$number"}
  case "$unit" in
    '' | ms) scale=1 ;;
    s) scale=1000 ;;
    m) scale=60000 ;;
    h) scale=3600000 ;;
    d) scale=86400000 ;;
    *) return 1 ;;
  esac
  case "$number" in
    '' | *.*.* | *.) return 1 ;;
    *.*) whole=${number%.*}; frac=${number#*.} ;;
    *) whole=$number; frac='' ;;
  esac
  [ -n "$unit" ] || [ -z "$frac" ] || return 1
  # Leading zeros would read as octal in $(( )).
  while [ "${whole#0}" != "$whole" ]; do whole=${whole#0}; done
  ms=$((${whole:-0} * scale))
  if [ -n "$frac" ]; then
    frac=${frac%"${frac#???????}"} # 7 decimals at most: more would overflow nothing useful
    div=1
    digits=$frac
    while [ -n "$digits" ]; do div=$((div * 10)); digits=${digits#?}; done
    # Math.round of the fraction's ms.
    ms=$((ms + (2 * (1$frac - div) * scale + div) / (2 * div)))
  fi
  INTERVAL_MS=$ms
}
parse_interval "$INTERVAL" || bad_option "--interval \"$INTERVAL\": must be a duration such as 500ms, 1s or 5m"
[ "$INTERVAL_MS" -ge 250 ] && [ "$INTERVAL_MS" -le 3600000 ] || bad_option "--interval \"$INTERVAL\": must be between 250ms and 1h"

# MQTT 3.1.1 allows no password without a user name [MQTT-3.1.2-22]: the node's token goes with its name.
[ -z "$PASSWORD" ] || [ -n "$USERNAME" ] || USERNAME=$NODE

command -v mosquitto_pub >/dev/null 2>&1 || { echo "$PROG: mosquitto_pub is not installed (Debian: apt install mosquitto-clients; OpenWrt: opkg install mosquitto-client-ssl)" >&2; exit 1; }
# busybox's awk where there is a busybox (its pages are the shell's too). mawk, Debian's awk, reads
# a pipe a block at a time unless told -W interactive, which would hold each sample back.
if command -v busybox >/dev/null 2>&1 && busybox awk 'BEGIN {}' 2>/dev/null; then
  AWK='busybox awk'
elif command -v awk >/dev/null 2>&1; then
  AWK=awk
  case "$(awk -W version 2>&1)" in *mawk*) AWK='awk -W interactive' ;; esac
else
  echo "$PROG: no awk here (busybox has one)" >&2
  exit 1
fi

STATUS_TOPIC="remonitor/$NODE/status"
# JSON samples have a channel of their own (protocol/topics.ts): remonitor/<node>/json.
SAMPLE_TOPIC="remonitor/$NODE/json"
# Kept in this shell only: children (mosquitto_pub, awk, df) need not carry it in their environment.
unset REMONITOR_PASSWORD

# A private directory (0700) for mosquitto_pub's options file, the sampler and the FIFOs.
umask 077
DIR=$(mktemp -d "${TMPDIR:-/tmp}/remonitor-agent.XXXXXX") || { echo "$PROG: cannot make a directory in ${TMPDIR:-/tmp}" >&2; exit 1; }
trap 'rm -rf "$DIR"' EXIT

# The user name and password reach mosquitto_pub through its options file ($XDG_CONFIG_HOME/
# mosquitto_pub, one option a line), never its arguments, which every user of the node can read in ps.
export XDG_CONFIG_HOME="$DIR"
{
  [ -z "$USERNAME" ] || printf -- '-u %s\n' "$USERNAME"
  [ -z "$PASSWORD" ] || printf -- '-P %s\n' "$PASSWORD"
} >"$DIR/mosquitto_pub"
PASSWORD=''

# The connection's arguments, quoted for eval (a CA path may hold anything).
quote() {
  escaped=''
  rest=$1
  while :; do
    case "$rest" in
      *"'"*) escaped="$escaped${rest%%"'"*}'\\''"; rest=${rest#*"'"} ;;
      *) escaped="$escaped$rest"; break ;;
    esac
  done
  QUOTED="'$escaped'"
}
CONNECTION="-h '$HOST' -p $PORT"
if [ "$TLS" -eq 1 ]; then
  if [ -n "$CA" ]; then
    quote "$CA"
    CONNECTION="$CONNECTION --cafile $QUOTED"
  elif [ -d /etc/ssl/certs ]; then
    CONNECTION="$CONNECTION --capath /etc/ssl/certs"
  else
    CONNECTION="$CONNECTION --tls-use-os-certs"
  fi
fi

# The sampler: one awk for the agent's life, asked for a sample by a line on its input. It reads
# the /proc files whole (the shell's `read` takes a byte a system call: 18 times the CPU) and does
# the arithmetic of edge-agent/rates.ts and edge-agent/collectors/*.ts, with the same rounding, so
# the figures agree with the Node agent's. Input line: "TS_MS TEMP_FILE" ("-" for no wall clock in
# ms: then awk's own, whole seconds; TEMP_FILE may be empty). Output: one JSON sample a line.
cat >"$DIR/sampler.awk" <<'AWK'
BEGIN {
  seq = seq0 + 0
  split("ext2 ext3 ext4 xfs btrfs bcachefs vfat exfat f2fs zfs ntfs ntfs3 fuseblk jfs reiserfs hfsplus", t, " ")
  for (i in t) real_fs[t[i]] = 1
  fs_json = ""
  df_due = 0
  have_prev = 0
}
# Math.round: floor(x + 0.5). awk's int() cuts toward zero, and busybox awk may lack ^ and floor.
function round(x,   r) { r = int(x + 0.5); if (r > x + 0.5) r--; return r }
function tenths(x) { return sprintf("%.1f", round(x * 10) / 10) }
# percentOf: part/whole as %, to 0.1, at most 100; "" when whole is not positive.
function percent_of(part, whole,   p) {
  if (!(whole > 0) || !(part >= 0)) return ""
  p = round((part / whole) * 100 * 10) / 10
  return sprintf("%.1f", p > 100 ? 100 : p)
}
# cpuBusyPct between two readings of total and idle + iowait; "" when the counters went back or stood still.
function busy_pct(pt, pi, ct, ci,   dt, di) {
  dt = ct - pt; di = ci - pi
  if (!(dt > 0) || di < 0 || di > dt) return ""
  return tenths(((dt - di) / dt) * 100)
}
# bytesPerSecond, an integer; "" when no time passed or the counter went back.
function bps(prev, cur, ms) {
  if (!(ms > 0) || !(cur >= prev)) return ""
  return sprintf("%.0f", round(((cur - prev) * 1000) / ms))
}
function read_line(path,   line) {
  line = ""
  if ((getline line < path) <= 0) line = ""
  close(path)
  return line
}
# /proc/stat's cpu lines (proc(5)): total = the first 8 fields (guest is inside user), idle = idle + iowait.
function read_cpu(   line, f, n) {
  n = 0
  while ((getline line < "/proc/stat") > 0) {
    if (substr(line, 1, 3) != "cpu") break
    split(line, f, " ")
    cpu_t[n] = f[2] + f[3] + f[4] + f[5] + f[6] + f[7] + f[8] + f[9]
    cpu_i[n] = f[5] + f[6]
    n++
  }
  close("/proc/stat")
  return n
}
# /proc/meminfo, kB meaning KiB.
function read_memory(   line, f) {
  mem_total = mem_avail = swap_total = swap_free = ""
  while ((getline line < "/proc/meminfo") > 0) {
    split(line, f, " ")
    if (f[1] == "MemTotal:") mem_total = f[2] * 1024
    else if (f[1] == "MemAvailable:") mem_avail = f[2] * 1024
    else if (f[1] == "SwapTotal:") swap_total = f[2] * 1024
    else if (f[1] == "SwapFree:") { swap_free = f[2] * 1024; break }
  }
  close("/proc/meminfo")
}
# Filesystems as edge-agent/collectors/filesystems.ts picks them: the real types of /proc/self/mounts
# (overlay only as /), mount points that are files left out (Docker binds /etc/hosts), a device once
# at its shortest mount point. Sizes from one `df -P -k` given exactly those, so a hung network
# filesystem is never asked. df is a process: it runs every df_every_ms, and each sample carries its
# latest figures.
function read_filesystems(   line, f, m, dev, n, i, order, best, cmd, list, pct, seen, mnt, numbers, k) {
  n = 0
  while ((getline line < "/proc/self/mounts") > 0) {
    split(line, f, " ")
    dev = f[1]; m = f[2]
    if (!(f[3] in real_fs) && !(f[3] == "overlay" && m == "/")) continue
    gsub(/\\040/, " ", m)
    # Other escapes and quotes are left out: never seen on a real disk, and unsafe in the command below.
    if (m ~ /[\\'"]/) continue
    if (!(dev in best)) { order[++n] = dev; best[dev] = m }
    else if (length(m) < length(best[dev])) best[dev] = m
  }
  close("/proc/self/mounts")
  list = ""
  for (i = 1; i <= n; i++) list = list " '" best[order[i]] "'"
  fs_json = ""
  if (list == "") return
  cmd = "set --; for m in" list "; do [ -d \"$m\" ] && set -- \"$@\" \"$m\"; done; [ $# -eq 0 ] || exec df -P -k \"$@\" 2>/dev/null"
  # df -P: "Filesystem 1024-blocks Used Available Capacity Mounted on", a filesystem a line.
  while ((cmd | getline line) > 0) {
    k = index(line, "% ")
    if (k == 0) continue
    mnt = substr(line, k + 2)
    numbers = split(substr(line, 1, k - 1), f, " ")
    if (numbers < 4 || (mnt in seen)) continue
    seen[mnt] = 1
    if (!(f[numbers - 3] > 0)) continue
    # used_pct as df's Use%: used / (used + available to users); the root-reserved blocks count as neither.
    pct = percent_of(f[numbers - 2], f[numbers - 2] + f[numbers - 1])
    fs_json = fs_json sprintf(",[\"%s\",%.0f,%.0f,%s]", mnt, f[numbers - 3] * 1024, f[numbers - 2] * 1024, pct == "" ? 0 : pct)
  }
  close(cmd)
  fs_json = substr(fs_json, 2)
}
# Whole physical disks of /proc/diskstats (edge-agent/collectors/diskio.ts); sectors of 512 bytes.
function read_diskio(   line, f) {
  disk_r = disk_w = disk_n = 0
  while ((getline line < "/proc/diskstats") > 0) {
    split(line, f, " ")
    if (f[3] !~ /^([shv]d[a-z]+|xvd[a-z]+|nvme[0-9]+n[0-9]+|mmcblk[0-9]+)$/) continue
    disk_r += f[6] * 512; disk_w += f[10] * 512; disk_n++
  }
  close("/proc/diskstats")
}
# /proc/net/dev, loopback left out: "iface: rx_bytes (7 more receive columns) tx_bytes …".
function read_net(   line, f, n, iface) {
  n = 0
  for (iface in net_rx) delete net_rx[iface]
  for (iface in net_tx) delete net_tx[iface]
  net_order = ""
  while ((getline line < "/proc/net/dev") > 0) {
    if (++n <= 2) continue
    sub(/:/, " ", line) # older kernels write no space after the colon
    split(line, f, " ")
    iface = f[1]
    if (iface == "lo" || iface == "" || iface ~ /["\\]/) continue
    net_rx[iface] = f[2]; net_tx[iface] = f[10]
    net_order = net_order " " iface
  }
  close("/proc/net/dev")
}
{
  ts = $1
  if (ts == "-") { srand(); ts = srand() * 1000 }
  up = read_line("/proc/uptime")
  split(up, u, " ")
  mono = u[1] * 1000
  out = sprintf("{\"v\":1,\"boot\":\"%s\",\"seq\":%d,\"ts_ms\":%.0f", boot, seq, ts)

  cores = read_cpu() - 1
  if (cores >= 0) {
    if (have_prev) {
      p = busy_pct(prev_t[0], prev_i[0], cpu_t[0], cpu_i[0])
      if (p != "") out = out ",\"cpu_pct\":" p
      # cpuCoreBusyPct: all cores or none (the list is positional).
      if (cores > 0 && cores == prev_cores) {
        list = ""
        for (c = 1; c <= cores; c++) {
          p = busy_pct(prev_t[c], prev_i[c], cpu_t[c], cpu_i[c])
          if (p == "") { list = ""; break }
          list = list "," p
        }
        if (list != "") out = out ",\"cpu_core_pct\":[" substr(list, 2) "]"
      }
    }
    for (c = 0; c <= cores; c++) { prev_t[c] = cpu_t[c]; prev_i[c] = cpu_i[c] }
    prev_cores = cores
  }

  split(read_line("/proc/loadavg"), l, " ")
  if (l[3] != "") out = out ",\"load_1\":" l[1] ",\"load_5\":" l[2] ",\"load_15\":" l[3]

  read_memory()
  if (mem_total != "") {
    out = out sprintf(",\"mem_total_bytes\":%.0f", mem_total)
    # used = total − available (MemAvailable: what new work can use without swapping).
    if (mem_avail != "") {
      if (mem_avail > mem_total) mem_avail = mem_total
      out = out sprintf(",\"mem_available_bytes\":%.0f,\"mem_used_bytes\":%.0f", mem_avail, mem_total - mem_avail)
      p = percent_of(mem_total - mem_avail, mem_total)
      if (p != "") out = out ",\"mem_pct\":" p
    }
  }
  if (swap_total != "" && swap_free != "") {
    used = swap_total - swap_free
    if (used < 0) used = 0
    out = out sprintf(",\"swap_total_bytes\":%.0f,\"swap_used_bytes\":%.0f", swap_total, used)
    p = percent_of(used, swap_total) # absent, not 0 %, without swap
    if (p != "") out = out ",\"swap_pct\":" p
  }

  if (mono >= df_due) {
    read_filesystems()
    df_due = mono + df_every_ms
  }
  out = out ",\"filesystems\":[" fs_json "]"

  read_diskio()
  # A disk plugged in or pulled out changes the sums without any I/O: that interval is skipped.
  if (have_prev && prev_disk_n == disk_n && disk_n > 0) {
    r = bps(prev_disk_r, disk_r, mono - prev_mono)
    w = bps(prev_disk_w, disk_w, mono - prev_mono)
    if (r != "") out = out ",\"disk_read_bps\":" r
    if (w != "") out = out ",\"disk_write_bps\":" w
  }
  prev_disk_r = disk_r; prev_disk_w = disk_w; prev_disk_n = disk_n

  read_net()
  if (have_prev) {
    n = split(net_order, names, " ")
    list = ""
    for (i = 1; i <= n; i++) {
      iface = names[i]
      if (!(iface in prev_rx)) continue # a new interface gets a rate next time
      r = bps(prev_rx[iface], net_rx[iface], mono - prev_mono)
      w = bps(prev_tx[iface], net_tx[iface], mono - prev_mono)
      if (r != "" && w != "") list = list sprintf(",[\"%s\",%s,%s]", iface, r, w)
    }
    if (list != "") out = out ",\"net\":[" substr(list, 2) "]"
  }
  for (iface in prev_rx) delete prev_rx[iface]
  for (iface in prev_tx) delete prev_tx[iface]
  for (iface in net_rx) { prev_rx[iface] = net_rx[iface]; prev_tx[iface] = net_tx[iface] }

  # CPU temperature in millidegrees; round1(milli / 1000).
  if ($2 != "") {
    milli = read_line($2)
    if (milli ~ /^-?[0-9]+$/) out = out ",\"temp_c\":" tenths(milli / 1000)
  }

  out = out sprintf(",\"uptime_s\":%d}", int(u[1]))
  print out
  fflush()
  seq++
  prev_mono = mono
  have_prev = 1
}
AWK

# CPU temperature: a thermal zone of a CPU type, else a CPU hwmon chip's temp1_input (as
# edge-agent/collectors/temperature.ts, same order); looked for again every 60 samples while none
# is found or it stops being readable.
TEMP_FILE=''
find_temperature() {
  TEMP_FILE=''
  for want in cpu-thermal cpu_thermal x86_pkg_temp soc_thermal; do
    for zone in /sys/class/thermal/thermal_zone*; do
      read -r zone_type 2>/dev/null <"$zone/type" || continue
      if [ "$zone_type" = "$want" ]; then TEMP_FILE=$zone/temp; return 0; fi
    done
  done
  for want in coretemp k10temp cpu_thermal; do
    for chip in /sys/class/hwmon/*; do
      read -r chip_name 2>/dev/null <"$chip/name" || continue
      if [ "$chip_name" = "$want" ]; then TEMP_FILE=$chip/temp1_input; return 0; fi
    done
  done
}

# boot: 16 random hex digits a start (from the kernel's random UUID), as the Node agent's; seq +1
# a sample from 0.
BOOT=''
if read -r uuid 2>/dev/null </proc/sys/kernel/random/uuid; then
  rest=${uuid#*-}
  BOOT=${uuid%%-*}${rest%%-*}
  rest=${rest#*-}
  BOOT=$BOOT${rest%%-*}
fi
case "$BOOT" in
  [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
  *) BOOT=$(printf '%08x%08x' "$$" "$(date +%s)") ;;
esac
SEQ=0

# Clocks. MONO_MS: for the schedule, from $EPOCHREALTIME (busybox ash 1.32+, bash 5; no process,
# no read) or else /proc/uptime. TS: ts_ms from $EPOCHREALTIME to the ms, or else "-", for awk's
# own clock in whole seconds (busybox date has no %N either).
if [ -n "${EPOCHREALTIME:-}" ]; then
  read_clocks() {
    t=$EPOCHREALTIME
    s=${t%[.,]*}
    f=${t#*[.,]}000
    f=${f%"${f#???}"}
    MONO_MS=$((s * 1000 + 1$f - 1000))
    TS=$MONO_MS
  }
else
  read_clocks() {
    read -r up _ </proc/uptime
    cs=${up#*.}
    MONO_MS=$((${up%.*} * 1000 + (1$cs - 100) * 10))
    TS=-
  }
fi

# The retained status, by a short second connection under the node's own name as client id (the
# long one is remonitor-agent-<node>, as the Node agent's). Its complaints are logged, through a
# file rather than $( ), which would fork one more shell to run it.
publish_status() {
  eval "mosquitto_pub $CONNECTION -i '$NODE' -t '$STATUS_TOPIC' -q 1 -r -m '$1'" >"$DIR/status.out" 2>&1 6>&- 7>&-
  while IFS= read -r line; do log "publishing status $1: $line"; done <"$DIR/status.out"
}

# The FIFO the publisher's errors come out of (it says nothing else), read by this shell while it
# waits. Opened read-write, so neither end waits for the other.
mkfifo "$DIR/out" || exit 1
exec 6<>"$DIR/out"
rm -f "$DIR/out"

# Starts the sampler and the long-lived publisher behind it: each line awk prints is a sample,
# one message each (QoS 0: there is no spool to keep them anyway), with the last will `offline`
# (retained, QoS 1). mosquitto_pub reconnects by itself, dropping what it is given meanwhile.
# awk's input is a FIFO whose only writer is this shell's fd 7: should this shell die alone, awk
# reads end of file and leaves, and so does mosquitto_pub after it. mosquitto_pub's network thread
# gets no malloc arena of its own (MALLOC_ARENA_MAX=1): glibc's would reserve 64 MiB of address
# space (1 MiB on 32-bit) for a few KiB used.
PUB_PID=''
start_publisher() {
  mkfifo "$DIR/in" || return 1
  exec 5<>"$DIR/in"
  exec 8<"$DIR/in"
  eval "$AWK -v boot=$BOOT -v seq0=$SEQ -v df_every_ms=$DF_EVERY_MS -f '$DIR/sampler.awk' <&8 2>&6 5>&- 6>&- 7>&- 8<&- |" \
    "MALLOC_ARENA_MAX=1 mosquitto_pub $CONNECTION -i 'remonitor-agent-$NODE' -k 30 -l -q 0 -t '$SAMPLE_TOPIC'" \
    "--will-topic '$STATUS_TOPIC' --will-payload offline --will-retain --will-qos 1 >&6 2>&6 5>&- 6>&- 7>&- 8<&- &"
  PUB_PID=$!
  PUB_STARTED_MS=$MONO_MS
  exec 7>"$DIR/in" 8<&- 5<&-
  rm -f "$DIR/in"
}

stop_publisher() {
  [ -n "$PUB_PID" ] || return 0
  exec 7>&- # awk reads end of file and leaves
  kill "$PUB_PID" 2>/dev/null
  wait "$PUB_PID" 2>/dev/null
  PUB_PID=''
}

# SIGTERM (systemctl stop, procd), SIGINT (Ctrl-C): the publisher goes (its will says offline), and
# the retained status says offline in any case.
on_signal() {
  trap - TERM INT HUP
  stop_publisher
  publish_status offline
  exit 0
}
trap on_signal TERM INT HUP
# A sample asked of a sampler that has just died fails (EPIPE) instead of killing this shell.
trap '' PIPE

# Waits until MONO_MS reaches $1 (at most an interval: a clock step moves the wall clock), logging
# what the publisher says meanwhile.
wait_until() {
  while :; do
    read_clocks
    left=$(($1 - MONO_MS))
    [ "$left" -gt 0 ] || return 0
    [ "$left" -le "$INTERVAL_MS" ] || left=$INTERVAL_MS
    ms=$((left % 1000 + 1000))
    if IFS= read -r -t "$((left / 1000)).${ms#1}" line <&6; then
      log "mosquitto_pub: $line"
    else
      return 0
    fi
  done
}

# df, a process, runs once a minute (or every sample at longer intervals).
DF_EVERY_MS=60000
[ "$INTERVAL_MS" -le "$DF_EVERY_MS" ] || DF_EVERY_MS=$INTERVAL_MS
# `online` after each start of the publisher, and again every STATUS_EVERY_MS while it runs:
# mosquitto_pub reconnects by itself and tells nobody, and the broker may have published its will
# meanwhile (an outage longer than the keepalive), so within a minute the status is right again.
# The Node agent says online on each connect instead.
STATUS_EVERY_MS=60000
RETRY_MS=1000
find_temperature
read_clocks
start_publisher
DUE=$MONO_MS
STATUS_DUE=$MONO_MS
while :; do
  if ! kill -0 "$PUB_PID" 2>/dev/null; then
    # Gone (refused, or the broker unreachable at start): its last words, then again after a pause
    # that doubles up to 30 s.
    exec 7>&-
    wait "$PUB_PID" 2>/dev/null
    while IFS= read -r -t 0.05 line <&6; do log "mosquitto_pub: $line"; done
    log "mosquitto_pub stopped; connecting again in $((RETRY_MS / 1000)) s"
    read_clocks
    wait_until $((MONO_MS + RETRY_MS))
    RETRY_MS=$((RETRY_MS * 2))
    [ "$RETRY_MS" -le 30000 ] || RETRY_MS=30000
    read_clocks
    start_publisher
    STATUS_DUE=$MONO_MS
    DUE=$MONO_MS
  elif [ $((MONO_MS - PUB_STARTED_MS)) -ge 30000 ]; then
    RETRY_MS=1000 # up for 30 s: the next failure starts the pauses over
  fi
  read_clocks
  printf '%s %s\n' "$TS" "$TEMP_FILE" >&7
  SEQ=$((SEQ + 1))
  if [ "$MONO_MS" -ge "$STATUS_DUE" ]; then
    publish_status online
    STATUS_DUE=$((MONO_MS + STATUS_EVERY_MS))
    # The sensor, when there was none or it went away (a driver loaded late in boot).
    [ -n "$TEMP_FILE" ] && [ -r "$TEMP_FILE" ] || find_temperature
  fi
  DUE=$((DUE + INTERVAL_MS))
  read_clocks
  # Far behind (the machine suspended, or the clock stepped): the schedule starts again from now.
  [ $((MONO_MS - DUE)) -lt "$INTERVAL_MS" ] || DUE=$((MONO_MS + INTERVAL_MS))
  wait_until "$DUE"
done
