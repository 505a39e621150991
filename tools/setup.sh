#!/usr/bin/env bash
# setup.sh - install what iosim needs to build, on Debian 12. A no-op when all is present.
#
# Usage: tools/setup.sh
# Uses sudo when not run as root. Only Debian packages; nothing is downloaded otherwise.
set -euo pipefail

packages=(
  g++ gcc cmake ninja-build pkg-config binutils python3 gdb tmux
  libboost-dev libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libreadline-dev libdw-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "iosim setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
