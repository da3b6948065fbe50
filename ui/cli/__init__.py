"""The ``waymark`` command line: ``main`` assembles it, one module per command group.

Commands import what they use inside their own bodies: that keeps ``waymark --help`` and each command's
start-up from loading chromadb, the model client and every eval module (about 0.4 s on 2 cores).
"""
