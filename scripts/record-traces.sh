#!/bin/sh
# Re-record the regression traces in traces/ and say which ones changed
# behaviour: for each trace, the new recording's `mmulab trace-stats` is
# compared with the old one's, and the old trace is replayed through the
# current MMU model. Run from the repository root after `make build`:
#
#   scripts/record-traces.sh [BUILD_DIR]
#
# Exit status 0 when every trace kept its behaviour, 1 when any changed
# (the new files are in place either way; review the diff, then commit).
# How a trace is encoded (its size, how many accesses took the predicted
# forms) is not behaviour: it is printed as "format:" and not compared.
#
# After a change of the trace format, the old traces can only be read by a
# build from before the change: give its mmulab as OLD_MMULAB, which then
# reads (trace-stats) and replays the old traces.
#
# Adding a trace is one line in the list below: a name, then the arguments
# of `mmulab run` (the kernel path is relative to the build directory).
set -eu
BUILD=${1:-build}
MMULAB=$BUILD/mmulab
OLD_MMULAB=${OLD_MMULAB:-$MMULAB}
KERNEL=$BUILD/guestos/mmulab-kernel
GUEST=$BUILD/tests/guest
USER=$BUILD/guestos/user

traces() {
cat <<LIST
kernel_boot       -kernel $KERNEL -append selftest -trace-insns 2000000
kernel_buddy      -kernel $KERNEL -append selftest -trace-from 12000000 -trace-insns 1000000
kernel_slab_vmalloc -kernel $KERNEL -append selftest -trace-from 29500000 -trace-insns 1300000
user_demand_paging -kernel $KERNEL -initrd $USER/init,$USER/touch -append run=touch:2 -trace-from 6000000
user_cow_fork     -kernel $KERNEL -initrd $USER/init,$USER/cowfork -append run=cowfork -trace-from 6000000
user_mprotect    -kernel $KERNEL -initrd $USER/init,$USER/mprot -append run=mprot -trace-from 6000000
user_badptr      -kernel $KERNEL -initrd $USER/init,$USER/badptr -append run=badptr -trace-from 6000000
guest_pagefault   -kernel $GUEST/pagefault.elf
guest_privilege   -kernel $GUEST/privilege.elf
guest_smc         -kernel $GUEST/smc.elf
guest_exceptions  -kernel $GUEST/exceptions.elf
guest_tlb_thrash  -kernel $GUEST/tlb_thrash.elf
LIST
}

# trace-stats lines that describe the encoding, not the behaviour.
ENCODING='file_bytes|bytes_per_access|predicted_accesses'
encoding() {
	grep -E "^($ENCODING) " "$1" | tr '\n' ' ' | sed 's/ $//'
}

changed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
traces | while read -r name args; do
	out=traces/$name.mmt
	# shellcheck disable=SC2086
	"$MMULAB" run $args -serial none -trace "$tmp/$name.mmt" >/dev/null 2>"$tmp/$name.err" || true
	if [ -s "$tmp/$name.err" ] && grep -q "trace" "$tmp/$name.err"; then
		echo "$name: recording failed: $(cat "$tmp/$name.err")"
		exit 1
	fi
	"$MMULAB" trace-stats "$tmp/$name.mmt" | grep -v '^#' >"$tmp/$name.new.all"
	grep -Ev "^($ENCODING) " "$tmp/$name.new.all" >"$tmp/$name.new"
	if [ -f "$out" ]; then
		if ! "$OLD_MMULAB" replay "$out" >/dev/null 2>"$tmp/$name.replay"; then
			echo "$name: the old trace no longer replays: $(cat "$tmp/$name.replay")"
			touch "$tmp/changed"
		fi
		"$OLD_MMULAB" trace-stats "$out" 2>/dev/null | grep -v '^#' >"$tmp/$name.old.all" || true
		grep -Ev "^($ENCODING) " "$tmp/$name.old.all" >"$tmp/$name.old" || true
		echo "$name: format: $(encoding "$tmp/$name.old.all") -> $(encoding "$tmp/$name.new.all")"
		if ! diff -u "$tmp/$name.old" "$tmp/$name.new" >"$tmp/$name.diff"; then
			echo "$name: behaviour changed:"
			cat "$tmp/$name.diff"
			touch "$tmp/changed"
		else
			echo "$name: unchanged"
		fi
	else
		echo "$name: new trace"
	fi
	cp "$tmp/$name.mmt" "$out"
	echo "$name: $(wc -c <"$out") bytes, $(grep '^records_access' "$tmp/$name.new")"
done
[ -f "$tmp/changed" ] && changed=1
exit $changed
