#!/bin/sh
# Runs a command inside a fresh network namespace that has only loopback, so that WebRTC tests,
# benchmarks and the servers they start cannot send a packet off this machine. Needs root (or an
# unshare that may create a user+net namespace); where neither works, runs the command as it is.
if [ "${RTC_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
if command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  exec unshare -n sh -c 'ip link set lo up && RTC_IN_NETNS=1 exec "$@"' sh "$@"
fi
echo "in-loopback-netns: cannot create a network namespace (not root?); running without one" >&2
exec "$@"
