#!/usr/bin/env bash
# Installs the system packages dadan's labels and tests need: a CJK font, zbar (barcode
# reader used by the tests), tmux (terminal smoke test) and fontconfig; for the tests (not with
# --optional) also PostgreSQL's server, which tests/pg_cluster.py starts as a throwaway cluster.
# --optional: never fail; only warn, and skip what only the tests need (used by `make run`).
set -u
optional=0
[ "${1:-}" = "--optional" ] && optional=1
pkgs=(fonts-wqy-microhei fontconfig libzbar0 zbar-tools tmux)
[ $optional -eq 0 ] && pkgs+=(postgresql)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; then
        exit 0
    fi
elif command -v sudo >/dev/null && command -v apt-get >/dev/null && [ $optional -eq 0 ]; then
    sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
fi
echo "warning: could not install: ${missing[*]} (install them with your package manager)" >&2
[ $optional -eq 1 ] && exit 0
exit 1
