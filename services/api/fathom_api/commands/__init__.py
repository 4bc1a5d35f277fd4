"""Command rules, one module per event stream: what each command checks and which events it appends."""
