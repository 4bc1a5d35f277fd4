"""Running Fathom locally: real PostgreSQL and broker from pip packages, the services, the CLI."""
