# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Compressed frames decode like OpenCV does, and damaged ones are refused silently."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from patchdrivenet_ros.image_codec import MAX_PIXELS, DecodeError, decode_compressed


def _scene() -> np.ndarray:
    noise = np.random.default_rng(0).integers(0, 255, (90, 160, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (9, 9), 3)


def _opencv(data: bytes) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR),
                        cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize('extension', ['.jpg', '.png'])
def test_colour_frames_equal_opencv(extension: str) -> None:
    data = cv2.imencode(extension, _scene())[1].tobytes()
    decoded = decode_compressed(data)
    assert decoded.dtype == np.uint8 and decoded.shape == (90, 160, 3)
    # Writable: torch warns (in the node's log) when handed a read-only array.
    assert decoded.flags.writeable
    np.testing.assert_array_equal(decoded, _opencv(data))


@pytest.mark.parametrize('image', [
    _scene()[..., 0],  # greyscale
    _scene()[..., 0].astype(np.uint16) * 257,  # 16-bit greyscale
    np.dstack([_scene(), np.full((90, 160), 128, np.uint8)]),  # with alpha
], ids=['grey', 'grey16', 'alpha'])
def test_other_png_modes_become_rgb_like_opencv(image: np.ndarray) -> None:
    data = cv2.imencode('.png', image)[1].tobytes()
    np.testing.assert_array_equal(decode_compressed(data), _opencv(data))


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IEND', b'')


def _damaged() -> dict[str, bytes]:
    jpeg = cv2.imencode('.jpg', _scene())[1].tobytes()
    png = cv2.imencode('.png', _scene())[1].tobytes()
    return {
        'truncated jpeg': jpeg[: len(jpeg) // 2],
        'truncated png': png[: len(png) // 2],
        'png with a bad checksum': png[:40] + bytes([png[40] ^ 0xFF]) + png[41:],
        'garbage behind a jpeg signature': b'\xff\xd8\xff' + bytes(range(256)) * 4,
        'garbage': bytes(range(200)),
        'bmp (not a camera transport format)': cv2.imencode('.bmp', _scene())[1].tobytes(),
        'header claiming 2^31 x 2^31 pixels': _png_header(2**31 - 1, 2**31 - 1),
        'header claiming 8K x 8K, no pixels': _png_header(8192, 8192),
    }


@pytest.mark.parametrize('name', list(_damaged()))
def test_damaged_data_is_refused_without_library_output(
        name: str, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DecodeError):
        decode_compressed(_damaged()[name])
    captured = capfd.readouterr()
    assert captured.err == '' and captured.out == ''


def test_pixel_limit_is_checked_before_decoding() -> None:
    side = int(MAX_PIXELS ** 0.5) + 1
    with pytest.raises(DecodeError, match=f'claims {side}x{side} pixels'):
        decode_compressed(_png_header(side, side))


def test_empty_data_is_refused() -> None:
    with pytest.raises(DecodeError, match='empty'):
        decode_compressed(b'')
