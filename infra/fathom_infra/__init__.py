"""Running Fathom locally: real PostgreSQL and Kafka-protocol servers from pip packages, the services, the CLI."""
