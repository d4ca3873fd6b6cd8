#!/bin/sh
# Debian bookworm's own Node.js 18 (the one Raspberry Pi OS ships), fetched with apt-get download
# and unpacked with dpkg -x into a cache folder, never installed. Prints the path of a `node`
# wrapper that runs it; test/edge-agent/node18.test.ts runs the agent bundle with it.
#
#   scripts/fetch-debian-node18.sh            # prints e.g. /root/.cache/remonitor/debian-node18/node
#
# Debian's libnode loads acorn, cjs-module-lexer and undici from /usr/share/nodejs at start-up, so
# the wrapper bind-mounts the unpacked copy there in a private mount namespace (unshare -m): root
# only, and nothing outside the wrapper's processes sees it. Needs apt-get, dpkg and unshare, that
# is a Debian 12 host (or one with bookworm in its apt sources). Cached in
# $REMONITOR_NODE18_DIR, default ${XDG_CACHE_HOME:-~/.cache}/remonitor/debian-node18.
set -eu

DIR=${REMONITOR_NODE18_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/remonitor/debian-node18}
WRAPPER="$DIR/node"

die() {
  echo "fetch-debian-node18: $*" >&2
  exit 1
}

if [ -x "$WRAPPER" ] && "$WRAPPER" -p 'process.versions.node' 2>/dev/null | grep -q '^18\.'; then
  echo "$WRAPPER"
  exit 0
fi

for tool in apt-get apt-cache dpkg unshare mount; do
  command -v "$tool" >/dev/null 2>&1 || die "\`$tool\` is not on PATH: this needs a Debian 12 (bookworm) host"
done
[ "$(id -u)" -eq 0 ] || die "run as root: the wrapper bind-mounts /usr/share/nodejs in a private mount namespace"

# Debian's newest 18.x of nodejs; libnode108 comes in the same version.
debian_node18() {
  apt-cache madison nodejs 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2) } $2 ~ /^18\./ { print $2; exit }'
}
VERSION=$(debian_node18)
if [ -z "$VERSION" ]; then
  echo "fetch-debian-node18: no nodejs 18 in apt's lists yet; running apt-get update" >&2
  apt-get update -qq >&2 || die "apt-get update failed"
  VERSION=$(debian_node18)
fi
[ -n "$VERSION" ] || die "apt has no nodejs 18.x (\`apt-cache madison nodejs\`): this needs Debian 12 (bookworm) in the apt sources"

mkdir -p "$(dirname "$DIR")"
WORK=$(mktemp -d "$DIR.tmp.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
mkdir "$WORK/debs"
# libssl3 and the libraries below are libnode108's dependencies that a minimal Debian may lack;
# libc6, libstdc++6, libgcc-s1 and zlib1g are on every Debian and stay the system's own.
(cd "$WORK/debs" && apt-get download -q \
  "nodejs=$VERSION" "libnode108=$VERSION" \
  libc-ares2 libuv1 libnghttp2-14 libbrotli1 libicu72 libssl3 \
  node-acorn node-cjs-module-lexer node-undici >&2) || die "apt-get download of nodejs $VERSION and its libraries failed"
for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$WORK/root"; done
rm -rf "$WORK/debs"
LIB_DIR=$(dirname "$(ls "$WORK"/root/usr/lib/*/libnode.so.108)")
LIB_DIR="$DIR/root/${LIB_DIR#"$WORK/root/"}"

cat >"$WORK/node" <<EOF
#!/bin/sh
# Debian's nodejs $VERSION, unpacked by scripts/fetch-debian-node18.sh. Runs in a private mount
# namespace with the unpacked /usr/share/nodejs (acorn, cjs-module-lexer, undici) bound in place,
# and the unpacked libraries first on the search path; processes it starts inherit both.
[ -d /usr/share/nodejs ] || mkdir -p /usr/share/nodejs
export LD_LIBRARY_PATH="$LIB_DIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec unshare --mount --propagation private /bin/sh -c 'mount --bind "\$0/root/usr/share/nodejs" /usr/share/nodejs && exec "\$0/root/usr/bin/node" "\$@"' "$DIR" "\$@"
EOF
chmod 0755 "$WORK/node"
echo "$VERSION" >"$WORK/VERSION"

# Swapped in whole, so a concurrent run sees either no copy or a complete one.
rm -rf "$DIR.old"
[ -d "$DIR" ] && mv "$DIR" "$DIR.old"
mv "$WORK" "$DIR"
rm -rf "$DIR.old"
trap - EXIT INT TERM
"$WRAPPER" -p 'process.versions.node' 2>&1 | grep -q '^18\.' || die "the unpacked Node.js does not run: $("$WRAPPER" --version 2>&1 | head -3)"
echo "$WRAPPER"
