#!/usr/bin/env bash
# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# `make setup`: everything this checkout needs, from nothing, and quick when already done.
#   .venv/       Python virtual environment with the pinned requirements.txt
#   .ws/         colcon workspace: this package (--symlink-install) and, only where no
#                vision_msgs is importable, the vision_msgs copy in interfaces/vision_msgs
#   .ws/env.sh   source it (sh, bash, zsh) to get rclpy, vision_msgs and patchdrivenet_ros
#
# Two environments:
#   ROS 2 sourced (ROS_DISTRO set and rclpy importable): the venv sees the system packages
#     (--system-site-packages) and gets requirements-ros.txt (no ROS wheels, numpy kept < 2).
#   No ROS: the ROS 2 wheels from requirements.txt (CPython 3.11) provide rclpy and friends.
#     ROS_WHEELS=jazzy takes the Jazzy wheels (requirements-jazzy.txt) into .venv-jazzy and
#     .ws-jazzy instead, a second distribution beside Kilted's (`make test-jazzy`).
#
# A stamp keyed on the inputs (requirements, packaging files, interfaces, this script, the
# environment kind) makes a re-run a no-op. FORCE=1 rebuilds anyway.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROS_WHEELS=${ROS_WHEELS:-kilted}
case "$ROS_WHEELS" in
  kilted) VENV="$ROOT/.venv" WS="$ROOT/.ws" WHEEL_REQUIREMENTS="$ROOT/requirements.txt" ;;
  jazzy) VENV="$ROOT/.venv-jazzy" WS="$ROOT/.ws-jazzy"
    WHEEL_REQUIREMENTS="$ROOT/requirements-jazzy.txt" ;;
  *) printf '[setup] error: ROS_WHEELS must be kilted or jazzy, not %s\n' "$ROS_WHEELS" >&2
    exit 1 ;;
esac
STAMP="$WS/.setup-stamp"
INTERFACES="$ROOT/interfaces/vision_msgs"
# The ROS 2 wheels' CMake exports name the include paths of the machine they were built on.
WHEEL_PY_INCLUDE=/opt/python/cp311-cp311/include/python3.11
WHEEL_NUMPY_INCLUDE=/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include

