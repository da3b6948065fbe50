"""The front ends: the Streamlit app (``app``, ``pages/``, ``services``, ``session``, ``render``) and the
``waymark`` command line (``cli/``). Both are thin: they read settings, call the packages below and
show the result. Nothing imports ``ui``."""
