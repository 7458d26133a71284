file(REMOVE_RECURSE
  "CMakeFiles/flashrun.dir/runtime/main.c.o"
  "CMakeFiles/flashrun.dir/runtime/main.c.o.d"
  "flashrun"
  "flashrun.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/flashrun.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
