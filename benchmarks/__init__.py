"""Side-by-side benchmarks of deepnum against PyTorch, scikit-learn and plain NumPy (not tests)."""
