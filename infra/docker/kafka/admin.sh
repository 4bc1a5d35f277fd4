#!/bin/sh
# Runs a Kafka command-line tool as the broker's admin, e.g. `admin.sh kafka-topics.sh --list`.
# The admin authenticates with SASL/PLAIN (password from FATHOM_KAFKA_ADMIN_PASSWORD); the client
# properties file holding it exists only while the tool runs.
set -eu
config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat > "$config" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${FATHOM_KAFKA_ADMIN_PASSWORD}";
PROPERTIES
tool=$1
shift
"/opt/kafka/bin/$tool" --bootstrap-server "${KAFKA_ADMIN_BOOTSTRAP:-kafka:9092}" --command-config "$config" "$@"
