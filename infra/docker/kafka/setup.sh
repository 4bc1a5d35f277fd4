#!/bin/sh
# One-shot, idempotent: gives each service its own SCRAM-SHA-512 principal and grants it exactly the
# topics and groups it uses. Everything else is denied (the broker has no allow-if-no-ACL fallback).
#
#   fathom-relay      writes the events topic (idempotent producer; creates the topic if missing)
#   fathom-projector  reads the events topic in its consumer group (creates the topic if missing) and deletes
#                     the records below its committed offsets (DeleteRecords: FATHOM_TRIM_CONSUMED_EVENTS)
#   fathom-delivery   writes every per-trust change topic <prefix><trust> (creates them)
#
# Consumers of a trust's change topic get their own principal, granted that one topic, by the
# operator (see the README: "Broker security").
set -eu
admin=/opt/fathom-kafka/admin.sh
events=${FATHOM_EVENTS_TOPIC:-fathom.events}
group=${FATHOM_PROJECTOR_GROUP:-fathom-projector}
changes=${FATHOM_CHANGES_TOPIC_PREFIX:-fathom.changes.}

scram() {  # principal password
    "$admin" kafka-configs.sh --alter --entity-type users --entity-name "$1" \
        --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"
}
allow() {  # principal, then kafka-acls.sh resource and operation options
    principal=$1
    shift
    "$admin" kafka-acls.sh --add --allow-principal "User:$principal" "$@"
}

scram fathom-relay "$FATHOM_KAFKA_RELAY_PASSWORD"
scram fathom-projector "$FATHOM_KAFKA_PROJECTOR_PASSWORD"
scram fathom-delivery "$FATHOM_KAFKA_DELIVERY_PASSWORD"

allow fathom-relay --topic "$events" --operation Write --operation Describe --operation Create
allow fathom-relay --cluster --operation IdempotentWrite
allow fathom-projector --topic "$events" --operation Read --operation Describe --operation Create --operation Delete
allow fathom-projector --group "$group" --operation Read --operation Describe
allow fathom-delivery --topic "$changes" --resource-pattern-type prefixed \
    --operation Write --operation Describe --operation Create
allow fathom-delivery --cluster --operation IdempotentWrite
echo "broker principals and ACLs are in place"
