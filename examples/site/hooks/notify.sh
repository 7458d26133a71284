#!/bin/sh
# End hook: tells the monitoring how a plan ended. Here one line appended to $DRILL_NOTIFY_LOG
# (default /var/log/flashrun-drills.log); a site would call its alerting system instead.
line="$(date -u +%Y-%m-%dT%H:%M:%SZ) flashrun $FLASHRUN_PLAN $FLASHRUN_OUTCOME (rollback $FLASHRUN_ROLLBACK${FLASHRUN_FAILED_STEP:+, failed at $FLASHRUN_FAILED_STEP}) standby $FLASHRUN_TARGET_HOST:$FLASHRUN_TARGET_PORT"
echo "$line" >>"${DRILL_NOTIFY_LOG:-/var/log/flashrun-drills.log}"
echo "$line"
