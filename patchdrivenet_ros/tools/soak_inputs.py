# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Malformed and odd camera messages for the soak tool, as plain data (no ROS needed).

Each kind of bad input has a builder that returns an ``ImageSpec`` (fields of a
sensor_msgs/Image) or a ``CompressedSpec`` (of a CompressedImage), and the outcome the node
should give it:

- ``refused``: the decoder rejects it (counted ``bad``, logged with the reason ``reason``);
- ``tolerated``: a legal if unusual message; it is decoded and normally answered;
- ``either``: decoders differ on it (a corrupt JPEG may decode); only survival counts.

Odd headers (empty or long frame ids, stamps zero, backwards or far in the future) go on good
frames, which must all be answered; ``odd_header`` returns them. ``to_message`` (soak_node.py)
turns a spec into the ROS message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import struct
import time
from typing import Literal
import zlib

import cv2
import numpy as np

Expect = Literal['refused', 'tolerated', 'either']
Transport = Literal['raw', 'compressed']

_CHANNELS = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'bayer_rggb8': 1,
             'yuv422': 2, 'yuv422_yuy2': 2}
"""Encodings the node decodes itself, with their bytes per pixel (a subset)."""
_YUV = ('yuv422', 'yuv422_yuy2', 'uyvy', 'yuyv')
_UNSUPPORTED = ('', ' ', '32FC1x', 'soak_rgb8', 'rgb8\u00e9', 'RGB 8', 'jpeg?', 'bgr8;', 'x' * 300)
"""Encodings no decoder knows (cv_bridge refuses them too), beside random ones."""
_FORMATS = ('jpeg', 'png', '', 'rgb8; jpeg compressed bgr8', 'tiff', 'jp\u00e9g', 'x' * 200)
MAX_UINT32 = 2**32 - 1
MAX_INT32 = 2**31 - 1


@dataclass(frozen=True)
class ImageSpec:
    """The fields of a sensor_msgs/Image."""

    width: int
    height: int
    encoding: str
    step: int
    data: bytes
    frame_id: str = 'camera'
    stamp: tuple[int, int] = (0, 0)  # sec, nanosec


@dataclass(frozen=True)
class CompressedSpec:
    """The fields of a sensor_msgs/CompressedImage."""

    format: str
    data: bytes
    frame_id: str = 'camera'
    stamp: tuple[int, int] = (0, 0)


Spec = ImageSpec | CompressedSpec
Builder = Callable[[np.random.Generator, np.ndarray], Spec]
"""Make one message from a random generator and a good frame (H, W, 3) uint8 RGB."""


@dataclass(frozen=True)
class InputKind:
    """One kind of bad input: its transport, the expected outcome and its builder."""

    name: str
    transport: Transport
    expect: Expect
    build: Builder
    reason: str = ''  # text of the node's refusal (for refused kinds)


def _small_size(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(2, 65)), int(rng.integers(2, 49))


def _valid(rng: np.random.Generator, encoding: str | None = None) -> ImageSpec:
    """Make a small valid image of a random supported encoding (random pixels)."""
    encoding = encoding or str(rng.choice(sorted(_CHANNELS)))
    width, height = _small_size(rng)
    width += width % 2  # the YUV encodings need an even width
    step = width * _CHANNELS[encoding]
    return ImageSpec(width, height, encoding, step, rng.bytes(step * height))


