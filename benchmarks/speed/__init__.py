"""Speed-and-scale benchmarks: chachong against brute force, datasketch and copydetect (issue 3)."""
