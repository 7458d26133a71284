CMakeFiles/flashrun.dir/runtime/main.c.o: /work/main/runtime/main.c \
 /usr/include/stdc-predef.h
