# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image messages to arrays and back: pure functions, no Node.

Incoming frames become numpy views on the message buffer where the encoding allows (rgb8, bgr8,
rgba8, bgra8: no copy); encodings that need a colour conversion (mono8, Bayer, YUV 4:2:2) go
through OpenCV once, straight to RGB. Compressed frames (JPEG, PNG) are decoded by
``image_codec`` (Pillow, which refuses damaged data without printing). Encodings outside that
table are handed to cv_bridge where it is installed.
"""

from __future__ import annotations

import array
from dataclasses import dataclass
import importlib
from typing import Any

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from patchdrivenet_ros.image_codec import DecodeError, decode_compressed

# ROS Bayer names give the top-left 2x2 pattern; OpenCV names the pattern one pixel further in,
# so the codes look shifted (the same mapping cv_bridge uses).
_BAYER_CODES = {
    'bayer_rggb8': cv2.COLOR_BayerBG2RGB,
    'bayer_bggr8': cv2.COLOR_BayerRG2RGB,
    'bayer_gbrg8': cv2.COLOR_BayerGR2RGB,
    'bayer_grbg8': cv2.COLOR_BayerGB2RGB,
}
# 'yuv422' is UYVY in ROS; 'yuv422_yuy2' is YUYV. 'uyvy'/'yuyv' are the newer aliases.
_YUV_CODES = {
    'yuv422': cv2.COLOR_YUV2RGB_UYVY,
    'uyvy': cv2.COLOR_YUV2RGB_UYVY,
    'yuv422_yuy2': cv2.COLOR_YUV2RGB_YUY2,
    'yuyv': cv2.COLOR_YUV2RGB_YUY2,
}
_VIEW_ENCODINGS = {'rgb8': (3, False), 'bgr8': (3, True), 'rgba8': (4, False), 'bgra8': (4, True)}
_CHANNELS = {
    **{name: channels for name, (channels, _) in _VIEW_ENCODINGS.items()},
    'mono8': 1,
    **dict.fromkeys(_BAYER_CODES, 1),
    **dict.fromkeys(_YUV_CODES, 2),
}
SUPPORTED_ENCODINGS: tuple[str, ...] = tuple(_CHANNELS)
"""Encodings decoded without cv_bridge."""


class ImageError(ValueError):
    """A frame that cannot be decoded; the message says why."""


@dataclass(frozen=True)
class Frame:
    """A decoded frame: (H, W, 3) uint8, possibly a non-contiguous view on the message."""

    pixels: np.ndarray  # (H, W, 3) uint8
    bgr: bool  # channel order of pixels

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])


def _plane(msg: Image, channels: int) -> np.ndarray:
    """View the message buffer as (H, W, channels) uint8, honouring ``step``; no copy."""
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageError(f'empty image ({width}x{height})')
    row = width * channels
    if step < row:
        raise ImageError(f'step {step} is below width x channels = {row} for {msg.encoding}')
    data = np.frombuffer(msg.data, dtype=np.uint8)  # (N,) view
    if data.size < step * (height - 1) + row:
        raise ImageError(
            f'data holds {data.size} bytes, {msg.encoding} {width}x{height} '
            f'with step {step} needs {step * height}'
        )
    rows = np.lib.stride_tricks.as_strided(data, shape=(height, row), strides=(step, 1))
    return rows.reshape(height, width, channels) if channels > 1 else rows  # (H, W[, C])


def image_to_frame(msg: Image) -> Frame:
    """Decode a sensor_msgs/Image; raise ImageError with the reason when it cannot be used."""
    encoding = msg.encoding.lower()
    channels = _CHANNELS.get(encoding)
    if channels is None:
        return _cv_bridge_frame(msg)
    plane = _plane(msg, channels)
    if encoding in _VIEW_ENCODINGS:
        return Frame(plane[:, :, :3], bgr=_VIEW_ENCODINGS[encoding][1])  # (H, W, 3) view
    if encoding == 'mono8':
        return Frame(cv2.cvtColor(plane, cv2.COLOR_GRAY2RGB), bgr=False)
    if encoding in _BAYER_CODES:
        return Frame(cv2.cvtColor(plane, _BAYER_CODES[encoding]), bgr=False)
    if plane.shape[1] % 2:
        raise ImageError(f'{encoding} needs an even width, got {plane.shape[1]}')
    return Frame(cv2.cvtColor(plane, _YUV_CODES[encoding]), bgr=False)


def _cv_bridge_frame(msg: Image) -> Frame:
    """Convert an encoding outside our table with cv_bridge, or refuse it."""
    try:
        bridge_module: Any = importlib.import_module('cv_bridge')
    except ImportError:
        raise ImageError(
            f'unsupported encoding {msg.encoding!r} (supported: {", ".join(SUPPORTED_ENCODINGS)};'
            ' others need cv_bridge)'
        ) from None
    return bridge_frame(msg, bridge_module.CvBridge())


def bridge_frame(msg: Image, bridge: Any) -> Frame:
    """Convert ``msg`` to BGR with a cv_bridge ``CvBridge``; its failures become ImageError."""
    try:
        pixels = bridge.imgmsg_to_cv2(msg, desired_encoding='bgr8')
    except Exception as error:  # cv_bridge raises its own CvBridgeError and cv2.error
        raise ImageError(f'cv_bridge cannot convert {msg.encoding!r}: {error}') from None
    return Frame(np.asarray(pixels, dtype=np.uint8), bgr=True)


def compressed_to_frame(msg: CompressedImage) -> Frame:
    """Decode a JPEG or PNG sensor_msgs/CompressedImage; raise ImageError when it is corrupt."""
    data = memoryview(msg.data).cast('B')  # no copy
    if len(data) == 0:
        raise ImageError(f'empty {msg.format or "compressed"} image')
    try:
        return Frame(decode_compressed(data), bgr=False)
    except DecodeError as error:
        raise ImageError(f'cannot decode {len(data)} bytes of format {msg.format!r}: '
                         f'{error}') from None


def _payload(pixels: np.ndarray) -> array.array[int]:
    """Copy a uint8 array once into the array.array a message's ``data`` field keeps."""
    buffer = array.array('B')
    buffer.frombytes(np.ascontiguousarray(pixels, dtype=np.uint8).data)
    return buffer


