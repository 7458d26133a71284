#!/bin/sh
# with-env.sh FILE COMMAND...: run COMMAND with the variables of FILE (shell syntax) exported.
# CMake's ENVIRONMENT cannot carry values holding ';', which the layout's passwords do.
set -a
. "$1"
set +a
shift
exec "$@"
