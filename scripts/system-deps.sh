#!/usr/bin/env bash
# Installs what the tests and the demo need besides npm packages: Debian's Django 3.2, django-storages 1.13
# and boto3 for /usr/bin/python3 (the python3 on PATH may be another interpreter without them).
set -euo pipefail
if /usr/bin/python3 -c 'import django, storages, boto3' 2>/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "Installing python3-django, python3-django-storages and python3-boto3 from Debian..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-django python3-django-storages python3-boto3 >/dev/null
/usr/bin/python3 -c 'import django, storages, boto3; print("Django", django.get_version(), "django-storages", storages.__version__, "boto3", boto3.__version__)'
