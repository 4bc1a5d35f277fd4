"""``python -m fathom_delivery``: start the change-feed delivery process (see :mod:`fathom_delivery.workers`)."""

from fathom_delivery.workers import run
from fathom_shared.process import run_process


def main() -> None:
    run_process("delivery", run, "%(asctime)s delivery %(threadName)s %(levelname)s %(message)s")


if __name__ == "__main__":
    main()
