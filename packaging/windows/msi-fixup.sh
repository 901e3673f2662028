#!/usr/bin/env bash
# What wixl cannot write into tiepdon's MSI, added with msibuild (msitools):
# the ValidateProperties custom action (type 2: an exe from the Binary table,
# immediate, exit code checked), which the InstallExecuteSequence of
# tiepdon.wxs already schedules before RemoveExistingProducts, and from the
# same program CloseAgents (before RemoveExistingProducts) and RestartAgents
# (after InstallFinalize), both type 2 + 64 (exit code ignored). INSTALLDIR ends
# with a backslash, which would escape the closing quote: "[INSTALLDIR]." does not.
#
#   packaging/windows/msi-fixup.sh tiepdon.msi
set -euo pipefail
msi=$1
target='"GATEWAY_URL=[GATEWAY_URL]" "GATEWAY_USER=[GATEWAY_USER]" "FACILITY_CODE=[FACILITY_CODE]" "HIS_ORIGINS=[HIS_ORIGINS]" "HIS_PORT=[HIS_PORT]" "LANGUAGE=[LANGUAGE]" "SCANNER_PORT=[SCANNER_PORT]" "AUTOSTART=[AUTOSTART]"'
msibuild "$msi" -q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Source\`, \`Target\`) VALUES ('ValidateProperties', 2, 'validate.exe', '$target')"
msibuild "$msi" -q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Source\`, \`Target\`) VALUES ('CloseAgents', 66, 'validate.exe', 'close-agents \"[INSTALLDIR].\" \"[REMOVE]\"')"
msibuild "$msi" -q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Source\`, \`Target\`) VALUES ('RestartAgents', 66, 'validate.exe', 'restart-agents \"[INSTALLDIR].\"')"
