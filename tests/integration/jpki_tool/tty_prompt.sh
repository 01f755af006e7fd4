#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Terminal test: the PIN prompt goes to the terminal with echo off. tmux runs `jpki-tool show`,
# the PIN is typed with send-keys, and the screen must show the prompt but never the PIN.
source "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || fail "tmux is not installed (apt-get install tmux)"
export TMUX_TMPDIR=$JPKI_WORK
s=jpki-tool-tty
screen() { tmux capture-pane -p -t "$s" -S -50; }
wait_for() {  # wait_for PATTERN DESCRIPTION
  for _ in $(seq 100); do screen | grep -Eq -- "$1" && return 0; sleep 0.05; done
  screen >&2; fail "$2"
}
tmux new-session -d -s "$s" -x 120 -y 30 "bash --norc --noprofile"
trap 'tmux kill-server 2>/dev/null || true' EXIT
tmux send-keys -t "$s" "'$T' show; echo \"rc=\$?\"" Enter
wait_for 'Signature password \(6-16 letters and digits\): *$' "no password prompt on the terminal"
tmux send-keys -t "$s" "ABC123" Enter
wait_for '^rc=[0-9]' "jpki-tool show did not finish"
screen | tee screen.txt
expect_grep '^Name: +JPKI TARO' screen.txt "show printed the name after the hidden prompt"
expect_grep '^rc=0' screen.txt "show succeeded"
grep -q ABC123 screen.txt && fail "the password was echoed on the terminal"
pass "the password was typed but not shown"

# Wrong PIN typed on the terminal: exit 7, still nothing echoed.
tmux send-keys -t "$s" "clear; '$T' sign --key auth -i /etc/hostname -o $JPKI_WORK/x.sig; echo \"rc=\$?\"" Enter
wait_for 'User authentication PIN \(4 digits\): *$' "no PIN prompt on the terminal"
tmux send-keys -t "$s" "9876" Enter
wait_for '^rc=[0-9]' "jpki-tool sign did not finish"
screen | tee screen2.txt
expect_grep '^rc=7' screen2.txt "wrong PIN typed on the terminal gives exit 7"
grep -q 9876 screen2.txt && fail "the PIN was echoed on the terminal"
pass "terminal test: all checks passed"
