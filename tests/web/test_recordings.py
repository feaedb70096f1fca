"""Recordings: served whole, in byte ranges for seeking, as HEAD; odd Range headers are a 4xx, never a crash."""

import pytest

from voice_trainer.session_folder import RECORDING_FILE


@pytest.fixture
def audio(browser, sessions):
    url = f"/session/{sessions.anna}/audio.wav"
    whole = (sessions.data_dir / "sessions" / sessions.anna / RECORDING_FILE).read_bytes()
    return browser, url, whole


def test_the_whole_recording(audio):
    browser, url, whole = audio
    response = browser.get(url)
    assert response.status_code == 200 and response.content == whole
    assert response.headers["content-type"] == "audio/wav" and response.headers["accept-ranges"] == "bytes"


def test_head_gives_the_size_without_the_body(audio):
    browser, url, whole = audio
    response = browser.head(url)
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(whole)
    page = browser.head("/")
    assert page.status_code == 200 and page.content == b""


@pytest.mark.parametrize("header,part", [
    ("bytes=1000-1999", slice(1000, 2000)),
    ("bytes=-100", slice(-100, None)),
    ("bytes=5000-", slice(5000, None)),
    ("bytes=0-0", slice(0, 1)),
    ("bytes=100-999999999999", slice(100, None)),  # an end past the file is the end of the file
    ("bytes=-999999999999", slice(0, None)),  # a suffix longer than the file is the whole file
])
def test_byte_ranges_for_seeking(audio, header, part):
    browser, url, whole = audio
    response = browser.get(url, headers={"range": header})
    assert response.status_code == 206
    assert response.content == whole[part]
    first = len(whole) + part.start if (part.start or 0) < 0 else (part.start or 0)
    assert response.headers["content-range"] == f"bytes {first}-{first + len(whole[part]) - 1}/{len(whole)}"


@pytest.mark.parametrize("header", [
    "bytes=99999999999999999999999999-",  # huge
    "bytes=3000000000-3000000001",  # past the end
    "bytes=--5",
])
def test_a_range_beyond_the_recording_is_416(audio, header):
    browser, url, whole = audio
    response = browser.get(url, headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(whole)}"


@pytest.mark.parametrize("header", [
    "garbage", "bytes=", "bytes=abc-def", "items=0-10", "bytes=10-5", "bytes=" + "9" * 5000 + "-",
    "bytes=-", "bytes=,,,", "bytes=0-1\x00",
])
def test_a_malformed_range_is_400(audio, header):
    browser, url, _ = audio
    response = browser.get(url, headers={"range": header})
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_many_ranges_are_served_as_parts_or_whole(audio):
    browser, url, whole = audio
    response = browser.get(url, headers={"range": "bytes=0-9,100-109"})
    assert response.status_code == 206 and response.headers["content-type"].startswith("multipart/byteranges")
    assert whole[0:10] in response.content and whole[100:110] in response.content
    many = ",".join(f"{n}-{n}" for n in range(0, 2000, 2))  # more ranges than allowed: the whole file
    response = browser.get(url, headers={"range": f"bytes={many}"})
    assert response.status_code == 200 and response.content == whole


def test_a_session_without_a_recording_has_none(browser, sessions):
    response = browser.get(f"/session/{sessions.boris}/audio.wav")
    assert response.status_code == 404 and "no recording" in response.text
