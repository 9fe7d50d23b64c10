"""Where Arrears writes its log: a file under the data directory, never the officer's
terminal (a traceback's locals can hold customer data)."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / "arrears.log"


def configure_logging(data_dir: Path | None, level: int = logging.INFO) -> Path | None:
    """Send the `arrears` logger to a rotating file; return its path (None if it cannot
    be written, in which case log records are dropped rather than shown)."""
    logger = logging.getLogger("arrears")
    logger.setLevel(level)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    if data_dir is not None:
        path = log_path(data_dir)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=10_000_000, backupCount=5)
            os.chmod(path, 0o640)
        except OSError:
            logger.addHandler(logging.NullHandler())
            return None
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        return path
    logger.addHandler(logging.NullHandler())
    return None
