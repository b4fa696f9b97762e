"""Revisions, oldest first: 0001 is the schema that create_all used to make."""
