/* plume version: the library's version and the module ABI it speaks. */
#include <stdio.h>
#include "commands.h"
#include "plume/stage.h"

int cmd_version(int argc, char **argv) {
    printf("plume %s (module ABI %d)\n", PLUME_VERSION_STRING, PLUME_ABI_VERSION);
    return 0;
}
