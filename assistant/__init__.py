"""Waymark's assistant: settings, the command line and (later) the answer pipeline."""
