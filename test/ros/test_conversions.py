# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image messages to frames and back, for every supported encoding and malformed input."""

from __future__ import annotations

import array
import sys
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.ros


def _rgb(height: int = 6, width: int = 8) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _message(pixels: np.ndarray, encoding: str, pad: int = 0) -> Any:
    """Build an Image whose rows carry ``pad`` extra bytes (step > width x channels)."""
    from sensor_msgs.msg import Image

    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    padded = np.zeros((height, rows.shape[1] + pad), np.uint8)
    padded[:, : rows.shape[1]] = rows
    msg = Image(height=height, width=width, encoding=encoding, step=padded.shape[1])
    msg.data = array.array('B', padded.tobytes())
    return msg


@pytest.mark.parametrize('pad', [0, 5])
def test_rgb8_is_a_view_without_copy(pad: int) -> None:
    from patchdrivenet_ros.ros.conversions import image_to_frame

    pixels = _rgb()
    msg = _message(pixels, 'rgb8', pad)
    frame = image_to_frame(msg)
    assert not frame.bgr
    np.testing.assert_array_equal(frame.pixels, pixels)
    assert np.shares_memory(frame.pixels, np.frombuffer(msg.data, np.uint8))


def test_bgr8_and_alpha_encodings_are_views() -> None:
    from patchdrivenet_ros.ros.conversions import image_to_frame

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


def test_mono8_becomes_grey_rgb() -> None:
    from patchdrivenet_ros.ros.conversions import image_to_frame

    grey = np.arange(48, dtype=np.uint8).reshape(6, 8)
    frame = image_to_frame(_message(grey, 'mono8', pad=2))
    assert not frame.bgr and frame.pixels.shape == (6, 8, 3)
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
    from patchdrivenet_ros.ros.conversions import image_to_frame

    rgb = {'R': 200, 'G': 100, 'B': 30}
    mosaic = np.zeros((8, 8), np.uint8)
    pattern = _PATTERNS[encoding]
    for index, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        mosaic[dy::2, dx::2] = rgb[pattern[index]]
    frame = image_to_frame(_message(mosaic, encoding))
    assert not frame.bgr  # demosaiced straight to RGB, no reordering left for the engine
    center = frame.pixels[2:6, 2:6].reshape(-1, 3).mean(axis=0)  # RGB
    np.testing.assert_allclose(center, [200, 100, 30], atol=2)


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
    from patchdrivenet_ros.ros.conversions import image_to_frame

    luma = np.tile(np.linspace(40, 220, 8).astype(np.uint8), (4, 1))  # (4, 8) ramp
    grey = image_to_frame(_message(_packed(order, luma, 128, 128), encoding)).pixels
    assert np.ptp(grey.astype(int), axis=2).max() <= 1  # neutral chroma: grey
    assert np.all(np.diff(grey[0, :, 1].astype(int)) > 0)  # brightness follows luma
    reddish = image_to_frame(_message(_packed(order, luma, 110, 200), encoding))
    assert not reddish.bgr
    assert np.all(reddish.pixels[:, :, 0] > reddish.pixels[:, :, 2])  # V drives red, U blue


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
    from patchdrivenet_ros.ros.conversions import ImageError, image_to_frame

    msg = _message(_rgb(), 'rgb8')
    for key, value in change.items():
        setattr(msg, key, value)
    with pytest.raises(ImageError, match=reason):
        image_to_frame(msg)


def test_odd_width_yuv_is_refused() -> None:
    from patchdrivenet_ros.ros.conversions import ImageError, image_to_frame

    with pytest.raises(ImageError, match='even width'):
        image_to_frame(_message(np.zeros((2, 3, 2), np.uint8), 'yuv422'))


def test_unknown_encoding_goes_through_the_installed_cv_bridge() -> None:
    from sensor_msgs.msg import Image

    from patchdrivenet_ros.ros.conversions import image_to_frame

    pytest.importorskip('cv_bridge', reason='cv_bridge is not installed here')
    msg = Image(height=2, width=3, encoding='mono16', step=6)
    msg.data = array.array('B', bytes(12))
    frame = image_to_frame(msg)
    assert frame.bgr and frame.pixels.shape == (2, 3, 3) and frame.pixels.dtype == np.uint8


