#!/usr/bin/env bash
# The one setup path behind `npm run demo` and `npm test`: OS packages, npm dependencies, the
# Temporal CLI and the lab's root filesystem. Idempotent; with everything present it takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_CLI_VERSION=v1.5.1
# debootstrap + systemd-nspawn build and boot the lab hosts; iproute2 wires their network;
# zstd packs the rootfs cache; openssh-client gives ssh-keygen and ssh.
# chromium: the browser test/integration/ui.test.ts drives with playwright-core (no browser download).
APT_PACKAGES=(debootstrap systemd-container iproute2 zstd openssh-client ca-certificates procps chromium)

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (the lab needs network namespaces, overlay mounts and systemd-nspawn)" >&2
  exit 1
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Install only when the lockfile changed since the last install. `npm install` rather than `npm ci`:
# npm 11 writes lockfiles without other platforms' optional packages, which `npm ci` then rejects;
# with an up-to-date lockfile `npm install` installs exactly what it pins and leaves it unchanged.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi

# The Temporal CLI (dev server + Web UI): $TEMPORAL_CLI, `temporal` on PATH, the tools folder, or built.
if [ -n "${TEMPORAL_CLI:-}" ] && [ -x "${TEMPORAL_CLI}" ]; then
  :
elif command -v temporal >/dev/null 2>&1; then
  :
elif [ -x .tools/bin/temporal ]; then
  :
else
  GO=$(command -v go || true)
  [ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; }
  if [ -z "$GO" ]; then
    cat >&2 <<MSG
setup: no Temporal CLI found and no Go toolchain to build one.
  Install the Temporal CLI and put 'temporal' on PATH (or set TEMPORAL_CLI=/path/to/temporal),
  or install Go >= 1.23 and run:
    GOBIN=$PWD/.tools/bin GOTOOLCHAIN=local CGO_ENABLED=0 go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}
MSG
    exit 1
  fi
  say "building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (once; a few minutes when cold)"
  mkdir -p .tools/bin
  if ! GOBIN="$PWD/.tools/bin" GOTOOLCHAIN=local CGO_ENABLED=0 "$GO" install "github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}"; then
    echo "setup: go install of the Temporal CLI failed (see above). Install it by hand and set TEMPORAL_CLI." >&2
    exit 1
  fi
fi

# The lab's Debian rootfs: built once with debootstrap, then cached as a tarball keyed on its packages.
node_modules/.bin/tsx lab/cli.ts rootfs >/dev/null
say "ready"
