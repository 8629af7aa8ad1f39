#!/bin/sh
# Creates the namespace the service uses when it does not exist (idempotent).
set -eu
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  echo "waiting for Temporal at $TEMPORAL_ADDRESS"
  sleep 2
done
if temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create -n "$NAMESPACE" --retention 30d --address "$TEMPORAL_ADDRESS"
  echo "namespace $NAMESPACE created"
fi
