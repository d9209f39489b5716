"""``spark-submit`` entry point: ``distillguard scan --engine spark`` under a cluster's
launcher, so its ``--master``, ``--driver-memory`` and ``--conf`` apply::

    spark-submit --master spark://host:7077 --driver-memory 4g \\
        "$(python -c 'import distillguard.spark.submit as m; print(m.__file__)')" \\
        -i /shared/logs -o /shared/scan-out [any other scan option]
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from distillguard.cli.main import app

    args = list(sys.argv[1:] if argv is None else argv)
    app(["scan", "--engine", "spark", *args], prog_name="distillguard")


if __name__ == "__main__":
    main()
