# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image messages to frames and back, for every supported encoding and malformed input."""

import array
import sys
import types

import numpy as np
import pytest

pytest.importorskip('sensor_msgs.msg')

from sensor_msgs.msg import CompressedImage, Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from patchdrivenet_ros.ros import conversions  # noqa: E402
from patchdrivenet_ros.ros.conversions import (  # noqa: E402
    ImageError,
    array_to_image,
    compressed_to_frame,
    encode_compressed,
    image_to_frame,
    mask_to_image,
)


def _rgb(height: int = 6, width: int = 8) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _message(pixels: np.ndarray, encoding: str, pad: int = 0) -> Image:
    """Build an Image whose rows carry ``pad`` extra bytes (step > width x channels)."""
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    padded = np.zeros((height, rows.shape[1] + pad), np.uint8)
    padded[:, : rows.shape[1]] = rows
    msg = Image(height=height, width=width, encoding=encoding, step=padded.shape[1])
    msg.data = array.array('B', padded.tobytes())
    return msg


@pytest.mark.parametrize('pad', [0, 5])
def test_rgb8_is_a_view_without_copy(pad: int) -> None:
    pixels = _rgb()
    msg = _message(pixels, 'rgb8', pad)
    frame = image_to_frame(msg)
    assert not frame.bgr
    np.testing.assert_array_equal(frame.pixels, pixels)
    assert np.shares_memory(frame.pixels, np.frombuffer(msg.data, np.uint8))


def test_bgr8_and_alpha_encodings_are_views() -> None:
    pixels = _rgb()
    bgr = image_to_frame(_message(pixels, 'bgr8'))
    assert bgr.bgr
    np.testing.assert_array_equal(bgr.pixels, pixels)
    rgba = np.dstack([pixels, np.full(pixels.shape[:2], 7, np.uint8)])
    for encoding, is_bgr in (('rgba8', False), ('bgra8', True)):
        msg = _message(rgba, encoding, pad=3)
        frame = image_to_frame(msg)
        assert frame.bgr is is_bgr
        assert frame.pixels.shape == pixels.shape
        np.testing.assert_array_equal(frame.pixels, pixels)
        assert np.shares_memory(frame.pixels, np.frombuffer(msg.data, np.uint8))


def test_mono8_becomes_grey_bgr() -> None:
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8)
    frame = image_to_frame(_message(grey, 'mono8', pad=2))
    assert frame.bgr and frame.pixels.shape == (6, 8, 3)
    for channel in range(3):
        np.testing.assert_array_equal(frame.pixels[:, :, channel], grey)


# Top-left 2x2 of each ROS Bayer pattern: which of R, G, B sits where.
_PATTERNS = {
    'bayer_rggb8': ('R', 'G', 'G', 'B'),
    'bayer_bggr8': ('B', 'G', 'G', 'R'),
    'bayer_gbrg8': ('G', 'B', 'R', 'G'),
    'bayer_grbg8': ('G', 'R', 'B', 'G'),
}


@pytest.mark.parametrize('encoding', sorted(_PATTERNS))
def test_bayer_demosaics_a_flat_colour(encoding: str) -> None:
    rgb = {'R': 200, 'G': 100, 'B': 30}
    mosaic = np.zeros((8, 8), np.uint8)
    pattern = _PATTERNS[encoding]
    for index, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        mosaic[dy::2, dx::2] = rgb[pattern[index]]
    frame = image_to_frame(_message(mosaic, encoding))
    assert frame.bgr
    center = frame.pixels[2:6, 2:6].reshape(-1, 3).mean(axis=0)  # BGR
    np.testing.assert_allclose(center, [30, 100, 200], atol=2)


def _packed(order: str, luma: np.ndarray, u: int, v: int) -> np.ndarray:
    """Pack a luma plane (H, W) and constant chroma as UYVY or YUYV (H, W, 2)."""
    packed = np.zeros((*luma.shape, 2), np.uint8)
    packed[:, :, 0 if order == 'YUYV' else 1] = luma
    chroma = packed[:, :, 1 if order == 'YUYV' else 0]
    chroma[:, ::2], chroma[:, 1::2] = u, v
    return packed


@pytest.mark.parametrize(('encoding', 'order'), [('yuv422', 'UYVY'), ('uyvy', 'UYVY'),
                                                 ('yuv422_yuy2', 'YUYV'), ('yuyv', 'YUYV')])
