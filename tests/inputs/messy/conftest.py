"""The messy corpus, written once per test session (tests/inputs/messy/corpus.py)."""

from __future__ import annotations

import pytest

from tests.inputs.messy.corpus import write_corpus


@pytest.fixture(scope="session")
def messy_corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("messy"))
