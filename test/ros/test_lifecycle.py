# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The managed (lifecycle) node in its own process, over real DDS, driven like a manager does.

One node (namespace /l, ``perception_node --lifecycle``, a tiny model) goes through
unconfigured -> configure -> activate -> deactivate -> activate -> deactivate -> cleanup ->
configure -> activate -> shutdown by calls of its ``change_state`` service, and each step is
checked by what the node offers on the graph, what it answers, its diagnostics and its log.
The tests run in file order and each starts where the previous one left the node. In this
process, a node's engine is checked to be garbage after cleanup and shutdown. Nodes with an
invalid parameter or weights file stay unconfigured: configure answers failure with the reason.

Marked ``ros``: ROS modules are imported inside the helpers and tests. Every wait is for an
event (a state, a graph change, an answer, a diagnostics value) with a generous bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import time
from typing import Any
import weakref

import numpy as np
import pytest

pytestmark = pytest.mark.ros

NODE_START_TIMEOUT_S = 180.0  # imports torch on a busy machine
CONFIGURE_TIMEOUT_S = 180.0  # builds the model
ANSWER_TIMEOUT_S = 60.0
RESEND_S = 5.0  # get_state is safe to repeat; see RosClient.call
NAMESPACE = '/l'
NODE = f'{NAMESPACE}/patchdrivenet'
IMAGE = f'{NAMESPACE}/image'
MASK = f'{NAMESPACE}/segmentation/mask'
LOADED = 'model loaded:'


class Lifecycle:
    """Client of a managed node's ``get_state`` and ``change_state`` services."""

    def __init__(self, client: Any, node: str) -> None:
        from lifecycle_msgs.srv import ChangeState, GetState

        self._client = client
        self._get = client.node.create_client(GetState, f'{node}/get_state')
        self._change = client.node.create_client(ChangeState, f'{node}/change_state')

    def ready(self) -> bool:
        """Whether both services are discovered."""
        return bool(self._get.service_is_ready() and self._change.service_is_ready())

    def state(self) -> str:
        """Return the node's state label ('unconfigured', 'inactive', ...)."""
        from lifecycle_msgs.srv import GetState

        response = self._client.call(self._get, GetState.Request(), ANSWER_TIMEOUT_S, RESEND_S)
        assert response is not None, 'get_state did not answer'
        return str(response.current_state.label)

    def change(self, transition: str, timeout_s: float = ANSWER_TIMEOUT_S) -> bool:
        """Request a transition by its Transition constant name; return its success."""
        from lifecycle_msgs.msg import Transition
        from lifecycle_msgs.srv import ChangeState

        request = ChangeState.Request()
        request.transition.id = getattr(Transition, f'TRANSITION_{transition.upper()}')
        response = self._client.call(self._change, request, timeout_s)
        assert response is not None, f'change_state {transition} did not answer'
        return bool(response.success)


def _start(start_node: Callable[..., Any], client: Any, namespace: str,
           *parameters: str) -> tuple[Any, Lifecycle]:
    """Start a managed node in ``namespace``; wait until its lifecycle services are up."""
    node = start_node('-r', f'__ns:={namespace}', *parameters, '--', '--lifecycle')
    lifecycle = Lifecycle(client, f'{namespace}/patchdrivenet')
    started = client.wait_for(lambda: lifecycle.ready() or not node.alive(),
                              NODE_START_TIMEOUT_S)
    assert started and node.alive(), node.output()
    lifecycle.state()  # the first answer proves the node's responses reach this client
    return node, lifecycle


def _header(sec: int, frame_id: str) -> Any:
    from std_msgs.msg import Header

    header = Header(frame_id=frame_id)
    header.stamp.sec, header.stamp.nanosec = sec, 123
    return header


def _image(sec: int, frame_id: str = 'camera') -> Any:
    from patchdrivenet_ros.ros.conversions import frame_to_image

    pixels = np.random.default_rng(sec).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    return frame_to_image(pixels, _header(sec, frame_id))


class Answers:
    """The node's masks and detections, collected by the client."""

    def __init__(self, client: Any) -> None:
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray

        self.mask = client.collect(Image, MASK)
        self.detections = client.collect(Detection2DArray, f'{NAMESPACE}/detections')

    def stamps(self) -> set[int]:
        """Return the seconds of the frames answered on both outputs."""
        return ({m.header.stamp.sec for m in list(self.mask)}
                & {m.header.stamp.sec for m in list(self.detections)})


