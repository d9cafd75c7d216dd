"""Data augmentation helpers that `fix` uses and that user code can call the same way."""
