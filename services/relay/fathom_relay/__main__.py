"""``python -m fathom_relay``: run the relay until SIGTERM/SIGINT."""

from fathom_relay.relay import main

main()