SECONDS=0
log() { printf '[setup %3ds] %s\n' "$SECONDS" "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- environment kind
ros_sourced() {
  [ -n "${ROS_DISTRO:-}" ] && command -v python3 >/dev/null 2>&1 \
    && python3 -c 'import rclpy' >/dev/null 2>&1
}

if [ "$ROS_WHEELS" = kilted ] && ros_sourced; then
  MODE="ros-$ROS_DISTRO"
  PYTHON=$(command -v python3)
else
  MODE=wheels
  PYTHON=""
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      PYTHON=$("$candidate" -c 'import sys; print(sys.executable)')
      break
    fi
  done
  [ -n "$PYTHON" ] || die 'Python 3.11 is required (the ROS 2 wheels are built for CPython 3.11);
  install python3.11, or source a ROS 2 installation (e.g. /opt/ros/jazzy/setup.bash) first.'
fi

# ---------------------------------------------------------------- stamp
inputs_hash() {
  {
    echo "mode=$MODE wheels=$ROS_WHEELS root=$ROOT python=$PYTHON"
    cd "$ROOT"
    sha256sum requirements*.txt setup.py setup.cfg package.xml scripts/setup.sh
    find interfaces/vision_msgs resource -type f -print0 | sort -z | xargs -0 sha256sum
    # --symlink-install links data files one by one: a new launch/config file needs a build.
    ls -1d launch/*.launch.py config/*.yaml config/*.rviz config/presets/*.yaml \
      README.md MODEL_CARD.md 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1
}

HASH=$(inputs_hash)
if [ "${FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ] \
    && [ -x "$VENV/bin/python" ] && [ -f "$WS/env.sh" ] \
    && [ -d "$WS/install/patchdrivenet_ros" ]; then
  log "up to date ($MODE); FORCE=1 rebuilds"
  exit 0
fi
rm -f "$STAMP"
log "environment: $MODE ($ROS_WHEELS), $("$PYTHON" --version 2>&1) at $PYTHON"

# ---------------------------------------------------------------- virtual environment
venv_ok() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1 || return 1
  local want=false
  [ "$MODE" = wheels ] || want=true
  grep -q "include-system-site-packages = $want" "$VENV/pyvenv.cfg" || return 1
  [ "$("$VENV/bin/python" -c 'import sys; print(sys.version_info[:2])')" \
    = "$("$PYTHON" -c 'import sys; print(sys.version_info[:2])')" ]
}

if ! venv_ok; then
  log "creating $(basename "$VENV")"
  rm -rf "$VENV"
  if [ "$MODE" = wheels ]; then
    "$PYTHON" -m venv "$VENV"
  else
    "$PYTHON" -m venv --system-site-packages "$VENV"
  fi
fi

NUSCENES_DEVKIT=nuscenes-devkit==1.2.0
if [ "$MODE" = wheels ]; then
  REQUIREMENTS=(-r "$WHEEL_REQUIREMENTS")
else
  # The sourced ROS 2 installation provides rclpy, the messages, the build tools, numpy and
  # OpenCV; its compiled modules need its numpy 1.x, which requirements-ros.txt keeps.
  REQUIREMENTS=(-r "$ROOT/requirements-ros.txt" -r "$ROOT/requirements-dev.txt")
fi
log "installing ${REQUIREMENTS[*]} into $(basename "$VENV")"
# (the filter drops pip's notes about extra package indexes configured but absent here)
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
  "${REQUIREMENTS[@]}" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
# nuscenes-devkit pins numpy<2 and pulls an OpenCV wheel; its code runs on numpy 2, so it goes
# in without its pins in both modes (the parts of its needs it uses are in the requirements).
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
  --no-deps "$NUSCENES_DEVKIT" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }

# ---------------------------------------------------------------- build prerequisites
for tool in cmake make c++; do
  command -v "$tool" >/dev/null 2>&1 \
    || die "$tool not found; install a C++ toolchain and CMake (Debian: apt-get install cmake g++ make)"
done

link_wheel_path() {  # <target> <link>: a path the wheels' CMake exports expect
  local target=$1 link=$2
  if [ -e "$link" ] && [ ! -L "$link" ]; then
    return 0  # a real directory (e.g. a manylinux image): leave it
  fi
  if ! { mkdir -p "$(dirname "$link")" && ln -sfn "$target" "$link"; } 2>/dev/null; then
    die "cannot create $link (not permitted here). Create it once as root:
    sudo mkdir -p $(dirname "$link") && sudo ln -sfn $target $link"
  fi
}

if [ "$MODE" = wheels ]; then
  link_wheel_path "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
    "$WHEEL_PY_INCLUDE"
  link_wheel_path "$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')" \
    "$WHEEL_NUMPY_INCLUDE"
fi

# ---------------------------------------------------------------- colcon workspace
mkdir -p "$WS/src"
ln -sfn ../.. "$WS/src/patchdrivenet_ros"

vision_msgs_elsewhere() {
  # Importable without this workspace (a ROS install, or another workspace)?
  "$VENV/bin/python" - "$WS" >/dev/null 2>&1 <<'EOF'
import sys
ws = sys.argv[1]
sys.path = [p for p in sys.path if not p.startswith(ws)]
import vision_msgs.msg  # noqa: F401
EOF
}

if vision_msgs_elsewhere; then
  log "vision_msgs found in the environment: not building interfaces/vision_msgs"
  rm -rf "$WS/src/vision_msgs" "$WS/build/vision_msgs" "$WS/install/vision_msgs"
else
  log "vision_msgs not importable: building interfaces/vision_msgs into $(basename "$WS")"
  # Link the files, not the folder: its COLCON_IGNORE keeps user workspaces from building it.
  mkdir -p "$WS/src/vision_msgs"
  for item in package.xml CMakeLists.txt msg; do
    ln -sfn "../../../interfaces/vision_msgs/$item" "$WS/src/vision_msgs/$item"
  done
fi

build_env=(PATH="$VENV/bin:$PATH")
if [ "$MODE" = wheels ]; then
  # The wheels install an ament prefix into the venv itself (share/ament_index, lib, include).
  build_env+=(CMAKE_PREFIX_PATH="$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
              AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
              LD_LIBRARY_PATH="$VENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi
log "colcon build (log: $(basename "$WS")/log/latest_build)"
[ "$MODE" = wheels ] && log "(colcon's warning that $(basename "$VENV") has no local_setup.* files is expected)"
(
  cd "$WS"
  # colcon runs on the venv's Python, so the installed executables run there too.
  env "${build_env[@]}" "$VENV/bin/python" -m colcon --log-base log build \
    --symlink-install \
    --event-handlers console_direct- desktop_notification- terminal_title- \
    --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF
) || die "colcon build failed; see the output above and $WS/log/latest_build"

# ---------------------------------------------------------------- env.sh
if [ "$MODE" = wheels ]; then
  # The ROS 2 wheels form an ament prefix of their own inside the venv.
  # Their shared libraries live in the venv's lib (the Jazzy wheels carry no rpath to it).
  BASE_ENV='case ":${AMENT_PREFIX_PATH:-}:" in
  *":$VIRTUAL_ENV:"*) ;;
  *) AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;;
esac
export AMENT_PREFIX_PATH
case ":${LD_LIBRARY_PATH:-}:" in
  *":$VIRTUAL_ENV/lib:"*) ;;
  *) LD_LIBRARY_PATH="$VIRTUAL_ENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
esac
export LD_LIBRARY_PATH'
else
  # The ROS 2 installation this venv was made on, sourced when the shell has none.
  ros_prefix=$(python3 -c 'import pathlib, rclpy; print(pathlib.Path(rclpy.__file__).parents[4])')
  BASE_ENV="# (no setup.sh beside rclpy in $ros_prefix: source your ROS 2 setup first)"
  if [ -f "$ros_prefix/setup.sh" ]; then
    BASE_ENV="if [ -z \"\${ROS_DISTRO:-}\" ]; then
  . '$ros_prefix/setup.sh'
fi"
  fi
fi

cat > "$WS/env.sh" <<EOF
# Generated by scripts/setup.sh ($MODE, $ROS_WHEELS); rewritten by every setup run.
# Source it from sh, bash or zsh:  . $(basename "$WS")/env.sh
# Afterwards rclpy, vision_msgs.msg and patchdrivenet_ros import, and the package's
# executables (perception_node, patchdrivenet-*) are on PATH.
# The sourced setup scripts read unset variables: lift \`set -u\` meanwhile.
case "\$-" in *u*) _pdn_nounset=1; set +u ;; *) _pdn_nounset= ;; esac
VIRTUAL_ENV='$VENV'
export VIRTUAL_ENV
case ":\$PATH:" in
  *":\$VIRTUAL_ENV/bin:"*) ;;
  *) PATH="\$VIRTUAL_ENV/bin:\$PATH" ;;
esac
$BASE_ENV
COLCON_CURRENT_PREFIX='$WS/install'
. "\$COLCON_CURRENT_PREFIX/local_setup.sh"
unset COLCON_CURRENT_PREFIX
# colcon leaves a trailing empty entry (the current directory) when the variable was unset.
LD_LIBRARY_PATH="\${LD_LIBRARY_PATH%:}"
_pdn_bin='$WS/install/patchdrivenet_ros/lib/patchdrivenet_ros'
case ":\$PATH:" in
  *":\$_pdn_bin:"*) ;;
  *) PATH="\$_pdn_bin:\$PATH" ;;
esac
export PATH
[ -n "\$_pdn_nounset" ] && set -u
unset _pdn_bin _pdn_nounset
EOF

# ---------------------------------------------------------------- check and stamp
log "checking $(basename "$WS")/env.sh"
# Without ROS, env.sh alone must give everything: start the check from no PYTHONPATH.
check_env=(env)
[ "$MODE" = wheels ] && check_env+=(-u PYTHONPATH)
for shell in sh bash; do
  (cd / && "${check_env[@]}" "$shell" -c ". '$WS/env.sh' && python -c 'import rclpy, vision_msgs.msg, patchdrivenet_ros'") \
    || die "sourcing $WS/env.sh in $shell does not give rclpy, vision_msgs.msg and patchdrivenet_ros"
done
[ -x "$WS/install/patchdrivenet_ros/lib/patchdrivenet_ros/perception_node" ] \
  || die 'the perception_node executable was not installed'

echo "$HASH" > "$STAMP"
log "done: source $(basename "$WS")/env.sh to use the environment"
