"""Large data sets for the benchmarks (scripts/bench_*.py); no product code imports this package."""
