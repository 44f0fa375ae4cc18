#!/usr/bin/env bash
# Make the local Debian 12 base image when no registry is reachable.
#
# The Containerfiles start FROM docker.io/library/debian:bookworm. Where a registry is
# reachable, podman pulls it; here we build the same thing with debootstrap and import
# it under that name (and as localhost/carnet-base:bookworm), so one Containerfile
# serves both cases.
#
# The rootfs tarball is cached under $CARNET_CACHE_DIR (default /var/cache/carnet), keyed
# by a hash of the recipe below: change the recipe and a new tarball is made. Running
# the script again when the image already carries the recipe's hash does nothing.
set -euo pipefail

SUITE=bookworm
VARIANT=minbase
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${CARNET_CACHE_DIR:-/var/cache/carnet}
NAMES=(localhost/carnet-base:bookworm docker.io/library/debian:bookworm)

recipe="debootstrap --variant=$VARIANT $SUITE $MIRROR; strip apt caches; v1"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
tarball="$CACHE_DIR/debian-$SUITE-$VARIANT-$key.tar"
label=org.carnet.base-recipe

have=$(podman image inspect --format "{{index .Labels \"$label\"}}" "${NAMES[1]}" 2>/dev/null || true)
if [ "$have" = "$key" ]; then
    echo "base image ${NAMES[1]} is up to date ($key)"
    exit 0
fi

if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is needed (apt-get install debootstrap)" >&2; exit 1; }
    mkdir -p "$CACHE_DIR"
    rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    echo "debootstrap $SUITE into $rootfs (about 30 s)"
    debootstrap --variant="$VARIANT" "$SUITE" "$rootfs" "$MIRROR" >/dev/null
    # What the official image also leaves out: downloaded packages and package lists.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
fi

podman import \
    --change "LABEL $label=$key" \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "${NAMES[0]}" >/dev/null
podman tag "${NAMES[0]}" "${NAMES[1]}"
echo "imported ${NAMES[*]} ($key)"
