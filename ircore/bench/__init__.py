"""The benchmark framework behind ``manage.py bench``: a throwaway database, a registry of
sections (each app registers its own in ``<app>/bench.py``), measurement of each section at
two sizes, and the printed report with its ratio targets.
"""

from .database import bench_database, refresh_statistics, version
from .registry import Context, Measurement, Section, register, sections
from .report import render
from .runner import RATIO_TARGET, BenchError, Report, Row, Sample, measure, run

__all__ = [
    "RATIO_TARGET",
    "BenchError",
    "Context",
    "Measurement",
    "Report",
    "Row",
    "Sample",
    "Section",
    "bench_database",
    "measure",
    "refresh_statistics",
    "register",
    "render",
    "run",
    "sections",
    "version",
]
