"""Detection-quality benchmark: PAN-style planted reuse, the PAN measures and a natural cross-year test."""
