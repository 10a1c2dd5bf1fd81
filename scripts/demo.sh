#!/usr/bin/env bash
# `npm run demo`: the README's main command (after `npm ci`). Installs the system packages the demo needs
# (Debian's Django 3.2, django-storages and boto3 for /usr/bin/python3; git if missing), builds the package,
# then runs scripts/demo.ts. Arguments are passed on: `npm run demo -- --dir DIR` keeps the sample project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
if ! command -v git >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  echo "Installing git from Debian..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq git >/dev/null
fi
npm run --silent build
exec node --import tsx scripts/demo.ts "$@"
