"""The session list's pages, read from whichever end of the library is nearer, on both backends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from voice_trainer.trainer.library import SessionRecord
from voice_trainer.web.catalog import Catalog, Filters, Viewer


@pytest.fixture(params=["sqlite", "postgres"])
def library(request, tmp_path):
    if request.param == "sqlite":
        from voice_trainer.trainer.library import LocalLibrary

        lib = LocalLibrary(tmp_path / "data")
    else:
        from voice_trainer.trainer.library.centre import CentreLibrary

        (tmp_path / "share").mkdir()
        lib = CentreLibrary(request.getfixturevalue("postgres_url"), tmp_path / "share")
    yield lib
    lib.close()


def _fill(library, template, count: int) -> list[str]:
    """`count` sessions; several start in the same second, so the session id decides their order."""
    ids = []
    for i in range(count):
        started = f"2024-05-{1 + i // 3:02d}T10:00:00.000+00:00"
        session_id = f"202405{1 + i // 3:02d}-100000-anna-{i:06x}"
        summary = replace(template, session_id=session_id, started_at=started, folder=None, has_recording=False)
        library.put(SessionRecord(summary, [], None))
        ids.append(session_id)
    return ids


@pytest.mark.parametrize("page_size", [1, 3, 4, 10])
def test_every_page_is_the_newest_first_slice_whichever_end_it_is_read_from(library, page_size, tmp_path):
    from tests.fixtures.sessions import SHORT_CALL, record_session
    from voice_trainer.trainer.library import summarize

    template = summarize(record_session(tmp_path / "station", SHORT_CALL, trainee="anna"))
    ids = _fill(library, template, 11)
    newest_first = sorted(ids, reverse=True)
    catalog = Catalog(library)
    trainer = Viewer("tanya", "trainer")
    pages = -(-len(ids) // page_size)
    seen = []
    for page in range(1, pages + 1):
        listing = catalog.list_page(trainer, Filters(), page, page_size)
        assert listing.total == 11 and listing.pages == pages
        got = [s.session_id for s in listing.sessions]
        assert got == newest_first[(page - 1) * page_size: page * page_size], page
        seen += got
    assert seen == newest_first
