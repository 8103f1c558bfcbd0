#!/usr/bin/env bash
# First-time setup for docker-compose.yml: `.env` from `.env.example`, and the secret files in secrets/.
# Never overwrites an existing file (a second master key would make every stored recording unreadable).
#
#   sudo docker/setup.sh      # as root, so the secret files can be given to the containers' uid
#
# Compose bind-mounts file secrets with their host owner and mode, and the anonscribe containers run as
# uid 10001: the files end up owned by 10001, mode 0400. The master key is made by the image itself
# (`anonscribe keys init`), so the host needs no Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."
APP_UID=10001
# The image docker-compose.yml builds for the api service (same name and default tag).
IMAGE=${ANONSCRIBE_SETUP_IMAGE:-anonscribe-api:${IMAGE_TAG:-local}}

random_token() {
  # 32 bytes from the kernel, URL-safe base64 without padding: safe in a pgpass line or a URL.
  head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'
}

if [ ! -f .env ]; then
  cp .env.example .env
  echo "wrote .env (all settings at their defaults; edit to tune)"
fi

mkdir -p secrets
chmod 0700 secrets
umask 077

if [ ! -f secrets/db-password ]; then
  random_token > secrets/db-password
  echo "wrote secrets/db-password"
fi

# The S3 identity: the app reads s3-access-key and s3-secret-key, the `storage` service (profile s3) the same
# pair from s3-config.json (without it SeaweedFS would serve anyone). It may touch only the app's bucket
# (ANONSCRIBE_S3_BUCKET in docker-compose.yml); Admin on it lets `anonscribe migrate` create it.
S3_BUCKET=anonscribe
new_s3_keys=no
if [ ! -f secrets/s3-access-key ] || [ ! -f secrets/s3-secret-key ]; then
  random_token | cut -c1-20 > secrets/s3-access-key
  random_token > secrets/s3-secret-key
  new_s3_keys=yes
  echo "wrote secrets/s3-access-key and secrets/s3-secret-key"
fi
if [ ! -f secrets/s3-config.json ] || [ "$new_s3_keys" = yes ]; then
  cat > secrets/s3-config.json <<EOF
{
  "identities": [
    {
      "name": "anonscribe",
      "credentials": [{"accessKey": "$(cat secrets/s3-access-key)", "secretKey": "$(cat secrets/s3-secret-key)"}],
      "actions": ["Admin:$S3_BUCKET", "Read:$S3_BUCKET", "Write:$S3_BUCKET", "List:$S3_BUCKET", "Tagging:$S3_BUCKET"]
    }
  ]
}
EOF
  echo "wrote secrets/s3-config.json"
fi

if [ ! -f secrets/master-keyset.json ]; then
  if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    docker build -f docker/Dockerfile --target api -t "$IMAGE" .
  fi
  # Run as the invoking user so the keyset lands in secrets/ (mode 0600, owned by that user) ...
  docker run --rm --network none --user "$(id -u):$(id -g)" -v "$PWD/secrets:/out" \
    --entrypoint anonscribe "$IMAGE" keys init --path /out/master-keyset.json
  echo "wrote secrets/master-keyset.json: back it up offline; without it nothing stored can be decrypted"
fi

# ... then hand every secret file to the containers' user.
if [ "$(id -u)" = 0 ]; then
  chown "$APP_UID:$APP_UID" secrets/*
  chmod 0400 secrets/*
else
  echo "not root: now run" >&2
  echo "  sudo chown $APP_UID:$APP_UID secrets/* && sudo chmod 0400 secrets/*" >&2
fi
