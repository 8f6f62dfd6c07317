"""Test support shared by the Python test code and the bash tests' Python snippets.

Standard library only. Scripts outside this folder import it as ``support.<module>`` after
putting the repository's ``tests/`` folder first on ``sys.path``.
"""
