"""Local simulators of each platform (ASGI apps) for the demo, tests and benchmarks.

Simulators are test doubles, not the product: where a real server can run here, tests use it.
"""
