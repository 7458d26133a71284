
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/drivers/gtid.c" "CMakeFiles/flashrun_core.dir/drivers/gtid.c.o" "gcc" "CMakeFiles/flashrun_core.dir/drivers/gtid.c.o.d"
  "/work/main/drivers/sql.c" "CMakeFiles/flashrun_core.dir/drivers/sql.c.o" "gcc" "CMakeFiles/flashrun_core.dir/drivers/sql.c.o.d"
  "/work/main/drivers/ssh.c" "CMakeFiles/flashrun_core.dir/drivers/ssh.c.o" "gcc" "CMakeFiles/flashrun_core.dir/drivers/ssh.c.o.d"
  "/work/main/runtime/config.c" "CMakeFiles/flashrun_core.dir/runtime/config.c.o" "gcc" "CMakeFiles/flashrun_core.dir/runtime/config.c.o.d"
  "/work/main/runtime/log.c" "CMakeFiles/flashrun_core.dir/runtime/log.c.o" "gcc" "CMakeFiles/flashrun_core.dir/runtime/log.c.o.d"
  "/work/main/runtime/redo.c" "CMakeFiles/flashrun_core.dir/runtime/redo.c.o" "gcc" "CMakeFiles/flashrun_core.dir/runtime/redo.c.o.d"
  "/work/main/runtime/sched.c" "CMakeFiles/flashrun_core.dir/runtime/sched.c.o" "gcc" "CMakeFiles/flashrun_core.dir/runtime/sched.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
