#!/bin/sh
# Debian: "dpkg --purge tiepdon" removes the machine config directory too
# (dpkg already removed the conffile; install.log may be left there).
# Users' data in ~/.local/share/tiepdon is not touched: run
# "tiepdon purge-data --yes" before removing the package to delete it.
set -e
if [ "$1" = "purge" ]; then
	rm -rf /etc/tiepdon
fi
exit 0