def test_yuv422_layouts(encoding: str, order: str) -> None:
    luma = np.tile(np.linspace(40, 220, 8).astype(np.uint8), (4, 1))  # (4, 8) ramp
    grey = image_to_frame(_message(_packed(order, luma, 128, 128), encoding)).pixels
    assert np.ptp(grey.astype(int), axis=2).max() <= 1  # neutral chroma: grey
    assert np.all(np.diff(grey[0, :, 1].astype(int)) > 0)  # brightness follows luma
    reddish = image_to_frame(_message(_packed(order, luma, 110, 200), encoding)).pixels
    assert np.all(reddish[:, :, 2] > reddish[:, :, 0])  # V drives red, U blue


@pytest.mark.parametrize(
    ('change', 'reason'),
    [
        ({'step': 10}, 'step'),
        ({'height': 0}, 'empty'),
        ({'width': 0}, 'empty'),
        ({'data': array.array('B', bytes(20))}, 'bytes'),
        ({'encoding': '32FC1'}, 'unsupported encoding'),
    ],
)
def test_malformed_images_are_refused_with_a_reason(change: dict, reason: str) -> None:
    msg = _message(_rgb(), 'rgb8')
    for key, value in change.items():
        setattr(msg, key, value)
    with pytest.raises(ImageError, match=reason):
        image_to_frame(msg)


def test_odd_width_yuv_is_refused() -> None:
    with pytest.raises(ImageError, match='even width'):
        image_to_frame(_message(np.zeros((2, 3, 2), np.uint8), 'yuv422'))


def test_unknown_encoding_goes_through_cv_bridge_when_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    class FakeBridge:
        def imgmsg_to_cv2(self, msg: Image, desired_encoding: str) -> np.ndarray:
            calls.append((msg.encoding, desired_encoding))
            return np.zeros((msg.height, msg.width, 3), np.uint8)

    monkeypatch.setitem(sys.modules, 'cv_bridge', types.SimpleNamespace(CvBridge=FakeBridge))
    msg = Image(height=2, width=3, encoding='mono16', step=6)
    msg.data = array.array('B', bytes(12))
    frame = image_to_frame(msg)
    assert frame.bgr and frame.pixels.shape == (2, 3, 3)
    assert calls == [('mono16', 'bgr8')]


@pytest.mark.parametrize('fmt', ['jpeg', 'png'])
def test_compressed_round_trip(fmt: str) -> None:
    bgr = np.zeros((16, 24, 3), np.uint8)
    bgr[:, :12] = (0, 0, 255)
    msg = encode_compressed(bgr, Header(frame_id='cam'), fmt)
    assert msg.format == fmt and msg.header.frame_id == 'cam'
    frame = compressed_to_frame(msg)
    assert frame.bgr and frame.size == (24, 16)
    assert np.abs(frame.pixels.astype(int) - bgr.astype(int)).mean() < 3


def test_corrupt_and_empty_compressed_are_refused() -> None:
    corrupt = CompressedImage(format='jpeg')
    corrupt.data = array.array('B', b'\xff\xd8not a jpeg at all')
    with pytest.raises(ImageError, match='cannot decode'):
        compressed_to_frame(corrupt)
    with pytest.raises(ImageError, match='empty'):
        compressed_to_frame(CompressedImage(format='jpeg'))


def test_mask_message_keeps_header_and_values() -> None:
    header = Header(frame_id='camera')
    header.stamp.sec, header.stamp.nanosec = 12, 345
    mask = np.arange(12, dtype=np.uint8).reshape(3, 4)
    mask[0, 0] = 255
    msg = mask_to_image(mask, header)
    assert (msg.height, msg.width, msg.step, msg.encoding) == (3, 4, 4, 'mono8')
    assert msg.header.frame_id == 'camera' and msg.header.stamp.nanosec == 345
    assert isinstance(msg.data, array.array)
    np.testing.assert_array_equal(np.frombuffer(msg.data, np.uint8).reshape(3, 4), mask)


def test_array_to_image_round_trips_a_non_contiguous_view() -> None:
    pixels = _rgb(5, 7)
    view = pixels[:, ::-1]
    msg = array_to_image(view, 'rgb8', Header())
    np.testing.assert_array_equal(image_to_frame(msg).pixels, view)
    with pytest.raises(ValueError, match='uint8'):
        array_to_image(np.zeros((2, 2), np.float32), 'mono8', Header())


def test_supported_encodings_are_listed() -> None:
    assert {'rgb8', 'bgr8', 'mono8', 'bayer_rggb8', 'yuv422'} <= set(
        conversions.SUPPORTED_ENCODINGS)
