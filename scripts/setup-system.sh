#!/usr/bin/env bash
# Installs the system packages the tests drive as real parts: a browser for
# WebAuthn (chromium), a software TPM (swtpm, tpm2-tools), a software HSM
# (softhsm2, opensc's pkcs11-tool), libfido2's tools and PostgreSQL. Runs apt only when
# something is missing; needs root or sudo then.
set -euo pipefail

declare -A NEEDED=(
  [chromium]=chromium
  [swtpm]=swtpm
  [swtpm_setup]=swtpm-tools
  [tpm2_createprimary]=tpm2-tools
  [softhsm2-util]=softhsm2
  [pkcs11-tool]=opensc
  [fido2-cred]=fido2-tools
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
# PostgreSQL (the fleet store's tests start their own server): its initdb and pg_ctl are not on PATH.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup-system: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "setup-system: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
