"""chachong (查重): find copied, templated and self-reused passages in Chinese self-criticism reports."""

__version__ = "0.1.0"
