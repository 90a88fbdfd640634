#!/bin/sh
# The folders the app writes, with the owners and modes nginx needs to read what it serves
# (README, "Production"). Run by the Dockerfile as root, and by the stack test (tests/stack) with local users.
#   deploy/data-folders.sh ROOT APP_USER FILES_GID
# ROOT/static   static files, public: the app writes, everyone reads (collectstatic writes 0644 files).
# ROOT/private  uploaded files: the app writes, the group FILES_GID (nginx's) reads, nobody else. The app
#               runs with FILES_GID as its group (Dockerfile), so what it writes belongs to that group; the
#               set-group-ID bit does the same for what root writes there (a restore run as root).
# ROOT/backups  backup archives: the app only.
set -eu
root=$1 app=$2 files_gid=$3
mkdir -p "$root/static" "$root/private" "$root/backups"
chown "$app" "$root/static" "$root/private" "$root/backups"
chgrp "$files_gid" "$root/private"
chmod 0755 "$root/static"
chmod 2750 "$root/private"
chmod 0700 "$root/backups"
