#!/bin/sh
# A flex test driver. It logs each call to calls.log beside itself. mount
# writes the JSON options to <dir>/options.json; with option "tmpfs":"true"
# it first mounts a tmpfs at <dir> (root only). attach succeeds and reports
# /dev/flex-test; detach of volume "busy" fails. Drivers named "*noattach*"
# do not report the attach capability.
here=$(dirname "$0")
echo "$1" >> "$here/calls.log"
ok() { printf '{"status":"Success"%s}\n' "$1"; exit 0; }
fail() { printf '{"status":"Failure","message":"%s"}\n' "$1"; exit 1; }
case "$1" in
init)
	case "$0" in
	*noattach*) ok ',"capabilities":{"attach":false}' ;;
	*) ok ',"capabilities":{"attach":true}' ;;
	esac ;;
mount)
	dir=$2; opts=$3
	case "$opts" in
	*'"tmpfs":"true"'*)
		mountpoint -q "$dir" || mount -t tmpfs tmpfs "$dir" || fail "tmpfs mount failed" ;;
	esac
	printf '%s' "$opts" > "$dir/options.json" || fail "cannot write options"
	ok ;;
unmount)
	dir=$2
	if mountpoint -q "$dir"; then umount "$dir" || fail "umount failed"; fi
	rm -f "$dir/options.json"
	ok ;;
attach)
	ok ',"device":"/dev/flex-test"' ;;
detach)
	[ "$2" = busy ] && fail "volume busy"
	ok ;;
*)
	printf '{"status":"Not supported","message":"%s"}\n' "$1"; exit 1 ;;
esac