class _RecordingBridge:
    """A CvBridge-like converter handed to bridge_frame (no module is replaced)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def imgmsg_to_cv2(self, msg: Any, desired_encoding: str) -> np.ndarray:
        self.calls.append((msg.encoding, desired_encoding))
        if msg.encoding == 'broken':
            raise RuntimeError('boom')
        return np.full((msg.height, msg.width, 3), 7, np.int32)


def test_bridge_frame_asks_for_bgr8_and_reports_failures() -> None:
    from sensor_msgs.msg import Image

    from patchdrivenet_ros.ros import conversions
    from patchdrivenet_ros.ros.conversions import ImageError

    bridge = _RecordingBridge()
    msg = Image(height=2, width=3, encoding='mono16', step=6)
    msg.data = array.array('B', bytes(12))
    frame = conversions.bridge_frame(msg, bridge)
    assert frame.bgr and frame.pixels.shape == (2, 3, 3)
    assert frame.pixels.dtype == np.uint8 and (frame.pixels == 7).all()
    assert bridge.calls == [('mono16', 'bgr8')]
    msg.encoding = 'broken'
    with pytest.raises(ImageError, match="^cv_bridge cannot convert 'broken': boom$"):
        conversions.bridge_frame(msg, bridge)


@pytest.mark.parametrize('fmt', ['jpeg', 'png'])
def test_compressed_round_trip(fmt: str) -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.conversions import compressed_to_frame, encode_compressed

    bgr = np.zeros((16, 24, 3), np.uint8)
    bgr[:, :12] = (0, 0, 255)
    msg = encode_compressed(bgr, Header(frame_id='cam'), fmt)
    assert msg.format == fmt and msg.header.frame_id == 'cam'
    frame = compressed_to_frame(msg)
    assert not frame.bgr and frame.size == (24, 16)
    assert np.abs(frame.pixels.astype(int) - bgr[..., ::-1].astype(int)).mean() < 3


def test_corrupt_and_empty_compressed_are_refused() -> None:
    from sensor_msgs.msg import CompressedImage

    from patchdrivenet_ros.ros.conversions import ImageError, compressed_to_frame

    corrupt = CompressedImage(format='jpeg')
    corrupt.data = array.array('B', b'\xff\xd8not a jpeg at all')
    with pytest.raises(ImageError, match='cannot decode'):
        compressed_to_frame(corrupt)
    with pytest.raises(ImageError, match='empty'):
        compressed_to_frame(CompressedImage(format='jpeg'))


def test_truncated_jpeg_is_refused_without_library_output(capfd: pytest.CaptureFixture[str]
                                                           ) -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.conversions import (
        ImageError,
        compressed_to_frame,
        encode_compressed,
    )

    pixels = np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8)
    msg = encode_compressed(pixels, Header(frame_id='cam'), 'jpeg')
    msg.data = msg.data[: len(msg.data) // 2]
    with pytest.raises(ImageError, match=r"^cannot decode \d+ bytes of format 'jpeg': "):
        compressed_to_frame(msg)
    captured = capfd.readouterr()
    assert captured.err == '' and captured.out == ''


def test_mask_message_keeps_header_and_values() -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.conversions import mask_to_image

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
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.conversions import array_to_image, image_to_frame

    pixels = _rgb(5, 7)
    view = pixels[:, ::-1]
    msg = array_to_image(view, 'rgb8', Header())
    np.testing.assert_array_equal(image_to_frame(msg).pixels, view)
    with pytest.raises(ValueError, match='uint8'):
        array_to_image(np.zeros((2, 2), np.float32), 'mono8', Header())


def test_supported_encodings_are_listed() -> None:
    from patchdrivenet_ros.ros import conversions

    assert {'rgb8', 'bgr8', 'mono8', 'bayer_rggb8', 'yuv422'} <= set(
        conversions.SUPPORTED_ENCODINGS)


@pytest.mark.parametrize(('height', 'width'), [(1, 1), (1, 3), (3, 1)])
def test_a_single_row_or_column_decodes(height: int, width: int) -> None:
    from patchdrivenet_ros.ros.conversions import image_to_frame

    pixels = _rgb(height, width)
    np.testing.assert_array_equal(image_to_frame(_message(pixels, 'rgb8')).pixels, pixels)


def test_the_last_row_needs_no_padding_but_all_its_bytes() -> None:
    from patchdrivenet_ros.ros.conversions import ImageError, image_to_frame

    pixels = _rgb(4, 5)
    msg = _message(pixels, 'rgb8', pad=3)  # step 18, rows of 15 bytes
    msg.data = msg.data[:-3]  # the last row's padding is optional
    np.testing.assert_array_equal(image_to_frame(msg).pixels, pixels)
    msg.data = msg.data[:-1]
    with pytest.raises(ImageError, match='data holds 68 bytes, rgb8 5x4 with step 18 needs 72'):
        image_to_frame(msg)


@pytest.mark.parametrize('encoding', ['yuv422', 'yuyv'])
def test_yuv_frames_are_rgb_and_odd_widths_are_named(encoding: str) -> None:
    from patchdrivenet_ros.ros.conversions import ImageError, image_to_frame

    frame = image_to_frame(_message(np.full((2, 4, 2), 128, np.uint8), encoding))
    assert frame.bgr is False and frame.pixels.shape == (2, 4, 3)
    with pytest.raises(ImageError, match=f'^{encoding} needs an even width, got 3$'):
        image_to_frame(_message(np.zeros((2, 3, 2), np.uint8), encoding))


def test_unsupported_encoding_without_cv_bridge_lists_the_supported_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from patchdrivenet_ros.ros import conversions
    from patchdrivenet_ros.ros.conversions import ImageError, image_to_frame

    monkeypatch.setitem(sys.modules, 'cv_bridge', None)  # blocked: importing it fails
    msg = _message(_rgb(), 'rgb8')
    msg.encoding = '32FC1'
    supported = ', '.join(conversions.SUPPORTED_ENCODINGS)
    expected = f"unsupported encoding '32FC1' (supported: {supported}; others need cv_bridge)"
    with pytest.raises(ImageError) as caught:
        image_to_frame(msg)
    assert str(caught.value) == expected


@pytest.mark.parametrize(('fmt', 'name'), [('', 'compressed'), ('png', 'png')])
def test_empty_compressed_names_its_format(fmt: str, name: str) -> None:
    from sensor_msgs.msg import CompressedImage

    from patchdrivenet_ros.ros.conversions import ImageError, compressed_to_frame

    with pytest.raises(ImageError, match=f'^empty {name} image$'):
        compressed_to_frame(CompressedImage(format=fmt))


def test_png_is_lossless_and_jpeg_the_default() -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.conversions import compressed_to_frame, encode_compressed

    bgr = _rgb(8, 12)
    png = encode_compressed(bgr, Header(), 'png')
    assert bytes(png.data[:4]) == b'\x89PNG'
    decoded = compressed_to_frame(png)
    assert not decoded.bgr
    np.testing.assert_array_equal(decoded.pixels, bgr[..., ::-1])
    jpeg = encode_compressed(bgr, Header())
    assert jpeg.format == 'jpeg' and bytes(jpeg.data[:2]) == b'\xff\xd8'


def test_an_encoder_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros import conversions
    from patchdrivenet_ros.ros.conversions import encode_compressed

    monkeypatch.setattr(conversions.cv2, 'imencode', lambda ext, pixels: (False, None))
    with pytest.raises(ValueError, match='^cannot encode as png$'):
        encode_compressed(_rgb(), Header(), 'png')


def test_colour_frames_become_messages_in_their_channel_order() -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.conversions import bgr_to_image, frame_to_image, image_to_frame

    header = Header(frame_id='cam')
    pixels = _rgb(3, 5)
    for msg, encoding in ((bgr_to_image(pixels, header), 'bgr8'),
                          (frame_to_image(pixels, header), 'rgb8'),
                          (frame_to_image(pixels, header, bgr=True), 'bgr8')):
        assert (msg.encoding, msg.height, msg.width, msg.step) == (encoding, 3, 5, 15)
        assert msg.header.frame_id == 'cam' and msg.is_bigendian == 0
        frame = image_to_frame(msg)
        assert frame.bgr is (encoding == 'bgr8')
        np.testing.assert_array_equal(frame.pixels, pixels)
