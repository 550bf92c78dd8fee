"""What the tests share: the sample world, requests as its people, kernel sockets,
policy truth tables, throwaway PostgreSQL and Jupyter processes.

``tests/conftest.py`` registers this package for pytest's assertion rewriting, so
plain ``assert`` in a helper reports its values like one in a test.
"""
