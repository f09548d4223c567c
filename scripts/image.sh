#!/usr/bin/env bash
# Builds the k2d container image without any registry: a tar holding only the static k2d
# binary, turned into an image with `docker import` (no base image, nothing pulled).
#
#   ./scripts/image.sh [--tag k2d:0.1.0] [--binary PATH]
#
# The binary defaults to the static release build of scripts/lib.sh ($K2D_RELEASE_BIN, built
# when missing). k2d needs no CA roots (it never talks TLS to a registry itself: the engine
# pulls images) and no name service (the engine is a unix socket), so the image holds /k2d and
# nothing else. The image is labelled io.k2d.self=true: k2d never shows the container it runs
# in as a pod. Prints the image id. For users with a registry, the Dockerfile at the
# repository root builds the same image in two stages.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$K2D_REPO/Cargo.toml" | head -n1)
tag="k2d:$version"
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    *) die "unknown argument $1 (use --tag NAME:TAG, --binary PATH)" ;;
  esac
done
if [ -z "$binary" ]; then
  binary=$K2D_RELEASE_BIN
  [ -x "$binary" ] || build_k2d_release
fi
[ -x "$binary" ] || die "$binary is not an executable k2d binary"
# A scratch image has no dynamic loader: refuse a binary that needs one.
if od -An -c -N 4096 "$binary" | tr -d ' \n' | grep -q 'ld-linux'; then
  die "$binary is dynamically linked; build it static (scripts/lib.sh build_k2d_release)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
install -m 0755 "$binary" "$tmp/k2d"
tar -C "$tmp" --numeric-owner --owner=0 --group=0 -cf "$tmp/rootfs.tar" k2d
log "docker import $tag ($(du -h "$tmp/k2d" | cut -f1) binary)"
docker import \
  --change 'LABEL io.k2d.self=true' \
  --change 'ENV K2D_DATA_DIR=/var/lib/k2d' \
  --change 'EXPOSE 6443' \
  --change 'ENTRYPOINT ["/k2d"]' \
  --change 'CMD ["serve"]' \
  "$tmp/rootfs.tar" "$tag"