def unsupported_encoding(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make a well-formed image of an encoding no decoder knows."""
    spec = _valid(rng, 'rgb8')
    if rng.random() < 0.5:
        encoding = str(rng.choice(_UNSUPPORTED))
    else:
        letters = rng.choice(list('abcdefghijklmnopqrstuvwxyz0123456789_'), rng.integers(1, 24))
        encoding = 'soak_' + ''.join(letters)
    return ImageSpec(spec.width, spec.height, encoding, spec.step, spec.data)


def truncated_data(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make an image of fewer bytes than ``step * height`` (none up to one short)."""
    spec = _valid(rng)
    needed = spec.step * spec.height
    return ImageSpec(spec.width, spec.height, spec.encoding, spec.step,
                     spec.data[: int(rng.integers(0, needed))])


def wrong_size(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make an image whose width and height need far more data than it holds (up to 2^40 B)."""
    spec = _valid(rng)
    channels = _CHANNELS[spec.encoding]
    width = int(rng.choice([spec.width * 2, 4096, 2**20])) // 2 * 2
    height = int(rng.choice([spec.height + 1, 4096, 2**20]))
    return ImageSpec(width, height, spec.encoding, width * channels, spec.data)


def small_step(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make an image whose ``step`` is below width x channels (0 included)."""
    spec = _valid(rng)
    return ImageSpec(spec.width, spec.height, spec.encoding, int(rng.integers(0, spec.step)),
                     spec.data)


def zero_size(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make an image of zero width or height (or both), with or without data."""
    spec = _valid(rng)
    width, height = [(0, spec.height), (spec.width, 0), (0, 0)][int(rng.integers(0, 3))]
    data = spec.data if rng.random() < 0.5 else b''
    return ImageSpec(width, height, spec.encoding, spec.step, data)


def odd_width_yuv(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make a YUV 4:2:2 image of odd width (two pixels share their chroma)."""
    width, height = _small_size(rng)
    width |= 1
    data = rng.bytes(width * 2 * height)
    return ImageSpec(width, height, str(rng.choice(_YUV)), width * 2, data)


def oversized_data(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make an image with more data than needed: padded rows, extra bytes at the end (legal)."""
    spec = _valid(rng)
    step = spec.step + int(rng.integers(0, 17))
    extra = int(rng.integers(1, 4 * step * spec.height))
    return ImageSpec(spec.width, spec.height, spec.encoding, step,
                     rng.bytes(step * spec.height + extra))


def tiny_image(rng: np.random.Generator, _: np.ndarray) -> ImageSpec:
    """Make a valid image of 1 to 8 pixels a side, or one row or column of 500."""
    width, height = [(int(rng.integers(1, 9)), int(rng.integers(1, 9))), (1, 500), (500, 1)][
        int(rng.integers(0, 3))]
    return ImageSpec(width, height, 'rgb8', width * 3, rng.bytes(width * 3 * height))


def _jpeg(frame_rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode('.jpg', cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError('cannot encode a JPEG')
    return encoded.tobytes()


def garbage_compressed(rng: np.random.Generator, _: np.ndarray) -> CompressedSpec:
    """Make random bytes, raw or behind a JPEG or PNG signature, in a random format."""
    prefix = [b'', b'\xff\xd8\xff', b'\x89PNG\r\n\x1a\n'][int(rng.integers(0, 3))]
    data = prefix + rng.bytes(int(rng.integers(1, 4097)))
    return CompressedSpec(str(rng.choice(_FORMATS)), data)


def empty_compressed(rng: np.random.Generator, _: np.ndarray) -> CompressedSpec:
    """Make a compressed image without data."""
    return CompressedSpec(str(rng.choice(_FORMATS)), b'')


def huge_compressed(rng: np.random.Generator, _: np.ndarray, megabytes: float = 4.0
                    ) -> CompressedSpec:
    """Make megabytes of random bytes behind a JPEG signature."""
    size = int(megabytes * 2**20 * rng.uniform(0.5, 1.0))
    return CompressedSpec('jpeg', b'\xff\xd8\xff' + rng.bytes(size))


def png_huge_dims(rng: np.random.Generator, _: np.ndarray) -> CompressedSpec:
    """Make a PNG header claiming up to 2^31 x 2^31 pixels, with no pixel data."""
    width = int(rng.choice([30000, 60000, 2**20, MAX_INT32]))
    height = int(rng.choice([1, 30000, 2**20, MAX_INT32]))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return CompressedSpec('png', b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header)
                          + chunk(b'IEND', b''))


def truncated_jpeg(rng: np.random.Generator, frame: np.ndarray) -> CompressedSpec:
    """Cut a good frame's JPEG short anywhere."""
    data = _jpeg(frame)
    return CompressedSpec('jpeg', data[: int(rng.integers(1, len(data)))])


def corrupt_jpeg(rng: np.random.Generator, frame: np.ndarray) -> CompressedSpec:
    """Overwrite random bytes of a good frame's JPEG after its first 100."""
    data = bytearray(_jpeg(frame))
    where = rng.integers(min(100, len(data) - 1), len(data), int(rng.integers(1, 33)))
    for index in where:
        data[int(index)] = int(rng.integers(0, 256))
    return CompressedSpec('jpeg', bytes(data))


KINDS: tuple[InputKind, ...] = (
    InputKind('unsupported_encoding', 'raw', 'refused', unsupported_encoding,
              'unsupported encoding'),
    InputKind('truncated_data', 'raw', 'refused', truncated_data, 'data holds'),
    InputKind('wrong_size', 'raw', 'refused', wrong_size, 'data holds'),
    InputKind('small_step', 'raw', 'refused', small_step, 'below width x channels'),
    InputKind('zero_size', 'raw', 'refused', zero_size, 'empty image'),
    InputKind('odd_width_yuv', 'raw', 'refused', odd_width_yuv, 'needs an even width'),
    InputKind('oversized_data', 'raw', 'tolerated', oversized_data),
    InputKind('tiny_image', 'raw', 'tolerated', tiny_image),
    InputKind('garbage_compressed', 'compressed', 'refused', garbage_compressed,
              'cannot decode'),
    InputKind('empty_compressed', 'compressed', 'refused', empty_compressed, 'empty'),
    InputKind('huge_compressed', 'compressed', 'refused', huge_compressed, 'cannot decode'),
    InputKind('png_huge_dims', 'compressed', 'refused', png_huge_dims, 'cannot decode'),
    InputKind('truncated_jpeg', 'compressed', 'either', truncated_jpeg),
    InputKind('corrupt_jpeg', 'compressed', 'either', corrupt_jpeg),
)
"""Every kind of malformed input the soak sends."""

ODD_HEADERS = ('empty_frame_id', 'long_frame_id', 'unicode_frame_id', 'stamp_zero',
               'stamp_backwards', 'stamp_far_future', 'stamp_nanosec_overflow')
"""Odd headers put on good frames; ``odd_header`` makes them."""


def kind_named(name: str) -> InputKind:
    """Return the InputKind called ``name``."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)


def odd_header(name: str, stamp: tuple[int, int], serial: int) -> tuple[str, tuple[int, int]]:
    """Return (frame_id, stamp) of odd header ``name`` for a frame normally stamped ``stamp``.

    ``serial`` (below 10^9) keeps the odd stamps of one run unique, so answers can be matched.
    """
    sec, nanosec = stamp
    frame_id, odd = 'camera', stamp
    if name == 'empty_frame_id':
        frame_id = ''
    elif name == 'long_frame_id':
        frame_id = 'camera_' * 1500
    elif name == 'unicode_frame_id':
        frame_id = 'kam\u00e9ra_\u2603_\U0001f697'
    elif name == 'stamp_zero':
        odd = (0, serial)
    elif name == 'stamp_backwards':
        odd = (max(0, sec - 3600), serial)
    elif name == 'stamp_far_future':
        odd = (MAX_INT32, serial)
    elif name == 'stamp_nanosec_overflow':
        odd = (sec, 1_000_000_000 + serial % (MAX_UINT32 - 1_000_000_000))
    else:
        raise KeyError(name)
    return frame_id, odd


class Stamper:
    """Hand out unique, increasing stamps near the wall clock (sec, nanosec)."""

    def __init__(self) -> None:
        self._last_ns = 0

    def next(self) -> tuple[int, int]:
        """Return a stamp later than every one handed out before."""
        self._last_ns = max(time.time_ns(), self._last_ns + 1000)
        return self._last_ns // 1_000_000_000, self._last_ns % 1_000_000_000


def good_image(frame_rgb: np.ndarray) -> ImageSpec:
    """Wrap a good frame as rgb8."""
    height, width = frame_rgb.shape[:2]
    return ImageSpec(width, height, 'rgb8', width * 3, np.ascontiguousarray(frame_rgb).tobytes())


def good_compressed(frame_rgb: np.ndarray) -> CompressedSpec:
    """Encode a good frame as JPEG."""
    return CompressedSpec('jpeg', _jpeg(frame_rgb))


__all__ = [
    'KINDS', 'ODD_HEADERS', 'CompressedSpec', 'ImageSpec', 'InputKind', 'Spec', 'Stamper',
    'good_compressed', 'good_image', 'kind_named', 'odd_header',
]
