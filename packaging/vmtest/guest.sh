#!/bin/sh
# The Linux VM test, inside the VM (run at every boot by vmtest.service; see run.sh). It checks
# the .deb, the systemd unit, the shutdown actions, the journal and `omniagent install` on a real
# systemd, and writes one line per check to the second serial port, which the host reads:
#   RESULT ok NAME: detail | RESULT FAIL NAME: detail | LOG text | PHASE n | VMTEST DONE
# The test spans three boots (the shutdown actions need a real power-off and a real reboot);
# the phase lives in /var/lib/vmtest/phase.
set -u
OUT=/dev/ttyS1
T=/opt/vmtest
S=/var/lib/vmtest
FAKES=$T/vmfakes
CONF=/etc/omniagent/agent.toml
JCLOG=/var/lib/vmfakes/jc-requests.log
GROUP=aaaaaaaaaaaaaaaaaaaaaaaa
mkdir -p $S
stty -F $OUT raw -echo 2>/dev/null || true

say() { printf '%s\n' "$*" >$OUT; }
ok() { say "RESULT ok $1: ${2:-}"; }
failed=0
fail() {
	failed=1
	say "RESULT FAIL $1: ${2:-}"
}
# check NAME DETAIL CMD...: ok when CMD succeeds.
check() {
	n=$1 d=$2
	shift 2
	if "$@" >/dev/null 2>&1; then ok "$n" "$d"; else fail "$n" "$d"; fi
}
# logs: the agent's journal of this boot, for the host's record after a failure.
logs() {
	journalctl -b ${1:-} -u omniagent --no-pager -o short-monotonic 2>&1 | tail -n 60 | sed 's/^/LOG /' >$OUT
}
# waitfor SECONDS CMD...: poll CMD every 0.5 s.
waitfor() {
	end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.5
	done
}
# not CMD...: CMD fails. has FILE RE / lacks FILE RE: grep -E in a file (journal and request
# logs go through files: their text is never pasted into a command line).
not() { ! "$@"; }
has() { grep -Eq -- "$2" "$1"; }
lacks() { ! grep -Eq -- "$2" "$1"; }
mainpid() { systemctl show -p MainPID --value omniagent; }
prop() { systemctl show -p "$1" --value omniagent; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
active() { [ "$(systemctl is-active omniagent)" = active ]; }
# jclines: what the JumpCloud fake recorded during the boot that began after line $1 of its log.
jclines() { tail -n +"$(($1 + 1))" $JCLOG | awk '/^# vmfakes started/ { exit } { print }'; }
# prevboot: what the detector saw while the previous boot stopped (the probe unit and the agent).
prevboot() {
	journalctl -b -1 -u vmtest-probe --no-pager -o cat 2>&1 | tail -n 4 | sed 's/^/LOG probe: /' >$OUT
	journalctl -b -1 -u omniagent --no-pager -o cat 2>&1 | grep -E 'shutdown|stopped' | sed 's/^/LOG probe: agent: /' >$OUT
}
poweroff_after() {
	say "PHASE $1 done"
	sync
	systemctl "$2" --no-block
	exit 0
}

systemctl is-system-running --wait >/dev/null 2>&1
phase=$(cat $S/phase 2>/dev/null || echo 1)
say "PHASE $phase start $(uname -r) $(systemctl --version | head -n1)"
say "LOG boot: $(systemd-analyze 2>&1 | head -n1)"
systemd-analyze blame 2>&1 | head -n 8 | sed 's/^/LOG blame: /' >$OUT

jc_config() { # jc_config DIR_DELETE DIR_LEAVE
	cat >$CONF <<EOF
# vmtest: edited by the admin
[agent]
splay = "0s"
log_level = "debug"

[[server]]
name = "jc-delete"
protocol = "jumpcloud"
url = "http://127.0.0.1:8444"
interval = "1h"
jcagent_conf = "$1/jcagent.conf"
display_name = "vmtest-delete"
on_shutdown = "delete"

[[server]]
name = "jc-leave"
protocol = "jumpcloud"
url = "http://127.0.0.1:8444"
interval = "1h"
jcagent_conf = "$2/jcagent.conf"
system_groups = ["$GROUP"]
on_shutdown = "leave_groups"
EOF
	# The fake answers the shutdown calls after 12 s: longer than a plain stop may take (10 s),
	# shorter than shutdown_timeout (20 s by default) and the unit's TimeoutStopSec (30 s).
	echo "JC_ARGS=-jc-system $1 -jc-system $2 -jc-group $GROUP -jc-slow 12s" >$S/fakes.env
}

# jc_arm ID1 ID2 NEXTPHASE ACTION: enrol two systems, point the agent at them, wait for a first
# successful cycle of each, then power off or reboot.
jc_arm() {
	$FAKES enroll $S/jc-$1 $1 && $FAKES enroll $S/jc-$2 $2
	jc_config $S/jc-$1 $S/jc-$2
	systemctl restart vmfakes
	systemctl restart omniagent
	if waitfor 90 sh -c "grep -q '^GET /api/systems/$1 200' $JCLOG && grep -q '^GET /api/v2/systems/$2/memberof.* 200' $JCLOG"; then
		ok jc-cycle "both JumpCloud servers ran a cycle against the fake"
	else
		fail jc-cycle "no successful JumpCloud cycle in 90 s"
		tail -n 20 $JCLOG | sed 's/^/LOG /' >$OUT
		logs
	fi
	sleep 1
	wc -l <$JCLOG >$S/jclog-mark
	echo "$3" >$S/phase
	poweroff_after "$phase" "$4"
}

case $phase in
1)
	# ---- 1. install the package
	if dpkg -i $T/omniagent-old.deb </dev/null >$S/dpkg.out 2>&1; then ok deb-install "dpkg -i $(dpkg-query -W -f '${Version}' omniagent)"; else
		fail deb-install "$(tail -n 5 $S/dpkg.out | tr '\n' ' ')"
	fi
	check unit-enabled "systemctl is-enabled: $(systemctl is-enabled omniagent 2>&1)" sh -c '[ "$(systemctl is-enabled omniagent)" = enabled ]'
	waitfor 15 active
	check unit-active "systemctl is-active: $(systemctl is-active omniagent 2>&1)" active
	m=$(stat -c '%a %U' $CONF 2>&1)
	check config-mode "$CONF: $m" test "$m" = "600 root"
	m=$(stat -c '%a %U' /var/lib/omniagent 2>&1)
	check state-mode "/var/lib/omniagent: $m" test "$m" = "700 root"
	omniagent status >$S/status.out 2>&1
	check status-running "omniagent status: $(head -n 1 $S/status.out)" has $S/status.out '^service: running'
	# What the shutdown detector gets from systemd's private socket while the system runs.
	$FAKES probe 2>&1 | sed 's/^/LOG probe: /' >$OUT
	$FAKES probe-raw 2>&1 | sed 's/^/LOG probe: raw /' >$OUT
	t0=$(now_ms)
	st=$(busctl --address=unix:path=/run/systemd/private get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager SystemState 2>&1)
	say "LOG probe: busctl: $st in $(($(now_ms) - t0)) ms"
	if [ -e $T/quick ]; then # VMTEST_QUICK: straight to the shutdown actions
		jc_arm 0000000000000000000000a1 0000000000000000000000a2 2 poweroff
	fi

	# ---- 2. the OCO fake as the agent's server: stop, restart, kill with a job running
	cat >$CONF <<EOF
