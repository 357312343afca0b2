#!/usr/bin/env bash
# free-port.sh - print a TCP port on 127.0.0.1 that nothing listens on (below the ephemeral range, so a
# client socket cannot take it between this check and the bind). Exit 1 if none found in 200 tries.
set -u
for _ in $(seq 200); do
  p=$((20000 + RANDOM % 12000))
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue          # something answers
  if command -v ss >/dev/null; then [ -n "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && continue; fi
  echo "$p"; exit 0
done
echo "free-port: no free port found" >&2; exit 1
