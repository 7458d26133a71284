file(REMOVE_RECURSE
  "libflashrun_core.a"
)