class Diagnostics:
    """The DiagnosticStatus values of the managed node, with the time each was taken."""

    def __init__(self, client: Any) -> None:
        from diagnostic_msgs.msg import DiagnosticArray

        self._client = client
        self._received = client.collect(DiagnosticArray, '/diagnostics')

    def statuses(self) -> list[tuple[float, dict[str, str]]]:
        """Return (stamp in seconds, key/values) of every status of the node so far."""
        found = []
        for array_msg in list(self._received):
            stamp = array_msg.header.stamp.sec + array_msg.header.stamp.nanosec * 1e-9
            found += [(stamp, {kv.key: kv.value for kv in status.values})
                      for status in array_msg.status if status.name.startswith(NODE)]
        return found

    def wait(self, predicate: Callable[[dict[str, str]], bool]) -> dict[str, str]:
        """Wait for a status taken from now on that satisfies ``predicate``; return it."""
        since = time.time()  # the node stamps with this machine's wall clock

        def found() -> dict[str, str] | None:
            return next((values for stamp, values in reversed(self.statuses())
                         if stamp >= since and predicate(values)), None)

        assert self._client.wait_for(lambda: found() is not None, ANSWER_TIMEOUT_S), (
            self.statuses()[-1:])
        values = found()
        assert values is not None
        return values


def _accounted(values: dict[str, str]) -> bool:
    """Whether every frame the node received was answered, dropped, refused or failed."""
    done = ('frames_out', 'dropped_frames', 'bad_frames', 'failed_frames')
    return int(values['frames_in']) == sum(int(values[key]) for key in done)


@pytest.fixture(scope='module')
def managed(start_node: Callable[..., Any], tiny_weights: Any,
            ros_client: Any) -> tuple[Any, Lifecycle]:
    """Start the managed node /l with a tiny model (it starts unconfigured)."""
    return _start(start_node, ros_client, NAMESPACE, '-p', f'weights:={tiny_weights}',
                  '-p', 'patch_budget:=3', '-p', 'patch_sizes:=[32, 64]',
                  '-p', 'diagnostics_period_s:=0.2', '-p', 'threads:=1')


@pytest.fixture(scope='module')
def answers(ros_client: Any, managed: Any) -> Answers:
    """Collect the answers of node /l from its start on."""
    return Answers(ros_client)


@pytest.fixture(scope='module')
def label_info(ros_client: Any, managed: Any) -> list[Any]:
    """Collect node /l's class map (transient local) from its start on."""
    from rclpy.qos import DurabilityPolicy, QoSProfile
    from vision_msgs.msg import LabelInfo

    qos = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    received: list[Any] = ros_client.collect(LabelInfo, f'{NAMESPACE}/label_info', qos)
    return received


@pytest.fixture(scope='module')
def diagnostics(ros_client: Any, managed: Any) -> Diagnostics:
    """Collect node /l's diagnostics."""
    return Diagnostics(ros_client)


