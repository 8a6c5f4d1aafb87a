/* The device layer's private structures, shared by the files of engine/gpu/. */
#ifndef PLUME_GPU_INTERNAL_H
#define PLUME_GPU_INTERNAL_H

#include <stdatomic.h>
#include <vulkan/vulkan.h>
#include "plume/gpu.h"

#define GPU_PROFILE_MAX 64      /* distinct kernel names in the profile table */

typedef struct gpu_profile_entry {
    char name[64];
    double ns;
    uint64_t count;
} gpu_profile_entry;

#define GPU_TUNE_MAX 32          /* tuned kernel classes per device */

/* A matmul kernel variant (specialization constants of shaders/matmul.comp). */
typedef struct plume_gpu_mm_shape {
    uint32_t wg;                        /* invocations per workgroup */
    uint32_t tr;                        /* rows per invocation */
    uint32_t xshare;                    /* 1: x shared through subgroup shuffles (subgroups of 8) */
} plume_gpu_mm_shape;

typedef struct gpu_tune_entry {
    char key[40];                       /* "matmul.q8_0.n1", "swiglu.f16.n8" */
    plume_gpu_mm_shape shape;           /* the chosen one */
} gpu_tune_entry;

#define GPU_MAX_BINDINGS 24   /* a kernel's bindings at most (matmul takes 17) */

struct plume_gpu_kernel {
    struct plume_gpu_kernel *next;      /* the gpu's cache list */
    char name[64];
    char label[64];                     /* the profile's name for it: name, or name.variant */
    char bindings[GPU_MAX_BINDINGS + 1];
    uint32_t push_bytes;
    uint32_t spec[16];
    int n_spec;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
};

struct plume_gpu_buffer {
    plume_gpu *gpu;
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint64_t bytes;
    void *mapped;                       /* NULL unless host-visible */
    uint32_t heap;                      /* the memory heap it was allocated from */
    uint64_t allocated;                 /* bytes counted against that heap (0: none yet) */
};

struct plume_gpu {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    plume_gpu_info info;
    VkPhysicalDeviceMemoryProperties mem;
    /* Bytes this process holds per heap. Drivers may let allocations exceed a heap (lavapipe's
     * is host memory, so it would swap instead of failing): plume refuses past the heap size. */
    _Atomic uint64_t heap_used[VK_MAX_MEMORY_HEAPS];
    uint64_t storage_align, texel_align;
    VkCommandPool pool;
    VkCommandBuffer oneshot;            /* uploads, downloads, fills */
    VkFence fence;
    plume_gpu_buffer *staging;          /* host-visible, for uploads/downloads */
    plume_gpu_buffer *dummy;            /* a 16-byte buffer bound where a kernel ignores an input */
    plume_gpu_buffer *dummy_out;        /* likewise for an output it never writes (never read) */
    plume_gpu_buffer *done;             /* matmul's count of finished invocations (NORM); 0 between dispatches */
    plume_gpu_kernel *kernels;
    uint64_t part_limit;                /* weight split size; tests lower it to exercise splitting */
    int no_map_device;                  /* tests: leave device buffers unmapped (staged copies) */
    uint32_t attn_chunk;                /* decode attention's positions per split (0: chosen per device) */
    int profile;
    int validate, sync_validation;      /* PLUME_VALIDATE=1; synchronization validation on */
    gpu_profile_entry prof[GPU_PROFILE_MAX];
    int n_prof;
    uint32_t driver_version;            /* the autotune's cache key, with cache_uuid */
    char cache_uuid[2 * VK_UUID_SIZE + 1];
    gpu_tune_entry tune[GPU_TUNE_MAX];  /* gpu_tune.c: shapes chosen so far */
    int n_tune, tune_loaded, tune_runs;
    plume_gpu_mm_shape force;           /* a matmul shape forced by tests and by the timing (wg 0: none) */
};

/* One-shot command buffer: begin, record, then submit and wait. */
int gpu_oneshot_begin(plume_gpu *gpu, plume_error *err);
int gpu_oneshot_submit(plume_gpu *gpu, plume_error *err);
/* A device buffer owned by the recording (freed with it): the partial results an op
 * passes between two of its dispatches, e.g. split attention's softmax states. */
plume_gpu_buffer *gpu_rec_scratch(plume_gpu_rec *rec, uint64_t bytes, plume_error *err);
/* The matmul shape for this weight type, number of tokens and kind (plain or SwiGLU), for
 * a matrix of `weights` values: forced, cached, or timed now on first use (gpu_tune.c).
 * Never fails: the default stands in for anything that goes wrong. */
plume_gpu_mm_shape gpu_matmul_shape(plume_gpu *gpu, plume_gpu_type type, uint64_t weights, uint32_t n_tokens,
                                    int swiglu);
void gpu_profile_add(plume_gpu *gpu, const char *name, double ns);
const char *gpu_vk_result(VkResult r);

/* Tests only: split weights into parts of at most this many bytes (0 = device limits). */
void plume_gpu_set_part_limit(plume_gpu *gpu, uint64_t bytes);
/* Tests only: device buffers created after this are not mapped even where the memory is
 * host-visible, so uploads and downloads take the staging path a discrete GPU needs. */
void plume_gpu_set_no_map(plume_gpu *gpu, int on);
/* Tests only: behave as a device without subgroup ballot / shuffle (the plain shader
 * modules and paths), whatever this one offers. */
void plume_gpu_mask_features(plume_gpu *gpu, int no_ballot, int no_shuffle);
/* Tests only: 1 when the embedded SPIR-V module NAME declares OpCapability CAPABILITY, 0 when
 * it does not, -1 when there is no such module. */
int plume_gpu_shader_declares(const char *name, uint32_t capability);
/* Tests and benchmarks: decode attention splits the context into chunks of this many
 * positions, merged by a second pass (0: the device's choice). */
void plume_gpu_set_attention_chunk(plume_gpu *gpu, uint32_t positions);
/* Tests: the matmul shapes the autotune chooses among for this weight type and token tile
 * (the default first): fills up to max entries of out, returns how many. */
int plume_gpu_matmul_variants(const plume_gpu *gpu, plume_gpu_type type, uint32_t tb,
                                        plume_gpu_mm_shape *out, int max);
/* Tests: every matmul takes this shape (NULL: the tuned or default one again). */
void plume_gpu_set_matmul_shape(plume_gpu *gpu, const plume_gpu_mm_shape *shape);
/* Tests: the autotune's cache file for this gpu (its folder from the environment); -1 when
 * there is no folder to keep it in. */
int plume_gpu_tune_file(const plume_gpu *gpu, char *buf, size_t size);
/* Tests: how many kernel classes this gpu has timed (not found in the cache). */
int plume_gpu_tune_runs(const plume_gpu *gpu);

#endif
