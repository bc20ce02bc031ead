"""Every format the sample generator writes, through every profile, over HTTP, decoded back
by ffmpeg: the codec and bitrate asked for, the duration within 0.1 s of the source's. With
the system's ffmpeg every profile; with the binary the imageio-ffmpeg wheel ships (``FFMPEG``
pointing to it) one bitrate of each codec, to keep the run short. Each decodes with its own
binary."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bridge.transcode.profiles import PROFILES
from devtools.bench.transcode import system_ffmpeg
from library.sample import SAMPLE_FORMATS

from .conftest import decode, imageio_ffmpeg_path, running

AAC_TONE_CEILING_KBPS = 115
DECODER_NAMES = {"opus": "opus", "mp3": "mp3", "aac": "aac"}


@pytest.fixture(scope="module", params=["system", "imageio-ffmpeg"])
def any_bridge(request, tmp_path_factory):
    binary = system_ffmpeg() if request.param == "system" else imageio_ffmpeg_path()
    with running(tmp_path_factory.mktemp(f"formats-{request.param}"), FFMPEG=binary) as live:
        live.binary = binary
        yield live


def test_the_bridge_uses_the_ffmpeg_of_the_setting(any_bridge):
    assert f"transcoding with {any_bridge.binary} (setting" in any_bridge.log()


def test_every_format_through_every_profile_decodes_as_asked(any_bridge):
    profiles = PROFILES if any_bridge.binary == system_ffmpeg() else [p for p in PROFILES if p.bitrate == 192]
    assert {p.codec.name for p in profiles} == {"opus", "mp3", "aac"}
    cases = [(key, profile) for key in SAMPLE_FORMATS for profile in profiles]
    sources = {key: decode(any_bridge.paths[key], any_bridge.binary) for key in SAMPLE_FORMATS}

    def run(case):
        key, profile = case
        status, headers, body = any_bridge.get(
            f"/api/v1/tracks/{any_bridge.tracks[key]}/stream?format={profile.codec.name}&max_bitrate={profile.bitrate}")
        return key, profile, status, headers, body

    failures = []
    with ThreadPoolExecutor(2) as pool:
        for key, profile, status, headers, body in pool.map(run, cases):
            label = f"{key} -> {profile.name}"
            if status != 200:
                failures.append(f"{label}: HTTP {status} {body[:200]!r}")
                continue
            sent = headers["x-transcode-profile"]
            if sent == "raw":  # already that codec within the bitrate: the rule sends the original
                assert profile.codec.name in ("opus", "mp3", "aac") and key in ("opus", "mp3", "m4a"), label
                assert body == any_bridge.paths[key].read_bytes(), label
                continue
            decoded = decode(body, any_bridge.binary)
            seconds = sources[key].seconds
            kbps = len(body) * 8 / decoded.seconds / 1000
            if headers["content-type"] != profile.mime:
                failures.append(f"{label}: Content-Type {headers['content-type']}")
            if decoded.codec != DECODER_NAMES[profile.codec.name]:
                failures.append(f"{label}: decoded as {decoded.codec}")
            if abs(decoded.seconds - seconds) > 0.1:
                failures.append(f"{label}: {decoded.seconds:.3f} s, source {seconds:.3f} s")
            asked = int(sent.split("-")[1])
            # ffmpeg's AAC encoder averages the bitrate asked for but spends no more bits than
            # the signal needs: on the generator's pure tone it tops out near 120 kbit/s.
            floor = min(asked, AAC_TONE_CEILING_KBPS) if profile.codec.name == "aac" else asked
            if not 0.85 * floor <= kbps <= 1.15 * asked:
                failures.append(f"{label}: {kbps:.0f} kbit/s for {sent}")
    assert not failures, "\n".join(failures)
