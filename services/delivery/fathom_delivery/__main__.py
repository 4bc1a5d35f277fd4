"""``python -m fathom_delivery``: start the change-feed delivery process (see :mod:`fathom_delivery.workers`)."""

from fathom_delivery.workers import run
from fathom_shared.process import run_process


def main() -> None:
    run_process("delivery", run)


if __name__ == "__main__":
    main()
