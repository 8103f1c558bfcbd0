import pytest

# Assertions in the shared helpers explain themselves as they did when the helpers lived in conftest and test modules:
# the leak check's own test (tests/library/test_exports.py) matches on the text that explanation shows.
pytest.register_assert_rewrite("tests.support")
