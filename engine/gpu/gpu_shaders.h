/* The SPIR-V of every shader in shaders/, embedded at build time (see shaders/CMakeLists.txt). */
#ifndef PLUME_GPU_SHADERS_H
#define PLUME_GPU_SHADERS_H
#include <stddef.h>
#include <stdint.h>

typedef struct plume_shader_blob {
    const char *name;       /* the .comp file's stem */
    const uint32_t *code;
    size_t size;            /* bytes */
} plume_shader_blob;

extern const plume_shader_blob plume_shader_blobs[];  /* ends with a {NULL} row */

#endif
