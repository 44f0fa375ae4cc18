#!/usr/bin/env bash
# Build a Carnet release for the carnet role: a tarball of wheels (Carnet and every
# dependency, for Debian 12's Python 3.11), made on the admin's machine, since the
# servers need no access to any package index.
#
#   infra/ansible/build-release.sh [RELEASE]      # default: the version in pyproject.toml
#
# Writes infra/ansible/dist/carnet-RELEASE-wheelhouse.tar; set carnet_release=RELEASE
# and carnet_release_archive to that path in the inventory. Run it with Python 3.11 on
# x86_64 Linux (pip picks wheels for the machine it runs on).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3.11}
version=$("$python" -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["project"]["version"])' "$root/pyproject.toml")
release=${1:-$version}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src" "$work/wheels" "$here/dist"
cp -r "$root/pyproject.toml" "$root/README.md" "$root/LICENSE" "$root/services" "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
"$python" -m pip wheel --quiet --wheel-dir "$work/wheels" "$work/src"
tar -C "$work/wheels" -cf "$here/dist/carnet-$release-wheelhouse.tar" .
echo "$here/dist/carnet-$release-wheelhouse.tar (release $release)"
