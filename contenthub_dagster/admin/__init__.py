"""What the operator's commands do, as plain functions: queries, launches, formatting data.

The ``cli`` package only parses options and prints; everything here is callable from tests.
"""
