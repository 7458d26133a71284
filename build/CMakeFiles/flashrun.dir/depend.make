# Empty dependencies file for flashrun.
# This may be replaced when dependencies are built.
