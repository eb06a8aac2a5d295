#!/bin/sh
# Container entrypoint. With IS_ORDINAL_FROM_HOSTNAME=1 (Kubernetes
# StatefulSet), the node id comes from the pod's ordinal (name-N -> N+1),
# the node advertises HOSTNAME.$IS_PEER_DOMAIN, and every pod but the first
# joins through pod 0. Everything else is passed to isnode unchanged.
set -eu
if [ "${IS_ORDINAL_FROM_HOSTNAME:-0}" = "1" ]; then
  ordinal="${HOSTNAME##*-}"
  base="${HOSTNAME%-*}"
  export IS_NODE_ID=$((ordinal + 1))
  export IS_ADVERTISE="${HOSTNAME}.${IS_PEER_DOMAIN}:8080"
  if [ "$ordinal" != "0" ]; then
    export IS_JOIN="${base}-0.${IS_PEER_DOMAIN}:8080"
  fi
fi
exec isnode "$@"
