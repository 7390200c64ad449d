#!/usr/bin/env bash
# A private PostgreSQL 15 + pgvector for development, tests and CI (README "PostgreSQL mode").
#
#   scripts/pg-local.sh check            exit 0 if PostgreSQL 15 server binaries and headers are here
#   scripts/pg-local.sh build            build pgvector into .cache/pg (once; cached; see CACHE below)
#   scripts/pg-local.sh start [DIR]      initdb into DIR (default ./data/pg) if empty, start, print the URL
#   scripts/pg-local.sh env [DIR]        print `export FACEREC_DATABASE_URL=…` for a started DIR
#   scripts/pg-local.sh stop [DIR]       stop the server (the data stays; start again reuses its port)
#   scripts/pg-local.sh destroy [DIR]    stop and delete DIR
#
# Uses the machine's PostgreSQL 15 server binaries (Debian's postgresql-15 and
# postgresql-server-dev-15) and builds pgvector 0.8.0 from Debian trixie's source package (the
# .orig tarball from Debian's mirror, checked against the sha256 in its .dsc). The build goes into
# a private, relocatable copy of the server under .cache/pg/root: PostgreSQL finds its share and
# lib directories relative to its own binary, so the extension is installed without root and
# without touching /usr. The server runs as a non-root user (nobody, when started by root), on a
# random free port of 127.0.0.1 and a private unix socket directory, with a generated password.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
CACHE="${PG_LOCAL_CACHE:-$ROOT/.cache/pg}"
# The server runs as nobody when started by root: it must reach its binaries. A checkout under a
# directory nobody cannot enter (/root, a fresh CI machine) keeps the build in /var/tmp instead.
if [ -z "${PG_LOCAL_CACHE:-}" ] && [ "$(id -u)" = 0 ] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -x "$ROOT/scripts" 2>/dev/null; then
  CACHE="/var/tmp/facerec-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
fi
PRIVATE="$CACHE/root"                     # mirrors /usr: lib/postgresql/15/{bin,lib}, share/postgresql/15
PGVECTOR_VERSION=0.8.0
PGVECTOR_DEBIAN=0.8.0-1
PGVECTOR_SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
DEBIAN_POOL="${DEBIAN_POOL:-http://deb.debian.org/debian/pool/main/p/pgvector}"
STAMP="$PRIVATE/.built-$PGVECTOR_DEBIAN"

die() { echo "pg-local: $*" >&2; exit 1; }

need_server() {
  [ -x "$PG_BIN/postgres" ] || die "no PostgreSQL 15 server at $PG_BIN (apt-get install postgresql-15 postgresql-server-dev-15)"
  [ -d "$("$PG_BIN/pg_config" --pgxs | xargs dirname | xargs dirname)" ] && [ -f "$("$PG_BIN/pg_config" --includedir-server)/postgres.h" ] \
    || die "PostgreSQL server headers missing (apt-get install postgresql-server-dev-15)"
}

