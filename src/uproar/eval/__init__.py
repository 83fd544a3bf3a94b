"""Evaluation harnesses: simulated scenarios with ground truth, and real data sets."""
