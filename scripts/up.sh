#!/usr/bin/env bash
# The main job: runs a node with the example actors and shows them at work — the native ones
# started at boot from examples/node.toml, packages spawned under the root supervisor,
# messages, a crash and its restart, a pinger pinging echo once a second — then keeps the node
# running (its log shows every ping) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

TROUPE=build/src/troupe
# Its own data dir in the build tree: the demo trusts the build's development key, which a
# node started later in the default .troupe must not inherit.
DATA_DIR="${TROUPE_DATA_DIR:-build/up-node}"
SOCK="$DATA_DIR/control.sock"
export TROUPE_SOCKET="$SOCK"

FIFO=$(mktemp -u)
mkfifo "$FIFO"
# examples/node.toml starts echo, counter, crasher and pinger at boot ([[actor]] entries).
"$TROUPE" node run --config examples/node.toml --data-dir "$DATA_DIR" >"$FIFO" &
NODE=$!
cleanup() { kill -TERM "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; rm -f "$FIFO"; }
trap cleanup EXIT
trap 'echo; echo "stopping the node..."; kill -TERM "$NODE" 2>/dev/null || true' INT TERM

# Wait for the node's readiness line, then keep echoing its stdout.
exec 3<"$FIFO"
READY=0
while IFS= read -r line <&3; do
  echo "$line"
  if [[ "$line" == "troupe node ready"* ]]; then READY=1; break; fi
done
# A node that did not start (its data directory in use, a bad config entry) printed why above:
# stop here rather than run the demo against whatever else holds the socket.
if [ "$READY" != 1 ] || ! kill -0 "$NODE" 2>/dev/null; then
  echo "up.sh: the node did not start" >&2
  exit 1
fi
cat <&3 &

step() { echo; echo "\$ troupe $*"; "$TROUPE" "$@" || true; }

step status
step ls
step ask echo hello "hello, troupe"
step tell counter inc 40
step ask counter inc 2
step ask crasher ping
step ask crasher crash "on purpose"
step ask crasher ping
step ask pinger ping echo
# The example guests as packages the build signed with its development key: trusted here, each
# runs as its signed type (example:NAME:0.1.0); unsigned modules are refused by default.
PACKAGES=build/packages
step trust add "$PACKAGES/dev-key/signing.pub"
step spawn --package "$PACKAGES/counter.actr" --name wcounter   # limits from its manifest
step spawn --package "$PACKAGES/pinger.actr" --name wpinger
step ask wcounter inc 41
step ask wpinger ping echo
step ask wcounter explode
step spawn --package "$PACKAGES/stream-consumer.actr" --name wconsumer --tier aot
step spawn --package "$PACKAGES/stream-producer.actr" --name wproducer
step ask wproducer send 100
step ask wconsumer stats
step identity show wpinger
step keys ls
step ls
step ask pinger start "echo 1000"
echo
echo "The node keeps running; the pinger logs a round trip every second. Ctrl-C to stop."
echo "In another terminal: TROUPE_SOCKET=$SOCK $TROUPE ls"
wait "$NODE" || true
