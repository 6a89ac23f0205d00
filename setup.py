# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Build script of the ament_python package (colcon build, or the make setup workspace)."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'patchdrivenet_ros'
SHARE = os.path.join('share', PACKAGE)
DOCS = [name for name in ('README.md', 'MODEL_CARD.md') if os.path.isfile(name)]

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={PACKAGE: ['weights/*.safetensors', 'weights/*.json']},
    data_files=[
        ('share/ament_index/resource_index/packages', [os.path.join('resource', PACKAGE)]),
        (SHARE, ['package.xml']),
        (os.path.join(SHARE, 'launch'), sorted(glob('launch/*.launch.py'))),
        (os.path.join(SHARE, 'config'), sorted(glob('config/*.yaml') + glob('config/*.rviz'))),
        (os.path.join(SHARE, 'config', 'presets'), sorted(glob('config/presets/*.yaml'))),
        (os.path.join(SHARE, 'weights'),
         sorted(glob('weights/*.safetensors') + glob('weights/*.json'))),
        (os.path.join('share', 'doc', PACKAGE), DOCS),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='patchdrivenet_ros maintainers',
    maintainer_email='maintainers@example.com',
    description='PatchDriveNet: patch-budgeted, temporally reused driving perception for ROS 2.',
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={
        'console_scripts': [
            'perception_node = patchdrivenet_ros.ros.node:main',
            'patchdrivenet-train = patchdrivenet_ros.tools.train:main',
            'patchdrivenet-evaluate = patchdrivenet_ros.tools.evaluate:main',
            'patchdrivenet-benchmark = patchdrivenet_ros.tools.benchmark:main',
            'patchdrivenet-synth = patchdrivenet_ros.tools.synth:main',
            'patchdrivenet-demo = patchdrivenet_ros.tools.demo:main',
            'patchdrivenet-soak = patchdrivenet_ros.tools.soak:main',
            'patchdrivenet-replay = patchdrivenet_ros.tools.replay:main',
        ],
    },
)
