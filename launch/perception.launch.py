# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Start the perception node with a params file, topic remaps and, optionally, RViz.

  ros2 launch patchdrivenet_ros perception.launch.py image:=/camera/image_raw rviz:=true
  ros2 launch patchdrivenet_ros perception.launch.py lifecycle:=true   # a managed node

With ``lifecycle:=true`` the node is a managed (lifecycle) node (``perception_node
--lifecycle``, a launch_ros LifecycleNode): it starts unconfigured and waits for a lifecycle
manager, or ``ros2 lifecycle set``, to configure and activate it. IfCondition/UnlessCondition
on the argument pick the action; they exist, undeprecated, on Humble, Jazzy and Kilted.

The params file is applied first; a launch argument left empty ('' = not given) leaves the
file's value alone, one given overrides it. That is done with SetParameter actions after
SetParametersFromFile inside a scoped group (later parameter sources win in ROS 2), built by an
OpaqueFunction from the arguments actually given. It replaces the LaunchConfigurationNotEquals
condition, deprecated with a warning from Jazzy on, whose replacement (NotEqualsSubstitution)
Humble lacks; OpaqueFunction works the same on Humble, Jazzy and Kilted.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, GroupAction, OpaqueFunction
from launch.conditions import IfCondition, UnlessCondition
from launch.launch_context import LaunchContext
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node, SetParameter, SetParametersFromFile
from launch_ros.parameter_descriptions import ParameterValue

PACKAGE = 'patchdrivenet_ros'

# Launch arguments that override one parameter each, with the parameter's type.
OVERRIDES = (
    ('image_transport', str, 'raw (image) or compressed (image/compressed)'),
    ('device', str, 'auto, cpu, cuda or cuda:N'),
    ('weights', str, 'weights file (.safetensors)'),
    ('patch_budget', int, 'patches refined per frame'),
    ('motion_threshold', float, 'px of motion under which a patch reuses its result'),
)


def _given_overrides(context: LaunchContext) -> list[SetParameter]:
    """Return one SetParameter per override argument given (non-empty) in this launch."""
    return [
        SetParameter(
            name=name,
            value=ParameterValue(LaunchConfiguration(name), value_type=value_type),
        )
        for name, value_type, _ in OVERRIDES
        if context.launch_configurations.get(name, '') != ''
    ]


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory(PACKAGE)
    image = LaunchConfiguration('image')
    namespace = LaunchConfiguration('namespace')
    lifecycle = LaunchConfiguration('lifecycle')
    remappings = [('image', image), ('image/compressed', [image, '/compressed'])]
    arguments = [
        DeclareLaunchArgument(
            'params_file',
            default_value=os.path.join(share, 'config', 'perception.yaml'),
            description='ROS parameters file of the node (see config/presets/)',
        ),
        DeclareLaunchArgument('image', default_value='image',
                              description='camera topic the node reads (remaps image)'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='namespace of the node and its topics (one per camera)'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='use /clock (bag replay)'),
        DeclareLaunchArgument('rviz', default_value='false',
                              description='start RViz with config/perception.rviz'),
        DeclareLaunchArgument('lifecycle', default_value='false',
                              description='run a managed (lifecycle) node: it starts '
                                          'unconfigured; configure and activate it'),
    ]
    arguments += [
        DeclareLaunchArgument(name, default_value='',
                              description=f'{text}; empty = keep the params file value')
        for name, _, text in OVERRIDES
    ]
    perception = GroupAction(
        scoped=True,
        actions=[
            SetParametersFromFile(LaunchConfiguration('params_file')),
            OpaqueFunction(function=_given_overrides),
            Node(
                package=PACKAGE,
                executable='perception_node',
                name='patchdrivenet',
                namespace=namespace,
                remappings=remappings,
                output='screen',
                condition=UnlessCondition(lifecycle),
            ),
            LifecycleNode(
                package=PACKAGE,
                executable='perception_node',
                arguments=['--lifecycle'],
                name='patchdrivenet',
                namespace=namespace,
                remappings=remappings,
                output='screen',
                condition=IfCondition(lifecycle),
            ),
        ],
    )
    rviz = Node(
        package='rviz2',
        executable='rviz2',
        name='rviz2',
        namespace=namespace,
        arguments=['-d', os.path.join(share, 'config', 'perception.rviz')],
        remappings=[('image', image)],
        condition=IfCondition(LaunchConfiguration('rviz')),
        output='screen',
    )
    use_sim_time = SetParameter(
        name='use_sim_time',
        value=ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool),
    )
    return LaunchDescription([*arguments, use_sim_time, perception, rviz])
