"""``python -m fathom_verifier``: start the chain verification process (see :mod:`fathom_verifier.worker`)."""

from fathom_shared.process import run_process
from fathom_verifier.worker import run


def main() -> None:
    run_process("verifier", run)


if __name__ == "__main__":
    main()
