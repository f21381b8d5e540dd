"""cortex-local worker runtime: serves one PythonPredictor over framed pipes.

Standard library only; it runs inside the user's own Python environment.
"""
