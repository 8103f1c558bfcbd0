#!/bin/sh
# Entrypoint of the anonscribe images: turns Docker secret files into what the service reads, then execs
# the command (uvicorn, `anonscribe worker`, ...) so it receives signals directly.
set -eu

die() {
  echo "entrypoint: $*" >&2
  exit 1
}

# Fails with the likely fix: a missing file, or one the container user may not read.
need_readable() {
  [ -e "$1" ] || die "$2 $1 does not exist (see docker/setup.sh)"
  [ -r "$1" ] || die "$2 $1 is not readable by uid $(id -u): chown the host file to $(id -u), mode 0400"
}

# The service takes its database URL from ANONSCRIBE_DATABASE_URL only and has no *_FILE form for it, so
# the URL carries no password and the password comes from a secret file: libpq uses PGPASSWORD whenever
# the connection string has none. $(cat) drops trailing newlines, as the postgres image does for
# POSTGRES_PASSWORD_FILE, so the same file serves both sides.
if [ -n "${ANONSCRIBE_DATABASE_PASSWORD_FILE:-}" ]; then
  need_readable "$ANONSCRIBE_DATABASE_PASSWORD_FILE" "database password file"
  PGPASSWORD=$(cat "$ANONSCRIBE_DATABASE_PASSWORD_FILE")
  export PGPASSWORD
fi

# Compose bind-mounts file secrets with their host owner and mode (uid/gid/mode are not applied), so an
# unreadable key is the usual first-start mistake: say so here rather than as a decryption error later.
if [ -n "${ANONSCRIBE_MASTER_KEY_FILE:-}" ]; then
  need_readable "$ANONSCRIBE_MASTER_KEY_FILE" "master key"
fi

exec "$@"
