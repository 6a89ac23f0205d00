# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Camera projection, near clipping, exact rasterising and the occlusion order."""

from __future__ import annotations

import numpy as np

from patchdrivenet_ros.data.camera import NEAR, Camera, clip_near
from patchdrivenet_ros.data.labels import extract_boxes, occlusion_level
from patchdrivenet_ros.data.render import (
    INSTANCE_SHIFT,
    Canvas,
    Drawing,
    Painter,
    Target,
    label_code,
    paint_order,
)


def camera(heading: float = 0.0) -> Camera:
    return Camera.at(100.0, 200, 100, (0.0, 1.5, 0.0), heading)


def test_projection_of_a_point_ahead_and_to_the_right() -> None:
    cam = camera()
    p = cam.to_camera(np.array([[2.0, 0.0, 10.0]]))
    assert np.allclose(p, [[2.0, 1.5, 10.0]])
    assert np.allclose(cam.project(p), [[100 + 100 * 0.2, 50 + 100 * 0.15]])


def test_pose_inverts_the_world_to_camera_map() -> None:
    cam = Camera.at(120.0, 200, 100, (3.0, 1.6, -2.0), 0.3, pitch=0.02, roll=0.01)
    point = np.array([[4.0, 0.5, 15.0]])
    in_cam = cam.to_camera(point)[0]
    assert np.allclose(cam.pose @ np.append(in_cam, 1.0), np.append(point[0], 1.0))


def test_heading_turns_the_view_towards_plus_x() -> None:
    cam = camera(heading=np.pi / 2)
    p = cam.to_camera(np.array([[10.0, 1.5, 0.0]]))
    assert np.allclose(p, [[0.0, 0.0, 10.0]], atol=1e-9)


def test_ground_homography_matches_projection() -> None:
    cam = Camera.at(120.0, 200, 100, (3.0, 1.6, -2.0), 0.3, pitch=0.02, roll=0.01)
    ground = np.array([[4.0, 0.0, 15.0]])
    pixel = cam.project(cam.to_camera(ground))[0]
    h = cam.ground_homography() @ np.array([4.0, 15.0, 1.0])
    assert np.allclose(h[:2] / h[2], pixel)


def test_clip_near_cuts_a_polygon_crossing_the_plane() -> None:
    square = np.array([[-1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, 3.0], [-1.0, 0.0, 3.0]])
    clipped = clip_near(square)
    assert clipped.shape == (4, 3)
    assert np.isclose(clipped[:, 2].min(), NEAR)
    assert clip_near(square - [0, 0, 10]).shape[0] == 0
    assert clip_near(square + [0, 0, 10]) is not None


def test_label_code_packs_class_and_instance() -> None:
    code = label_code(9, instance=77, ground=False)
    assert code & 15 == 9 and code >> INSTANCE_SHIFT == 77


def _quad_drawing(painter: Painter, z: float, x: float, instance: int, cls: int) -> Drawing:
    d = Drawing(distance=z, instance=instance, anchor=np.array([x, z]))
    quad = np.array([[x - 1, 0.0, z], [x + 1, 0.0, z], [x + 1, 2.0, z], [x - 1, 2.0, z]])
    painter.polygon(d, quad, (200, 0, 0), label_code(cls, instance))
    d.target = Target(instance, cls, 1.0, 2.0, 2.0, x, z, 0.0, 0.0)
    return d


def test_far_to_near_order_gives_exact_occlusion_and_levels() -> None:
    cam = camera()
    painter = Painter(cam)
    far = _quad_drawing(painter, 20.0, 0.0, 1, 9)
    near = _quad_drawing(painter, 10.0, 1.0, 2, 11)
    drawings = [near, far]
    order = paint_order(drawings, cam.position[[0, 2]])
    assert order == [1, 0]
    canvas = Canvas(np.zeros((100, 200, 3), np.uint8), with_depth=True)
    for i in order:
        canvas.paint(drawings[i])
    result = extract_boxes(canvas.label, drawings, cam, min_pixels=4)
    assert result.boxes.shape == (2, 4)
    by_track = dict(zip(result.track_ids.tolist(), result.occlusion.tolist(), strict=True))
    assert by_track[2] == 0  # the near object is fully visible
    assert by_track[1] >= 1  # the far one is partly hidden behind it
    mask = canvas.label & 15
    x0, y0, x1, y1 = result.boxes[result.track_ids == 2][0].astype(int)
    assert (mask[y0:y1, x0:x1] == 11).all()


def test_a_building_hides_what_is_behind_it_but_not_what_is_in_front() -> None:
    cam = camera()
    building = Drawing(distance=8.0, backdrop=True,
                       footprint=np.array([[2.0, 10.0], [2.0, 30.0], [8.0, 30.0], [8.0, 10.0]]),
                       anchor=np.array([5.0, 20.0]))
    painter = Painter(cam)
    painter.polygon(building, np.array([[2.0, 0, 10], [2.0, 0, 30], [2.0, 8, 30], [2.0, 8, 10]]),
                    (1, 1, 1), label_code(3))
    behind = _quad_drawing(painter, 40.0, 9.0, 1, 9)  # sight line crosses the building
    front = _quad_drawing(painter, 25.0, 1.5, 2, 11)  # on the road side of the facade
    drawings = [building, behind, front]
    order = paint_order(drawings, cam.position[[0, 2]])
    assert order.index(1) < order.index(0) < order.index(2)


def test_occlusion_levels() -> None:
    assert occlusion_level(100, 100) == 0
    assert occlusion_level(70, 100) == 1
    assert occlusion_level(20, 100) == 2
