#!/bin/sh
# Install the Debian 12 packages mmulab needs that are not installed yet.
#   scripts/deps.sh          build, test and run (QEMU: the guest kernel and
#                            outside kernels are checked against it)
#   scripts/deps.sh fuzz     also clang and its libFuzzer runtime
#   scripts/deps.sh bench    also Bochs and GRUB's CD-image tools (the
#                            benchmarks' second reference interpreter)
# Runs apt-get only when something is missing; needs root (or sudo) then.
set -eu

PKGS="build-essential make meson ninja-build pkg-config cmake python3 \
libzydis-dev libzycore-dev libcapstone-dev libcriterion-dev \
libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core libzstd-dev zlib1g-dev \
qemu-system-x86"
if [ "${1:-}" = fuzz ]; then
	PKGS="$PKGS clang libclang-rt-14-dev"
fi
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS bochs bochsbios bochs-term vgabios grub-pc-bin grub-common xorriso mtools"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "mmulab: installing missing Debian packages:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "mmulab: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
