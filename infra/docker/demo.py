"""Load the demo trust into a running compose stack: ``docker compose --profile demo run --rm demo``.

Runs in its own one-shot container with the owner's DATABASE_URL (to provision the trust) and
the signing key volume (to mint a trust-leader token), then loads the roster and judgements
through the command API, the same path a real client takes. A second run is a no-op.
"""

from __future__ import annotations

import os
import sys

from fathom_infra.demo import load_demo
from fathom_shared.auth import load_or_create_signing_key, mint_token
from fathom_shared.config import load_settings
from fathom_shared.db import make_engine
from fathom_shared.trusts import TrustExists, create_trust


def main() -> int:
    settings = load_settings()
    trust = os.environ.get("FATHOM_DEMO_TRUST", "demo-trust")
    api_url = os.environ.get("FATHOM_API_URL", "http://api:8000")
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        create_trust(engine, trust, "Demo Academy Trust")
    except TrustExists:
        print(f"trust {trust} already exists; nothing to load")
        return 0
    finally:
        engine.dispose()
    key = load_or_create_signing_key(settings.signing_key_path)
    token = mint_token(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience, trust=trust,
                       roles=["trust_leader"], sub="demo-loader")
    summary = load_demo(api_url, token)
    print(f"loaded {trust}: {len(summary.classes)} classes, {summary.pupils} pupils, "
          f"{summary.judgements} judgements (last sequence {summary.last_sequence})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