@pytest.fixture(scope='module')
def camera(ros_client: Any, managed: Any) -> Iterator[Any]:
    """Publish images on /l/image, reliable and volatile (nothing kept for late readers)."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    pub = ros_client.node.create_publisher(Image, IMAGE, qos)
    yield pub
    ros_client.node.destroy_publisher(pub)


def _subscribed(client: Any, pub: Any) -> bool:
    """Wait until the node subscribes /l/image reliably (it matches the publisher's QoS)."""
    from rclpy.qos import ReliabilityPolicy

    def matched() -> bool:
        infos = client.node.get_subscriptions_info_by_topic(IMAGE)
        return (len(infos) == 1 and infos[0].qos_profile.reliability
                == ReliabilityPolicy.RELIABLE and pub.get_subscription_count() > 0)

    return bool(client.wait_for(matched, ANSWER_TIMEOUT_S))


def _answered(client: Any, pub: Any, answers: Answers, sec: int) -> bool:
    """Publish frame ``sec`` and wait until both outputs answered it."""
    pub.publish(_image(sec, frame_id=f'cam_{sec}'))
    return bool(client.wait_for(lambda: sec in answers.stamps(), ANSWER_TIMEOUT_S))


def test_starts_unconfigured_with_no_topics_and_no_model(
    ros_client: Any, managed: Any, answers: Answers,
) -> None:
    node, lifecycle = managed
    assert lifecycle.state() == 'unconfigured'
    output = node.output()
    assert LOADED not in output and 'subscribed to' not in output, output
    assert ros_client.node.count_subscribers(IMAGE) == 0
    assert ros_client.node.count_publishers(MASK) == 0
    assert not answers.mask


def test_configure_loads_the_model_but_neither_subscribes_nor_answers(
    ros_client: Any, managed: Any, diagnostics: Diagnostics, label_info: list[Any],
    tiny_weights: Any,
) -> None:
    node, lifecycle = managed
    assert lifecycle.change('configure', CONFIGURE_TIMEOUT_S), node.output()
    assert lifecycle.state() == 'inactive'
    assert ros_client.wait_for(lambda: ros_client.node.count_publishers(MASK) == 1,
                               ANSWER_TIMEOUT_S), 'configure did not create the outputs'
    status = diagnostics.wait(lambda values: values['state'] == 'inactive')
    assert status['weights_loaded'] == 'true' and status['frames_in'] == '0', status
    output = node.output()
    assert output.count(LOADED) == 1 and str(tiny_weights) in output, output
    assert 'subscribed to' not in output and ros_client.node.count_subscribers(IMAGE) == 0
    assert not label_info  # managed publishers stay off while inactive


def test_activate_answers_frames_with_their_header(
    ros_client: Any, managed: Any, camera: Any, answers: Answers, label_info: list[Any],
) -> None:
    node, lifecycle = managed
    assert lifecycle.change('activate'), node.output()
    assert lifecycle.state() == 'active'
    assert _subscribed(ros_client, camera), node.output()
    assert _answered(ros_client, camera, answers, 11), node.output()
    for received in (answers.mask, answers.detections):
        msg = next(m for m in received if m.header.stamp.sec == 11)
        assert (msg.header.stamp.nanosec, msg.header.frame_id) == (123, 'cam_11')
    mask = next(m for m in answers.mask if m.header.stamp.sec == 11)
    assert (mask.width, mask.height, mask.encoding) == (320, 240, 'mono8')
    assert ros_client.wait_for(lambda: bool(label_info), ANSWER_TIMEOUT_S), node.output()


def test_deactivate_stops_answering_keeps_the_model_and_activate_resumes(
    ros_client: Any, managed: Any, camera: Any, answers: Answers, diagnostics: Diagnostics,
) -> None:
    """A frame sent while inactive is never received; activating again reloads nothing."""
    node, lifecycle = managed
    before = diagnostics.wait(_accounted)
    assert lifecycle.change('deactivate'), node.output()
    assert lifecycle.state() == 'inactive'
    assert ros_client.wait_for(lambda: ros_client.node.count_subscribers(IMAGE) == 0,
                               ANSWER_TIMEOUT_S), 'deactivate kept the image subscription'
    camera.publish(_image(21))  # nobody reads it now; volatile, so never delivered later
    status = diagnostics.wait(lambda values: values['state'] == 'inactive')
    assert status['weights_loaded'] == 'true', status

    assert lifecycle.change('activate'), node.output()
    assert _subscribed(ros_client, camera), node.output()
    assert _answered(ros_client, camera, answers, 22), node.output()
    after = diagnostics.wait(lambda values: _accounted(values) and values['state'] == 'active')
    assert 21 not in answers.stamps()
    assert int(after['frames_in']) - int(before['frames_in']) == 1, (before, after)
    assert node.output().count(LOADED) == 1, node.output()


def test_cleanup_frees_the_model_and_shutdown_finalizes(
    ros_client: Any, managed: Any, camera: Any, answers: Answers,
) -> None:
    node, lifecycle = managed
    assert lifecycle.change('deactivate') and lifecycle.change('cleanup'), node.output()
    assert lifecycle.state() == 'unconfigured'
    assert ros_client.wait_for(lambda: ros_client.node.count_publishers(MASK) == 0,
                               ANSWER_TIMEOUT_S), 'cleanup kept the outputs'
    assert 'cleaned up: model freed' in node.output()

    assert lifecycle.change('configure', CONFIGURE_TIMEOUT_S), node.output()
    assert node.output().count(LOADED) == 2  # freed by cleanup, so loaded again
    assert lifecycle.change('activate'), node.output()
    assert _subscribed(ros_client, camera), node.output()
    assert _answered(ros_client, camera, answers, 31), node.output()

    assert lifecycle.change('active_shutdown'), node.output()
    assert lifecycle.state() == 'finalized'
    assert ros_client.wait_for(
        lambda: ros_client.node.count_publishers(MASK) == 0
        and ros_client.node.count_subscribers(IMAGE) == 0, ANSWER_TIMEOUT_S), node.output()
    assert 'shut down: model freed' in node.output()
    assert node.stop() == 0, node.output()
    assert 'Traceback' not in node.output(), node.output()


def test_cleanup_and_shutdown_release_the_model(tiny_weights: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process: the engine built by configure is garbage once cleanup or shutdown ran."""
    import rclpy
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    from patchdrivenet_ros.ros import pipeline
    from patchdrivenet_ros.ros.lifecycle_node import PerceptionLifecycleNode

    built: list[weakref.ref[Any]] = []
    build = pipeline.build_engine

    def recording(config: Any) -> Any:
        engine = build(config)
        built.append(weakref.ref(engine))
        return engine

    monkeypatch.setattr(pipeline, 'build_engine', recording)
    context = rclpy.Context()
    rclpy.init(context=context)
    overrides = [Parameter('weights', value=str(tiny_weights)),
                 Parameter('patch_sizes', value=[32, 64]), Parameter('threads', value=1)]
    node = PerceptionLifecycleNode(context=context, namespace='/inprocess',
                                   parameter_overrides=overrides)
    success = TransitionCallbackReturn.SUCCESS
    try:
        assert node.trigger_configure() == success and built[0]() is not None
        assert node.trigger_activate() == success and node.trigger_deactivate() == success
        assert built[0]() is not None  # kept while inactive
        assert node.trigger_cleanup() == success and built[0]() is None
        assert node.trigger_configure() == success and node.trigger_activate() == success
        assert len(built) == 2 and built[1]() is not None
        assert node.trigger_shutdown() == success and built[1]() is None
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)


BAD_NODES = {
    'reuse_rule:=sometimes': 'reuse_rule',
    'patch_budget:=-3': 'patch_budget',
    'weights:=/nonexistent/w.safetensors': '/nonexistent/w.safetensors',
}


@pytest.fixture(scope='module')
def bad_nodes(start_node: Callable[..., Any],
              ros_client: Any) -> dict[str, tuple[Any, Lifecycle]]:
    """One managed node per invalid parameter (started together: their imports overlap)."""
    started = {argument: start_node('-r', f'__ns:=/bad{index}', '-p', argument,
                                    '--', '--lifecycle')
               for index, argument in enumerate(BAD_NODES)}
    nodes = {}
    for index, (argument, node) in enumerate(started.items()):
        lifecycle = Lifecycle(ros_client, f'/bad{index}/patchdrivenet')
        up = ros_client.wait_for(lambda lc=lifecycle, n=node: lc.ready() or not n.alive(),
                                 NODE_START_TIMEOUT_S)
        assert up and node.alive(), node.output()
        nodes[argument] = (node, lifecycle)
    return nodes


@pytest.mark.parametrize('argument', sorted(BAD_NODES))
def test_invalid_parameter_fails_configure_with_the_reason(
    bad_nodes: dict[str, tuple[Any, Lifecycle]], argument: str,
) -> None:
    node, lifecycle = bad_nodes[argument]
    assert not lifecycle.change('configure', CONFIGURE_TIMEOUT_S)
    assert lifecycle.state() == 'unconfigured'
    assert not lifecycle.change('configure', CONFIGURE_TIMEOUT_S)  # fails alike, no crash
    assert lifecycle.state() == 'unconfigured'
    lines = [line for line in node.output().splitlines() if 'configure failed' in line]
    assert len(lines) == 2 and all(BAD_NODES[argument] in line for line in lines), node.output()
    assert node.alive() and node.stop() == 0, node.output()
    assert 'Traceback' not in node.output(), node.output()
