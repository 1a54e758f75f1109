#!/bin/sh
# help: rolls dice, e.g. 2d6
# usage: [N]d<SIDES>
#
# An exec plugin (logbot/plugins/exec.py): the bot runs this script once per
# "!roll", with the request as JSON on stdin and its words in LOGBOT_* variables;
# every line written to stdout is a reply line.  The input is only ever matched
# against patterns and handed to awk as data (-v), never evaluated.

cat >/dev/null  # the JSON request: everything needed is in the environment

spec=${LOGBOT_ARGS:-1d6}
spec=${spec%% *}  # the first word; the rest is ignored

usage() {
    echo "usage: !roll [N]d<SIDES> (N 1..20, SIDES 2..1000), e.g. !roll 2d6"
    exit 0
}

case $spec in
    [dD]*) count=1; sides=${spec#?} ;;
    *[dD]*) count=${spec%%[dD]*}; sides=${spec#*[dD]} ;;
    *) usage ;;
esac

# Digits only, at most four of them, no leading zero: then the numeric tests are safe.
for n in "$count" "$sides"; do
    case $n in
        '' | *[!0-9]* | 0* | ?????*) usage ;;
    esac
done
[ "$count" -ge 1 ] && [ "$count" -le 20 ] || usage
[ "$sides" -ge 2 ] && [ "$sides" -le 1000 ] || usage

# The seed: 4 bytes of /dev/urandom, else the time; plus our PID, so two rolls in the
# same second differ.  (awk's srand() alone is not enough:
# mawk 1.3.4's gives the same numbers on every run.)
# The nick is read from ENVIRON, not passed with -v: awk would turn a backslash in it
# (IRC nicks may have one) into an escape such as a newline.
seed=$(od -An -N4 -tu4 /dev/urandom 2>/dev/null | tr -dc 0-9)
[ -n "$seed" ] || seed=$(date +%s)
awk -v n="$count" -v s="$sides" -v seed="$seed" -v pid="$$" '
BEGIN {
    srand((seed + pid) % 2147483647)
    sum = 0
    dice = ""
    for (i = 1; i <= n; i++) {
        r = int(rand() * s) + 1
        sum += r
        dice = dice (i > 1 ? " + " : "") r
    }
    who = ENVIRON["LOGBOT_NICK"]
    if (who == "") who = "someone"
    printf "%s rolls %dd%d: %s = %d\n", who, n, s, dice, sum
}'