# vmtest: edited by the admin
[agent]
splay = "0s"

[[server]]
name = "oco"
protocol = "oco"
url = "https://127.0.0.1:8443/api-agent.php"
interval = "3s"
ca_file = "/var/lib/vmfakes/oco-ca.pem"
registration_key = "vmtest-registration-key"
allow_exec = true
EOF
	systemctl restart omniagent
	if waitfor 60 $FAKES ctl GET /oco/computers host="$(hostname)"; then ok oco-registered "the agent registered with the OCO fake"; else
		fail oco-registered "no registration in 60 s"
		logs
	fi

	pid=$(mainpid)
	t0=$(now_ms)
	systemctl stop omniagent
	t1=$(now_ms)
	res="$(prop Result) code=$(prop ExecMainCode) status=$(prop ExecMainStatus)"
	# ExecMainCode 1 = exited (not killed); status 0 = the clean-stop path returned normally.
	check stop-clean "systemctl stop took $((t1 - t0)) ms; $res" test $((t1 - t0)) -lt 10000 -a "$res" = "success code=1 status=0"
	if journalctl -b -u omniagent _PID="$pid" --no-pager | grep -q 'omniagent stopped'; then ok stop-logged "'omniagent stopped' in the journal"; else
		fail stop-logged "no 'omniagent stopped' from pid $pid"
		logs
	fi
	systemctl start omniagent
	waitfor 15 active
	p1=$(mainpid)
	systemctl restart omniagent
	waitfor 15 active
	p2=$(mainpid)
	check restart "MainPID $p1 -> $p2, $(systemctl is-active omniagent)" sh -c "[ '$p1' != '$p2' ] && [ '$p2' != 0 ] && [ \"\$(systemctl is-active omniagent)\" = active ]"

	$FAKES ctl POST /oco/job host="$(hostname)" procedure="sleep 600" >/dev/null
	cg=/sys/fs/cgroup$(prop ControlGroup)
	jobpid=
	end=$(($(date +%s) + 60))
	while [ -z "$jobpid" ] && [ "$(date +%s)" -lt "$end" ]; do
		for p in $(cat $cg/cgroup.procs 2>/dev/null); do
			[ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && jobpid=$p
		done
		sleep 0.5
	done
	if [ -n "$jobpid" ]; then ok job-running "the OCO job's sleep runs in the unit's cgroup (pid $jobpid)"; else
		fail job-running "no job process in $cg in 60 s"
		logs
	fi
	restarts=$(prop NRestarts)
	pid=$(mainpid)
	t0=$(now_ms)
	systemctl kill -s KILL omniagent
	waitfor 5 sh -c "! kill -0 $jobpid" && [ -n "$jobpid" ]
	check job-killed "the job process $jobpid died with the unit's cgroup" sh -c "[ -n '$jobpid' ] && ! kill -0 '$jobpid'"
	waitfor 40 sh -c "[ \"\$(systemctl show -p NRestarts --value omniagent)\" -gt $restarts ] && [ \"\$(systemctl is-active omniagent)\" = active ]"
	t1=$(now_ms)
	check kill-restarted "restarted $((t1 - t0)) ms after SIGKILL (RestartSec=$(prop RestartUSec)), NRestarts $restarts -> $(prop NRestarts)" \
		sh -c "[ $((t1 - t0)) -ge 9000 ] && [ \"\$(systemctl is-active omniagent)\" = active ] && [ '$(mainpid)' != '$pid' ]"
	if waitfor 60 sh -c "$FAKES ctl GET /oco/job | grep -q interrupted"; then
		ok job-interrupted "the fake got: $($FAKES ctl GET /oco/job | sed 's/.*"State":\([-0-9]*\).*"Message":"\([^"]*\)".*/state \1: \2/' | cut -c1-160)"
	else
		fail job-interrupted "job: $($FAKES ctl GET /oco/job 2>&1 | cut -c1-300)"
		logs
	fi
	sleep 4 # two more cycles: the job must not come back
	n=0
	for p in $(cat /sys/fs/cgroup$(prop ControlGroup)/cgroup.procs 2>/dev/null); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && n=$((n + 1))
	done
	check job-not-rerun "$n job processes in the unit after the restart" test "$n" = 0

	# ---- 3. the journal: priorities, and the OCO event rule over a logger entry
	w=$(journalctl -b -u omniagent -p warning --no-pager -o cat 2>&1)
	if echo "$w" | grep -q 'interrupted by an agent restart' && ! echo "$w" | grep -q 'omniagent started'; then
		ok journal-priority "warnings at warning priority, info below it"
	else
		fail journal-priority "journalctl -p warning: $(echo "$w" | tail -n 3 | tr '\n' '|' | cut -c1-300)"
		journalctl -b -u omniagent -o verbose --no-pager | grep -E '^ +(PRIORITY|MESSAGE)=' | tail -n 8 | sed 's/^/LOG /' >$OUT
	fi
	$FAKES ctl POST /oco/event-rule log=journalctl query='{"identifier":"vmtest-logger"}' >/dev/null
	sleep 1
	logger -t vmtest-logger -p user.err "vmtest event from logger $$"
	if waitfor 60 sh -c "$FAKES ctl GET /oco/events | grep -q 'vmtest event from logger $$'"; then
		ok journal-event "the OCO fake stored the logger entry: $($FAKES ctl GET /oco/events | cut -c1-200)"
	else
		fail journal-event "events: $($FAKES ctl GET /oco/events 2>&1 | cut -c1-300)"
		logs
	fi

	# ---- 5. upgrade in place, keeping the edited config
	pid=$(mainpid)
	if dpkg -i $T/omniagent-new.deb </dev/null >$S/dpkg.out 2>&1; then ok deb-upgrade "dpkg -i -> $(dpkg-query -W -f '${Version}' omniagent)"; else
		fail deb-upgrade "$(tail -n 5 $S/dpkg.out | tr '\n' ' ')"
	fi
	waitfor 15 active
	check upgrade-restarted "MainPID $pid -> $(mainpid), $(omniagent version 2>&1 | head -n1)" sh -c "[ '$(mainpid)' != '$pid' ] && [ \"\$(systemctl is-active omniagent)\" = active ]"
	check upgrade-kept-config "edited config kept, $(stat -c %a $CONF)" sh -c "grep -q 'vmtest: edited' $CONF && [ \"\$(stat -c %a $CONF)\" = 600 ] && ! [ -e $CONF.dpkg-dist ]"

	# ---- 4. JumpCloud on_shutdown: armed now, checked at the next boot after a power-off
	jc_arm 0000000000000000000000a1 0000000000000000000000a2 2 poweroff
	;;
2)
	jclines "$(cat $S/jclog-mark)" >$S/seen.log
	sed 's/^/LOG jc: /' $S/seen.log >$OUT
	check poweroff-delete "DELETE recorded: $(grep '^DELETE' $S/seen.log | cut -c1-80)" has $S/seen.log '^DELETE /api/systems/0000000000000000000000a1 200'
	check poweroff-leave "group left: $(grep 'members' $S/seen.log | cut -c1-160)" has $S/seen.log "^POST /api/v2/systemgroups/$GROUP/members 204 .*\"op\":\"remove\".*0000000000000000000000a2"
	prevboot
	journalctl -b -1 -u omniagent --no-pager -o cat >$S/prev.log 2>&1
	check detector-poweroff "journal of the previous boot: shutdown actions ran" has $S/prev.log 'the system is shutting down'
	check detector-socket "systemd answered over its private socket: stopping, poweroff.target queued" has $S/prev.log 'shutdown detection: systemd is stopping.* power_off=true'
	check detector-no-fallback "no fallback warning" lacks $S/prev.log 'cannot ask systemd'
	check stop-waited "the agent waited for the slow shutdown calls (12 s, over the 10 s plain-stop limit)" lacks $S/prev.log 'did not stop within'
	[ $failed = 0 ] || logs -1
	jc_arm 0000000000000000000000b1 0000000000000000000000b2 3 reboot
	;;
3)
	jclines "$(cat $S/jclog-mark)" >$S/seen.log
	sed 's/^/LOG jc: /' $S/seen.log >$OUT
	check reboot-no-delete "no DELETE on reboot" lacks $S/seen.log '^(DELETE|ABORTED)'
	check reboot-no-leave "no group change on reboot" lacks $S/seen.log 'members'
	prevboot
	journalctl -b -1 -u omniagent --no-pager -o cat >$S/prev.log 2>&1
	check detector-reboot-stopped "journal of the previous boot: omniagent stopped" has $S/prev.log 'omniagent stopped'
	check detector-reboot "no shutdown actions at reboot" lacks $S/prev.log 'the system is shutting down'
	check detector-socket-reboot "systemd answered: stopping, for a reboot (power_off=false)" has $S/prev.log 'shutdown detection: systemd is stopping.* power_off=false'
	check detector-no-fallback-reboot "no fallback warning at reboot" lacks $S/prev.log 'cannot ask systemd'
	[ $failed = 0 ] || logs -1
	if [ -e $T/quick ]; then
		echo done >$S/phase
		say "VMTEST DONE (quick)"
		poweroff_after 3 poweroff
	fi

	# ---- 5. purge
	if dpkg --purge omniagent </dev/null >$S/dpkg.out 2>&1; then ok deb-purge "dpkg --purge"; else fail deb-purge "$(tail -n 5 $S/dpkg.out | tr '\n' ' ')"; fi
	left=
	for f in /usr/bin/omniagent /usr/lib/systemd/system/omniagent.service /etc/omniagent /var/lib/omniagent /etc/systemd/system/multi-user.target.wants/omniagent.service; do
		[ -e $f ] && left="$left $f"
	done
	check purge-files "left behind:${left:- nothing}" test -z "$left"
	check purge-stopped "unit $(systemctl is-active omniagent 2>&1), no omniagent process" sh -c "! systemctl is-active omniagent && ! pgrep -x omniagent"

	# ---- 6. omniagent install / uninstall (installer/systemd.go, no package)
	mkdir -p $S/x && dpkg-deb -x $T/omniagent-new.deb $S/x && install -m 0755 $S/x/usr/bin/omniagent /usr/local/bin/omniagent
	if /usr/local/bin/omniagent install >$S/install.out 2>&1; then ok install "omniagent install: $(tr '\n' ' ' <$S/install.out | cut -c1-160)"; else
		fail install "$(tr '\n' ' ' <$S/install.out | cut -c1-300)"
	fi
	waitfor 15 active
	check install-active "$(systemctl is-enabled omniagent 2>&1) $(systemctl is-active omniagent 2>&1), ExecStart $(prop ExecStart | sed 's/.*path=\([^ ;]*\).*/\1/')" \
		sh -c "[ \"\$(systemctl is-enabled omniagent)\" = enabled ] && [ \"\$(systemctl is-active omniagent)\" = active ]"
	m="$(stat -c %a $CONF 2>&1) $(stat -c %a /var/lib/omniagent 2>&1)"
	check install-modes "config and state: $m" test "$m" = "600 700"
	/usr/local/bin/omniagent status >$S/status.out 2>&1
	check install-status "omniagent status: $(head -n 1 $S/status.out)" has $S/status.out '^service: running'
	pid=$(mainpid)
	systemctl stop omniagent
	check install-stop-clean "$(prop Result) code=$(prop ExecMainCode) status=$(prop ExecMainStatus)" test "$(prop Result) $(prop ExecMainCode) $(prop ExecMainStatus)" = "success 1 0"
	systemctl start omniagent
	if /usr/local/bin/omniagent uninstall >$S/install.out 2>&1; then ok uninstall "omniagent uninstall: $(tr '\n' ' ' <$S/install.out | cut -c1-160)"; else
		fail uninstall "$(tr '\n' ' ' <$S/install.out | cut -c1-300)"
	fi
	check uninstall-gone "unit $(systemctl is-active omniagent 2>&1), file $(ls /etc/systemd/system/omniagent.service 2>&1 | cut -c1-60)" \
		sh -c "! systemctl is-active omniagent && ! [ -e /etc/systemd/system/omniagent.service ] && ! pgrep -x omniagent"
	[ $failed = 0 ] || logs
	echo done >$S/phase
	say "VMTEST DONE"
	poweroff_after 3 poweroff
	;;
*)
	say "VMTEST DONE (already)"
	poweroff_after "$phase" poweroff
	;;
esac
