#!/usr/bin/env bash
# Cross-builds the static k2d release binary for 64-bit and 32-bit ARM on a Debian x86_64 host.
#
#   ./scripts/cross.sh [aarch64|armv7]...      (default: both)
#
# Installs what is missing: Debian's cross compilers (gcc-aarch64-linux-gnu,
# gcc-arm-linux-gnueabihf, with their libc) and the Rust standard library of each target
# (`rustup target add`). The linkers are set in .cargo/config.toml. The binaries land in
# target/<triple>/release/k2d; when qemu-user is installed, each is run once
# (`k2d version`) as a check. No OpenSSL is involved: TLS is rustls with ring.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(aarch64 armv7)
ensure_cargo
command -v rustup >/dev/null 2>&1 || die "rustup is needed to add the Rust targets"
for arch in "${arches[@]}"; do
  case "$arch" in
    aarch64) triple=aarch64-unknown-linux-gnu; pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross); qemu="qemu-aarch64" ;;
    armv7) triple=armv7-unknown-linux-gnueabihf; pkgs=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross); qemu="qemu-arm" ;;
    *) die "unknown architecture $arch (aarch64 or armv7)" ;;
  esac
  apt_install "${pkgs[@]}"
  rustup target list --installed | grep -qx "$triple" || rustup target add "$triple" >&2
  log "cargo build --release --target $triple (static)"
  (cd "$K2D_REPO" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --target "$triple") >&2 || die "cross build for $triple failed"
  bin="$K2D_REPO/target/$triple/release/k2d"
  log "$bin: $(du -h "$bin" | cut -f1)"
  if command -v "$qemu" >/dev/null 2>&1; then
    "$qemu" "$bin" version || die "$bin does not run under $qemu"
  fi
done
