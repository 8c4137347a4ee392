#!/usr/bin/env bash
# Installs the Debian packages that pensionbot's tests need, when missing:
# tesseract with its Simplified Chinese and English data (cardread tests) and
# a CJK font that golang.org/x/image can parse (internal/cardgen); Debian's
# chromium for the sandbox's browser test (cmd/pensionbot), with a colour
# emoji font so that its screenshots show the bot's buttons as people see
# them.
# Idempotent: it does nothing when everything is installed; it runs
# `apt-get update` once, and only when something must be installed.
set -euo pipefail

packages=(
	tesseract-ocr
	tesseract-ocr-chi-sim
	tesseract-ocr-eng
	fonts-droid-fallback
	chromium
	fonts-noto-color-emoji
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg -s "$p" >/dev/null 2>&1; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all present: ${packages[*]}"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
