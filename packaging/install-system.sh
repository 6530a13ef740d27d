#!/usr/bin/env bash
# Debian/Ubuntu packages Crosscurrent needs outside Python.
#   run:  the Qt libraries the desktop window (pywebview's Qt backend) loads.
#   test: those, plus Chromium for the browser tests, Xvfb for the window test and Node.js for web-ext.
set -euo pipefail
what=${1:-run}

run_pkgs=(libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
  libxcb-xkb1 libxcb-randr0 libxcb-cursor0 libxkbcommon-x11-0 libgbm1 libegl1 libgl1 libnss3 libxcomposite1
  libxdamage1 libxrandr2 libxtst6 libxkbfile1 libasound2 libdbus-1-3 fonts-dejavu-core)
test_pkgs=(chromium xvfb xauth x11-apps nodejs npm)

pkgs=("${run_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

if ! command -v apt-get >/dev/null 2>&1; then
  echo "No apt-get here: install these yourself if the window or the tests need them: ${pkgs[*]}" >&2
  exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from elsewhere than Debian: keep what is there.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]}"
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