def array_to_image(pixels: np.ndarray, encoding: str, header: Header) -> Image:
    """Wrap a uint8 (H, W) or (H, W, C) array into a sensor_msgs/Image with ``header``."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f'expected (H, W[, C]) uint8, got {pixels.shape} {pixels.dtype}')
    channels = 1 if pixels.ndim == 2 else int(pixels.shape[2])
    msg = Image()
    msg.header = header
    msg.height, msg.width = int(pixels.shape[0]), int(pixels.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = msg.width * channels
    msg.data = _payload(pixels)
    return msg


def mask_to_image(mask: np.ndarray, header: Header) -> Image:
    """Wrap a class-id mask (H, W) uint8 into a mono8 Image (255 = unlabeled)."""
    return array_to_image(mask, 'mono8', header)


def bgr_to_image(pixels: np.ndarray, header: Header) -> Image:
    """Wrap a colour image (H, W, 3) uint8 BGR into a bgr8 Image."""
    return array_to_image(pixels, 'bgr8', header)


def frame_to_image(pixels: np.ndarray, header: Header, *, bgr: bool = False) -> Image:
    """Wrap a colour frame (H, W, 3) uint8 into an rgb8 (or bgr8) Image: for tools and tests."""
    return array_to_image(pixels, 'bgr8' if bgr else 'rgb8', header)


def encode_compressed(
    pixels_bgr: np.ndarray, header: Header, fmt: str = 'jpeg'
) -> CompressedImage:
    """Encode a BGR frame (H, W, 3) uint8 as a JPEG or PNG CompressedImage."""
    ok, encoded = cv2.imencode('.jpg' if fmt == 'jpeg' else f'.{fmt}', pixels_bgr)
    if not ok:
        raise ValueError(f'cannot encode as {fmt}')
    msg = CompressedImage()
    msg.header = header
    msg.format = fmt
    msg.data = _payload(encoded)
    return msg


__all__ = [
    'Frame', 'ImageError', 'SUPPORTED_ENCODINGS', 'array_to_image', 'bgr_to_image',
    'compressed_to_frame', 'encode_compressed', 'frame_to_image', 'image_to_frame',
    'mask_to_image',
]
