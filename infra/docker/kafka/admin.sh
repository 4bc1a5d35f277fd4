#!/bin/sh
# Runs a Kafka command-line tool as the broker's admin, e.g. `admin.sh kafka-topics.sh --list`.
# The admin authenticates with SASL/PLAIN (password from FATHOM_KAFKA_ADMIN_PASSWORD); the client
# properties file holding it exists only while the tool runs. With TLS on the listener (SASL_SSL),
# set KAFKA_ADMIN_SECURITY_PROTOCOL=SASL_SSL and KAFKA_ADMIN_SSL_CAFILE to the CA certificate (PEM).
set -eu
config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat > "$config" <<PROPERTIES
security.protocol=${KAFKA_ADMIN_SECURITY_PROTOCOL:-SASL_PLAINTEXT}
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${FATHOM_KAFKA_ADMIN_PASSWORD}";
PROPERTIES
if [ -n "${KAFKA_ADMIN_SSL_CAFILE:-}" ]; then
    printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' "$KAFKA_ADMIN_SSL_CAFILE" >> "$config"
fi
tool=$1
shift
"/opt/kafka/bin/$tool" --bootstrap-server "${KAFKA_ADMIN_BOOTSTRAP:-kafka:9092}" --command-config "$config" "$@"
