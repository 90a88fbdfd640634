"""The institute officer's panel pages."""
