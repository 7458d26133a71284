# Debian packages with CPack (scripts/package builds them): the binary, stdlib/ and plans/ in
# /usr/share/flashrun, a man page that help2man makes from the host build's --help, and bash
# completion of plans, options and --set keys. Dependencies come from the shared libraries the
# binary actually links (dpkg-shlibdeps), so a build against Oracle's libmysqlclient depends on
# libmysqlclient24 and one against MariaDB Connector/C on libmariadb3.

# A cross build cannot run its own binary: it packages the man page and completion of a native
# build of the same tree.
set(FLASHRUN_HOST_DOCS_DIR "" CACHE PATH
    "native build directory whose flashrun.1.gz and flashrun.bash-completion a cross build packages")

set(_man ${CMAKE_CURRENT_BINARY_DIR}/flashrun.1.gz)
set(_completion ${CMAKE_CURRENT_BINARY_DIR}/flashrun.bash-completion)
if(CMAKE_CROSSCOMPILING)
  if(FLASHRUN_HOST_DOCS_DIR)
    set(_man ${FLASHRUN_HOST_DOCS_DIR}/flashrun.1.gz)
    set(_completion ${FLASHRUN_HOST_DOCS_DIR}/flashrun.bash-completion)
    set(_docs ON)
  else()
    message(STATUS "flashrun: cross build without FLASHRUN_HOST_DOCS_DIR: no man page or completion")
    set(_docs OFF)
  endif()
else()
  find_program(HELP2MAN help2man)
  find_program(LUA_INTERPRETER NAMES lua5.4 lua)
  if(HELP2MAN AND LUA_INTERPRETER)
    set(_docs ON)
    add_custom_command(OUTPUT ${_man}
      COMMAND ${HELP2MAN} --no-info --section 1 --name "run flashback drills on GreatDB DR pairs"
              --include ${PROJECT_SOURCE_DIR}/cmake/flashrun.h2m
              --output ${CMAKE_CURRENT_BINARY_DIR}/flashrun.1 $<TARGET_FILE:flashrun>
      COMMAND gzip -9nf ${CMAKE_CURRENT_BINARY_DIR}/flashrun.1
      DEPENDS flashrun ${PROJECT_SOURCE_DIR}/cmake/flashrun.h2m
      COMMENT "man page from flashrun --help")
    # every stdlib file, in its subdirectories too (stdlib/flashrun/, stdlib/checks/)
    file(GLOB_RECURSE _completion_inputs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/stdlib/*.lua
         ${PROJECT_SOURCE_DIR}/cmake/schema-keys.lua)
    add_custom_command(OUTPUT ${_completion}
      COMMAND ${LUA_INTERPRETER} ${PROJECT_SOURCE_DIR}/cmake/completion.lua ${PROJECT_SOURCE_DIR}
              $<TARGET_FILE:flashrun> ${FLASHRUN_DATADIR}/plans ${_completion}
      DEPENDS flashrun ${PROJECT_SOURCE_DIR}/cmake/completion.lua ${PROJECT_SOURCE_DIR}/runtime/config.c
              ${_completion_inputs}
      COMMENT "bash completion from flashrun --help and the configuration keys")
    add_custom_target(flashrun-docs ALL DEPENDS ${_man} ${_completion})
  else()
    message(STATUS "flashrun: no help2man or lua5.4: no man page or completion (scripts/install-deps)")
    set(_docs OFF)
  endif()
endif()
if(_docs)
  install(FILES ${_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES ${_completion} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME flashrun)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME flashrun)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "flashrun maintainers <maintainers@users.noreply.h-seed-19ef208d.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "flashback drills for GreatDB disaster-recovery pairs")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "flashback drills for GreatDB disaster-recovery pairs
 flashrun takes a restore point of a GreatDB standby cluster, opens it read-write for a
 disaster-recovery drill, then puts the standby back as it was, replicating from production.
 Plans (verify, start, stop) are Lua files in /usr/share/flashrun/plans.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "man-db")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
set(CPACK_STRIP_FILES ON)
# (a cross build names its architecture: -DCPACK_DEBIAN_PACKAGE_ARCHITECTURE=arm64)
# A build with a test-only option on is refused at packaging time.
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_BINARY_DIR}/CPackProjectConfig.cmake)
file(WRITE ${CPACK_PROJECT_CONFIG_FILE}
  "set(FLASHRUN_TEST_OPTIONS \"${FLASHRUN_TEST_OPTIONS}\")\n"
  "if(FLASHRUN_TEST_OPTIONS)\n"
  "  message(FATAL_ERROR \"this build has test-only options on (${FLASHRUN_TEST_OPTIONS}): "
  "packages are built with them off (scripts/package)\")\n"
  "endif()\n")
include(CPack)
