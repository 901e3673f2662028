#!/usr/bin/env bash
# Signs a Windows PE file (.exe, .com) or an MSI with osslsigncode (Authenticode, SHA-256).
#
#   packaging/windows/sign.sh IN OUT "description"
#
# The key comes from the environment, either from a file:
#   SIGN_PKCS12         path of a .p12/.pfx holding the code-signing key and certificate
#   SIGN_PASSWORD       its password (or SIGN_PASSWORD_FILE: a file holding it)
# or from a hardware token or HSM through PKCS#11 (EV certificates, and every publicly
# trusted code-signing certificate issued since June 2023, keep their key in one):
#   SIGN_PKCS11_MODULE  the token's PKCS#11 library (the vendor's .so, or a cloud HSM's)
#   SIGN_PKCS11_KEY     the key's PKCS#11 URI, e.g. "pkcs11:token=Codesign;object=key;type=private"
#   SIGN_CERTS          the certificate chain as PEM, signing certificate first
#   SIGN_PIN            the token's PIN (or SIGN_PIN_FILE: a file holding it)
#   SIGN_PKCS11_ENGINE  OpenSSL's pkcs11 engine (Debian: libengine-pkcs11-openssl), if
#                       osslsigncode does not find it by itself
# and for both:
#   SIGN_TSA_URL        RFC 3161 timestamp server (release builds: without a timestamp the
#                       signature dies with the certificate), e.g. http://timestamp.digicert.com
#   SIGN_URL            URL shown in the signature (default: the project page)
set -euo pipefail
in=$1 out=$2 desc=$3
secret() { # secret VALUE FILE: the value, or the file's first line
  if [ -n "$1" ]; then printf '%s' "$1"; elif [ -n "$2" ]; then head -1 "$2" | tr -d '\r\n'; fi
}
if [ -n "${SIGN_PKCS11_MODULE:-}" ]; then
  : "${SIGN_PKCS11_KEY:?SIGN_PKCS11_KEY (a pkcs11: URI of the key) is not set}"
  : "${SIGN_CERTS:?SIGN_CERTS (the certificate chain, PEM) is not set}"
  args=(sign -pkcs11module "$SIGN_PKCS11_MODULE" -key "$SIGN_PKCS11_KEY" -certs "$SIGN_CERTS"
    -pass "$(secret "${SIGN_PIN:-}" "${SIGN_PIN_FILE:-}")")
  if [ -n "${SIGN_PKCS11_ENGINE:-}" ]; then args+=(-pkcs11engine "$SIGN_PKCS11_ENGINE"); fi
else
  : "${SIGN_PKCS12:?neither SIGN_PKCS12 nor SIGN_PKCS11_MODULE is set}"
  args=(sign -pkcs12 "$SIGN_PKCS12" -pass "$(secret "${SIGN_PASSWORD:-}" "${SIGN_PASSWORD_FILE:-}")")
fi
args+=(-h sha256 -n "$desc" -i "${SIGN_URL:-https://github.com/tiepdon/tiepdon}")
if [ -n "${SIGN_TSA_URL:-}" ]; then args+=(-ts "$SIGN_TSA_URL"); fi
rm -f "$out"
if ! log=$(osslsigncode "${args[@]}" -in "$in" -out "$out" 2>&1); then
  echo "sign: osslsigncode failed for ${in##*/}:" >&2
  grep -v -i 'pass\|pin' <<<"$log" >&2 || true
  exit 1
fi
