#!/usr/bin/env bash
# Makes a throwaway self-signed code-signing certificate for tests:
#   packaging/windows/test-cert.sh DIR  ->  DIR/test-codesign.{key,crt,p12} (p12 password: test)
# Never use it for anything that leaves the test machine.
set -euo pipefail
dir=$1
mkdir -p "$dir"
openssl req -x509 -newkey rsa:3072 -sha256 -days 2 -nodes -keyout "$dir/test-codesign.key" -out "$dir/test-codesign.crt" \
  -subj "/CN=tiepdon TEST code signing (throwaway)/O=tiepdon test/C=VN" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
  -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
openssl pkcs12 -export -inkey "$dir/test-codesign.key" -in "$dir/test-codesign.crt" \
  -out "$dir/test-codesign.p12" -passout pass:test
