#!/usr/bin/env bash
# What wixl cannot write into tiepdon's MSI, added with msibuild (msitools):
# the ValidateProperties custom action (type 2: an exe from the Binary table,
# immediate, exit code checked), which the InstallExecuteSequence of
# tiepdon.wxs already schedules before RemoveExistingProducts.
#
#   packaging/windows/msi-fixup.sh tiepdon.msi
set -euo pipefail
msi=$1
target='"GATEWAY_URL=[GATEWAY_URL]" "GATEWAY_USER=[GATEWAY_USER]" "FACILITY_CODE=[FACILITY_CODE]" "HIS_ORIGINS=[HIS_ORIGINS]" "HIS_PORT=[HIS_PORT]" "LANGUAGE=[LANGUAGE]" "SCANNER_PORT=[SCANNER_PORT]" "AUTOSTART=[AUTOSTART]"'
msibuild "$msi" -q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Source\`, \`Target\`) VALUES ('ValidateProperties', 2, 'validate.exe', '$target')"
