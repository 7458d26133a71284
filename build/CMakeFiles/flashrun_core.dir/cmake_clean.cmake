file(REMOVE_RECURSE
  "CMakeFiles/flashrun_core.dir/drivers/gtid.c.o"
  "CMakeFiles/flashrun_core.dir/drivers/gtid.c.o.d"
  "CMakeFiles/flashrun_core.dir/drivers/sql.c.o"
  "CMakeFiles/flashrun_core.dir/drivers/sql.c.o.d"
  "CMakeFiles/flashrun_core.dir/drivers/ssh.c.o"
  "CMakeFiles/flashrun_core.dir/drivers/ssh.c.o.d"
  "CMakeFiles/flashrun_core.dir/runtime/config.c.o"
  "CMakeFiles/flashrun_core.dir/runtime/config.c.o.d"
  "CMakeFiles/flashrun_core.dir/runtime/log.c.o"
  "CMakeFiles/flashrun_core.dir/runtime/log.c.o.d"
  "CMakeFiles/flashrun_core.dir/runtime/redo.c.o"
  "CMakeFiles/flashrun_core.dir/runtime/redo.c.o.d"
  "CMakeFiles/flashrun_core.dir/runtime/sched.c.o"
  "CMakeFiles/flashrun_core.dir/runtime/sched.c.o.d"
  "libflashrun_core.a"
  "libflashrun_core.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/flashrun_core.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
