#!/usr/bin/env bash
# Sets up wgml on Debian/Ubuntu: a Vulkan loader and, when no GPU adapter is
# visible, a software GPU (SwiftShader by default, Mesa 25 lavapipe with
# --lavapipe), and redis-server for the experiment queue; then npm ci and the build.
# Safe to run again.
set -euo pipefail

lavapipe=0
skip_npm=0
for arg in "$@"; do
  case "$arg" in
    --lavapipe) lavapipe=1 ;;
    --no-npm) skip_npm=1 ;;
    -h|--help)
      echo "usage: scripts/setup.sh [--lavapipe] [--no-npm]"
      echo "  --lavapipe  also install Mesa's lavapipe (mesa-vulkan-drivers) from bookworm-backports"
      echo "  --no-npm    only the system packages"
      exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup.sh: need root (or sudo) to run: $*" >&2; exit 1
  fi
}

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if command -v apt-get >/dev/null; then
  have_pkg libvulkan1 || apt_install libvulkan1
  # A real Redis for `wgml worker` and `wgml experiment --queue`; the queue tests start one on a free port.
  command -v redis-server >/dev/null || apt_install redis-server
  # A real GPU's Vulkan ICD lives in one of these; with one present no software GPU is needed.
  real_icd=$(ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json \
                /usr/local/nvidia/share/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/amd*.json 2>/dev/null | head -1 || true)
  if [ -n "$real_icd" ]; then
    echo "setup.sh: GPU Vulkan driver found ($real_icd)"
  fi
  if [ ! -f /usr/lib/chromium/vk_swiftshader_icd.json ] && { [ -z "$real_icd" ] || [ $lavapipe = 0 ]; }; then
    # chromium-common carries SwiftShader's Vulkan ICD; it is the fallback Dawn can always use.
    apt_install chromium-common
  fi
  if [ $lavapipe = 1 ]; then
    . /etc/os-release
    if [ "${VERSION_CODENAME:-}" = bookworm ]; then
      if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "deb http://deb.debian.org/debian bookworm-backports main" | as_root tee /etc/apt/sources.list.d/wgml-backports.list >/dev/null
        apt_updated=0
      fi
      # Dawn refuses bookworm's own Mesa 22 lavapipe; 25.x from backports works.
      if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
    else
      apt_install mesa-vulkan-drivers
    fi
  fi
else
  echo "setup.sh: no apt-get here; install a Vulkan loader and a Vulkan driver (or SwiftShader) yourself" >&2
fi

if [ $skip_npm = 0 ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  npm run build
fi
echo "setup.sh: done"
