# Empty dependencies file for flashrun_core.
# This may be replaced when dependencies are built.
