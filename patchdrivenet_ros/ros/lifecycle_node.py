# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The perception node as a managed (lifecycle) node, driven by a lifecycle manager.

- unconfigured (at start): no parameters of the pipeline, no topics, no model;
- configure: declares and validates the parameters, loads the model and creates the output
  publishers (lifecycle publishers, off while inactive) and the diagnostics; an invalid
  parameter or weights file fails the transition with the reason in the log;
- activate: subscribes the cameras and answers frames; deactivate: unsubscribes, keeps the
  model (diagnostics go on, ``state: inactive``), so activating again needs no reload;
- cleanup (back to unconfigured) and shutdown (finalized) free the model and every topic.

The parameters stay declared from the first successful configure on: runtime changes made
while unconfigured apply to the next configure. Parameters come from the command line or the
params file, so when they are invalid every configure fails alike until the node is restarted
with valid ones.
"""

from __future__ import annotations

from typing import Any

from lifecycle_msgs.msg import State
from rclpy.exceptions import ParameterException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from patchdrivenet_ros.config import DEFAULT_NODE_NAME, ConfigError, PerceptionConfig
from patchdrivenet_ros.ros.params import ConfigParameters
from patchdrivenet_ros.ros.pipeline import PerceptionPipeline, changed_fields


def _state_id(state: LifecycleState) -> int:
    """Return a lifecycle state's id (the field's name differs between rclpy releases)."""
    return int(state[1])


class PerceptionLifecycleNode(LifecycleNode):
    """Run the perception pipeline between the configure/activate transitions and cleanup."""

    def __init__(self, node_name: str = DEFAULT_NODE_NAME, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._config_parameters: ConfigParameters | None = None
        self._parameter_error: Exception | None = None
        self._pipeline: PerceptionPipeline | None = None
        self.get_logger().info('unconfigured: configure loads the model, activate starts it')

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Validate the parameters and load the model; FAILURE (and the reason) if they fail."""
        from patchdrivenet_ros.model.weights import WeightsError

        try:
            self._pipeline = PerceptionPipeline(self, self._declared_config())
        except (ConfigError, ParameterException) as error:
            self.get_logger().error(
                f'configure failed: invalid parameter: {error} (fix it in the params file or '
                'the launch arguments and restart the node)')
            return TransitionCallbackReturn.FAILURE
        except WeightsError as error:
            self.get_logger().error(f'configure failed: {error}')
            return TransitionCallbackReturn.FAILURE
        except Exception as error:  # rclpy would turn it into ERROR without a word
            self.get_logger().error(f'configure failed: {type(error).__name__}: {error}')
            return TransitionCallbackReturn.FAILURE
        self.get_logger().info('configured (inactive): activate to start answering frames')
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Switch the publishers on, then subscribe the cameras."""
        result = super().on_activate(state)
        if result == TransitionCallbackReturn.SUCCESS and self._pipeline is not None:
            self._pipeline.activate()
            self.get_logger().info('active')
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe the cameras and switch the publishers off; keep the model."""
        if self._pipeline is not None:
            self._pipeline.deactivate()
        self.get_logger().info('inactive: the model stays loaded')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Free the model and remove the pipeline's topics (back to unconfigured)."""
        self._close('cleaned up')
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Undo activate and configure as far as they were done; the node is finalized."""
        if _state_id(state) == State.PRIMARY_STATE_ACTIVE and self._pipeline is not None:
            self._pipeline.deactivate()
            super().on_deactivate(state)
        self._close('shut down')
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Free everything after a failed transition and go back to unconfigured."""
        self.get_logger().error(f'a transition from {state.label} raised; freeing the model')
        self._close('recovered')
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        """Free the pipeline, then destroy the node."""
        self._close(None)
        super().destroy_node()

    def _declared_config(self) -> ConfigParameters:
        """Declare the parameters on the first configure; raise their error on every later one."""
        if self._config_parameters is None:
            if self._parameter_error is not None:
                raise self._parameter_error
            try:
                self._config_parameters = ConfigParameters(self, on_change=self._on_config_change)
            except (ConfigError, ParameterException) as error:
                self._parameter_error = error
                raise
        return self._config_parameters

    def _on_config_change(self, old: PerceptionConfig, new: PerceptionConfig) -> None:
        """Hand an accepted runtime change to the pipeline, if one is loaded."""
        if self._pipeline is not None:
            self._pipeline.on_config_change(old, new)
        self.get_logger().info(f'parameters changed: {changed_fields(old, new)}')

    def _close(self, what: str | None) -> None:
        """Close the pipeline if there is one; log ``what`` happened."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        pipeline.close()
        if what is not None:
            self.get_logger().info(f'{what}: model freed')


__all__ = ['PerceptionLifecycleNode']
