"""The load test (``make load`` / ``python -m tests.load``): people of many trusts using Fathom at once."""
