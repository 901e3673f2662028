#!/usr/bin/env bash
# Signs a Windows PE file (.exe, .com) or an MSI with osslsigncode (Authenticode, SHA-256).
#
#   packaging/windows/sign.sh IN OUT "description"
#
# The certificate comes from the environment:
#   SIGN_PKCS12         path of a .p12/.pfx holding the code-signing key and certificate
#   SIGN_PASSWORD       its password (or SIGN_PASSWORD_FILE: a file holding it)
#   SIGN_TSA_URL        RFC 3161 timestamp server (release builds: without a timestamp the
#                       signature dies with the certificate), e.g. http://timestamp.digicert.com
#   SIGN_URL            URL shown in the signature (default: the project page)
# A key in an HSM (EV certificates) needs osslsigncode's PKCS#11 options instead; see
# docs/install-windows.md.
set -euo pipefail
in=$1 out=$2 desc=$3
: "${SIGN_PKCS12:?SIGN_PKCS12 is not set}"
pass=${SIGN_PASSWORD:-}
if [ -z "$pass" ] && [ -n "${SIGN_PASSWORD_FILE:-}" ]; then pass=$(cat "$SIGN_PASSWORD_FILE"); fi
args=(sign -pkcs12 "$SIGN_PKCS12" -pass "$pass" -h sha256 -n "$desc" -i "${SIGN_URL:-https://github.com/tiepdon/tiepdon}")
if [ -n "${SIGN_TSA_URL:-}" ]; then args+=(-ts "$SIGN_TSA_URL"); fi
rm -f "$out"
osslsigncode "${args[@]}" -in "$in" -out "$out" >/dev/null