build() {
  [ -f "$STAMP" ] && return 0
  need_server
  local src="$CACHE/src" tarball="$CACHE/pgvector_$PGVECTOR_VERSION.orig.tar.gz"
  mkdir -p "$CACHE"
  if [ ! -f "$tarball" ] || ! echo "$PGVECTOR_SHA256  $tarball" | sha256sum -c --quiet - 2>/dev/null; then
    echo "pg-local: downloading pgvector $PGVECTOR_DEBIAN source (Debian trixie)" >&2
    curl -fsSL --retry 3 -o "$tarball.part" "$DEBIAN_POOL/pgvector_$PGVECTOR_VERSION.orig.tar.gz"
    echo "$PGVECTOR_SHA256  $tarball.part" | sha256sum -c --quiet - || die "pgvector tarball checksum mismatch"
    mv "$tarball.part" "$tarball"
  fi
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$tarball" -C "$src" --strip-components=1
  echo "pg-local: building pgvector $PGVECTOR_VERSION" >&2
  make -s -C "$src" PG_CONFIG="$PG_BIN/pg_config" -j"$(nproc)" >/dev/null

  # The relocatable server: real copies of the binaries (PostgreSQL resolves symlinks to find its
  # own location), links to every system library and share file, plus the extension's files.
  local sys_lib sys_share
  sys_lib="$("$PG_BIN/pg_config" --pkglibdir)"
  sys_share="$("$PG_BIN/pg_config" --sharedir)"
  rm -rf "$PRIVATE"
  mkdir -p "$PRIVATE/lib/postgresql/15/bin" "$PRIVATE/lib/postgresql/15/lib" "$PRIVATE/share/postgresql/15/extension"
  for b in postgres initdb pg_ctl psql pg_isready createdb; do cp "$PG_BIN/$b" "$PRIVATE/lib/postgresql/15/bin/"; done
  for f in "$sys_lib"/*; do ln -s "$f" "$PRIVATE/lib/postgresql/15/lib/"; done
  for f in "$sys_share"/*; do [ "$(basename "$f")" = extension ] || ln -s "$f" "$PRIVATE/share/postgresql/15/"; done
  for f in "$sys_share"/extension/*; do ln -s "$f" "$PRIVATE/share/postgresql/15/extension/"; done
  cp "$src/vector.so" "$PRIVATE/lib/postgresql/15/lib/"
  cp "$src/vector.control" "$src"/sql/vector--*.sql "$PRIVATE/share/postgresql/15/extension/"
  chmod -R a+rX "$CACHE"
  touch "$STAMP"
  echo "pg-local: pgvector $PGVECTOR_VERSION built into $PRIVATE" >&2
}

BIN() { echo "$PRIVATE/lib/postgresql/15/bin/$1"; }

# Runs a server binary as the non-root owner of the data directory.
as_owner() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
}

url_of() {
  local dir="$1"
  echo "postgres://facerec:$(cat "$dir/password")@127.0.0.1:$(cat "$dir/port")/facerec"
}

start() {
  local dir="$1"
  build
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ ! -f "$dir/cluster/PG_VERSION" ]; then
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
    free_port > "$dir/port"
    mkdir -p "$dir/cluster" "$dir/socket"
    chmod 700 "$dir/cluster" "$dir/socket"
    [ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$dir"
    chmod 755 "$dir"
    chmod 644 "$dir/password"   # readable by the server's user for initdb; the dir is the operator's
    as_owner "$(BIN initdb)" -D "$dir/cluster" -U facerec --auth=scram-sha-256 --pwfile="$dir/password" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  if as_owner "$(BIN pg_ctl)" -D "$dir/cluster" status >/dev/null 2>&1; then
    url_of "$dir"; return 0
  fi
  local port; port="$(cat "$dir/port")"
  as_owner "$(BIN pg_ctl)" -D "$dir/cluster" -w -t 30 -l "$dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c max_connections=200" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; die "server did not start"; }
  if ! PGPASSWORD="$(cat "$dir/password")" "$(BIN psql)" -h 127.0.0.1 -p "$port" -U facerec -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'facerec'" | grep -q 1; then
    PGPASSWORD="$(cat "$dir/password")" "$(BIN psql)" -h 127.0.0.1 -p "$port" -U facerec -d postgres -qc 'CREATE DATABASE facerec' >/dev/null
  fi
  url_of "$dir"
}

stop() {
  local dir="$1"
  [ -f "$dir/cluster/PG_VERSION" ] || return 0
  as_owner "$(BIN pg_ctl)" -D "$dir/cluster" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

cmd="${1:-}"
dir="${2:-$ROOT/data/pg}"
case "$cmd" in
  check) need_server
         # Building pgvector (once) needs these; a built cache does not.
         if [ ! -f "$STAMP" ]; then
           for t in curl make cc; do command -v "$t" >/dev/null 2>&1 || die "$t is missing (needed once to build pgvector; apt-get install curl make gcc)"; done
         fi ;;
  build) build ;;
  start) start "$dir" ;;
  env) [ -f "$dir/port" ] || die "no cluster in $dir (run: $0 start $dir)"; echo "export FACEREC_DATABASE_URL=$(url_of "$dir")" ;;
  stop) stop "$dir" ;;
  destroy) stop "$dir"; rm -rf "$dir" ;;
  *) echo "usage: $0 check|build|start|env|stop|destroy [DIR]" >&2; exit 2 ;;
esac
