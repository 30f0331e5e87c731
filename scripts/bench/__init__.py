"""A throwaway Django app for scripts/bench_step.py: a bare viewflow flow of the spine's shape. Never in the product."""
