/* The Vulkan instance and device: listing, choosing (PLUME_DEVICE), opening, validation
 * (PLUME_VALIDATE) and the profile table (PLUME_PROFILE). */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gpu_internal.h"
#include "gpu_shaders.h"
#include "plume/dist.h"

#define NO_DEVICE_HINT "install a Vulkan driver: on Debian `apt-get install mesa-vulkan-drivers` gives lavapipe, " \
                       "a CPU device that works everywhere"

static atomic_long validation_messages;

long plume_gpu_validation_count(void) { return atomic_load(&validation_messages); }

const char *gpu_vk_result(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    default: return "VkResult error";
    }
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                    VkDebugUtilsMessageTypeFlagsEXT types,
                                                    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types;
    (void)user;
    if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
    atomic_fetch_add(&validation_messages, 1);
    fprintf(stderr, "plume: vulkan validation %s: %s\n",
            severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
            data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

static int env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static int has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *p = calloc(n, sizeof *p);
    if (!p) return 0;
    int found = 0;
    if (vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++) found |= strcmp(p[i].layerName, name) == 0;
    free(p);
    return found;
}

static int has_instance_ext(const char *layer, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return 0;
    int found = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++) found |= strcmp(p[i].extensionName, name) == 0;
    free(p);
    return found;
}

/* Creates the instance; with validate, the Khronos layer, synchronization validation where
 * the layer offers VK_EXT_validation_features, and a messenger that counts messages. */
static int create_instance(int validate, VkInstance *out, VkDebugUtilsMessengerEXT *messenger, int *sync_on,
                           plume_error *err) {
    static const char layer[] = "VK_LAYER_KHRONOS_validation";
    const char *exts[3];
    uint32_t n_ext = 0;
    const char *layers[1] = {layer};
    int sync = 0;
    if (validate) {
        if (!has_layer(layer))
            return plume_fail(err, "PLUME_VALIDATE=1 but the Vulkan layer %s is not installed; hint: "
                              "`apt-get install vulkan-validationlayers`, or unset PLUME_VALIDATE", layer);
        if (!has_instance_ext(NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) &&
            !has_instance_ext(layer, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
            return plume_fail(err, "PLUME_VALIDATE=1 but %s is missing, so validation messages cannot be counted",
                              VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        exts[n_ext++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        if (has_instance_ext(layer, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
            exts[n_ext++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
            sync = 1;
        }
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "plume",
        .pEngineName = "plume",
        .apiVersion = VK_API_VERSION_1_2,
    };
    VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkDebugUtilsMessengerCreateInfoEXT mci = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = sync ? &features : NULL,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validate ? &mci : NULL,   /* also catches messages from create/destroy */
        .pApplicationInfo = &app,
        .enabledLayerCount = validate ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_ext,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&ci, NULL, out);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return plume_fail(err, "no Vulkan driver found (vkCreateInstance: %s); hint: %s", gpu_vk_result(r),
                          NO_DEVICE_HINT);
    if (r != VK_SUCCESS)
        return plume_fail(err, "vkCreateInstance failed: %s; hint: %s", gpu_vk_result(r), NO_DEVICE_HINT);
    *messenger = VK_NULL_HANDLE;
    if (sync_on) *sync_on = sync;
    if (validate) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(*out, "vkCreateDebugUtilsMessengerEXT");
        mci.pNext = NULL;
        if (!create || create(*out, &mci, NULL, messenger) != VK_SUCCESS) {
            vkDestroyInstance(*out, NULL);
            return plume_fail(err, "PLUME_VALIDATE=1: cannot create the debug messenger that counts messages");
        }
    }
    return 0;
}

static void destroy_instance(VkInstance inst, VkDebugUtilsMessengerEXT messenger) {
    if (messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(inst, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(inst, messenger, NULL);
    }
    vkDestroyInstance(inst, NULL);
}

static int compute_family(VkPhysicalDevice phys, uint32_t *family, uint32_t *ts_bits) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    if (n == 0 || n > 64) return -1;
    VkQueueFamilyProperties q[64];
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        /* A compute-only family first: on discrete GPUs it does not share with graphics. */
        if (best < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) best = (int)i;
    }
    if (best < 0) return -1;
    *family = (uint32_t)best;
    *ts_bits = q[best].timestampValidBits;
    return 0;
}

static void fill_info(VkPhysicalDevice phys, int index, plume_gpu_info *info) {
    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                 .pNext = &sub};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(phys, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;
    memset(info, 0, sizeof *info);
    info->index = index;
    snprintf(info->name, sizeof info->name, "%s", p->deviceName);
    switch (p->deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: info->kind = PLUME_GPU_KIND_DISCRETE; info->kind_name = "discrete"; break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: info->kind = PLUME_GPU_KIND_INTEGRATED; info->kind_name = "integrated"; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: info->kind = PLUME_GPU_KIND_VIRTUAL; info->kind_name = "virtual"; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: info->kind = PLUME_GPU_KIND_CPU; info->kind_name = "cpu"; break;
    default: info->kind = PLUME_GPU_KIND_OTHER; info->kind_name = "other"; break;
    }
    info->vendor_id = p->vendorID;
    info->device_id = p->deviceID;
    info->api_version = p->apiVersion;
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(phys, &mem);
    for (uint32_t i = 0; i < mem.memoryHeapCount; i++)
        if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) info->device_local_bytes += mem.memoryHeaps[i].size;
    info->subgroup_size = sub.subgroupSize;
    info->subgroup_ballot = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                            (sub.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT);
    info->subgroup_shuffle = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                             (sub.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
    info->max_storage_buffer_range = p->limits.maxStorageBufferRange;
    info->max_allocation_bytes = m3.maxMemoryAllocationSize;
    info->max_texel_buffer_elements = p->limits.maxTexelBufferElements;
    info->max_workgroup_invocations = p->limits.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) info->max_workgroup_count[i] = p->limits.maxComputeWorkGroupCount[i];
    info->max_shared_memory = p->limits.maxComputeSharedMemorySize;
    info->max_push_constants = p->limits.maxPushConstantsSize;
    uint32_t family = 0, ts_bits = 0;
    int has_queue = compute_family(phys, &family, &ts_bits) == 0;
    info->timestamp_period_ns = has_queue && ts_bits ? p->limits.timestampPeriod : 0.0f;
    /* What the shaders use: Vulkan 1.2 SPIR-V, subgroup arithmetic in compute, 128 bytes of
     * push constants, 64+ invocations per workgroup. */
    info->usable = has_queue && p->apiVersion >= VK_API_VERSION_1_2 &&
                   (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                   (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                   (sub.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) && p->limits.maxPushConstantsSize >= 128 &&
                   p->limits.maxComputeWorkGroupInvocations >= 64 && sub.subgroupSize >= 1;
}

static int enumerate(VkInstance inst, VkPhysicalDevice **out, uint32_t *n, plume_error *err) {
    *n = 0;
    VkResult r = vkEnumeratePhysicalDevices(inst, n, NULL);
    if (r != VK_SUCCESS) return plume_fail(err, "vkEnumeratePhysicalDevices failed: %s", gpu_vk_result(r));
    if (*n == 0) return plume_fail(err, "no Vulkan device found; hint: %s", NO_DEVICE_HINT);
    *out = calloc(*n, sizeof **out);
    if (!*out) return plume_fail(err, "out of memory listing Vulkan devices");
    r = vkEnumeratePhysicalDevices(inst, n, *out);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*out);
        return plume_fail(err, "vkEnumeratePhysicalDevices failed: %s", gpu_vk_result(r));
    }
    return 0;
}

int plume_gpu_list(plume_gpu_info *out, int max, plume_error *err) {
    VkInstance inst;
    VkDebugUtilsMessengerEXT messenger;
    if (create_instance(0, &inst, &messenger, NULL, err)) return -1;
    VkPhysicalDevice *devs;
    uint32_t n;
    if (enumerate(inst, &devs, &n, err)) {
        destroy_instance(inst, messenger);
        return -1;
    }
    for (uint32_t i = 0; i < n && (int)i < max; i++) fill_info(devs[i], (int)i, &out[i]);
    free(devs);
    destroy_instance(inst, messenger);
    return (int)n;
}

static int kind_rank(plume_gpu_kind k) {
    switch (k) {
    case PLUME_GPU_KIND_DISCRETE: return 0;
    case PLUME_GPU_KIND_INTEGRATED: return 1;
    case PLUME_GPU_KIND_VIRTUAL: return 2;
    case PLUME_GPU_KIND_CPU: return 3;
    default: return 4;
    }
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

/* Picks the device index from PLUME_DEVICE or by preference. */
static int choose(const plume_gpu_info *info, uint32_t n, plume_error *err) {
    const char *want = getenv("PLUME_DEVICE");
    if (want && *want) {
        char *end;
        long idx = strtol(want, &end, 10);
        int found = -1;
        if (*end == '\0') {
            if (idx < 0 || idx >= (long)n)
                return plume_fail(err, "PLUME_DEVICE=%s: no such device index (there are %u); hint: `plume devices` "
                                  "lists them", want, n);
            found = (int)idx;
        } else {
            for (uint32_t i = 0; i < n && found < 0; i++)
                if (contains_nocase(info[i].name, want)) found = (int)i;
            if (found < 0)
                return plume_fail(err, "PLUME_DEVICE=%s matches no device name; hint: `plume devices` lists them", want);
        }
        if (!info[found].usable)
            return plume_fail(err, "PLUME_DEVICE=%s picks '%s', which lacks what plume needs (Vulkan 1.2, a compute "
                              "queue, subgroup arithmetic); hint: pick another with `plume devices`", want,
                              info[found].name);
        return found;
    }
    int best = -1;
    for (uint32_t i = 0; i < n; i++)
        if (info[i].usable && (best < 0 || kind_rank(info[i].kind) < kind_rank(info[best].kind))) best = (int)i;
    if (best < 0)
        return plume_fail(err, "none of the %u Vulkan devices has what plume needs (Vulkan 1.2, a compute queue, "
                          "subgroup arithmetic); hint: %s", n, NO_DEVICE_HINT);
    /* Several MPI ranks on one machine with several devices of the best kind: rank k of the
     * machine takes the (k mod count)-th, so the ranks spread over the GPUs (one device: all
     * share it, as on lavapipe). */
    int peers = 0;
    for (uint32_t i = 0; i < n; i++) peers += info[i].usable && info[i].kind == info[best].kind;
    int want_k = peers > 1 ? plume_dist_local_rank() % peers : 0;
    for (uint32_t i = 0; i < n && want_k >= 0; i++)
        if (info[i].usable && info[i].kind == info[best].kind && want_k-- == 0) best = (int)i;
    return best;
}

static int open_device(plume_gpu *gpu, plume_error *err) {
    uint32_t ts_bits;
    if (compute_family(gpu->phys, &gpu->queue_family, &ts_bits))
        return plume_fail(err, "%s has no compute queue", gpu->info.name);
    float prio = 1.0f;
    VkDeviceQueueCreateInfo q = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = gpu->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &q,
    };
    VkResult r = vkCreateDevice(gpu->phys, &ci, NULL, &gpu->device);
    if (r != VK_SUCCESS) return plume_fail(err, "vkCreateDevice on '%s' failed: %s", gpu->info.name, gpu_vk_result(r));
    vkGetDeviceQueue(gpu->device, gpu->queue_family, 0, &gpu->queue);
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = gpu->queue_family,
    };
    if ((r = vkCreateCommandPool(gpu->device, &pci, NULL, &gpu->pool)) != VK_SUCCESS)
        return plume_fail(err, "vkCreateCommandPool failed: %s", gpu_vk_result(r));
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = gpu->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    if ((r = vkAllocateCommandBuffers(gpu->device, &ai, &gpu->oneshot)) != VK_SUCCESS)
        return plume_fail(err, "vkAllocateCommandBuffers failed: %s", gpu_vk_result(r));
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if ((r = vkCreateFence(gpu->device, &fci, NULL, &gpu->fence)) != VK_SUCCESS)
        return plume_fail(err, "vkCreateFence failed: %s", gpu_vk_result(r));
    return 0;
}

plume_gpu *plume_gpu_open(plume_error *err) {
    plume_gpu *gpu = calloc(1, sizeof *gpu);
    if (!gpu) {
        plume_fail(err, "out of memory opening the GPU");
        return NULL;
    }
    gpu->profile = env_flag("PLUME_PROFILE");
    gpu->validate = env_flag("PLUME_VALIDATE");
    if (create_instance(gpu->validate, &gpu->instance, &gpu->messenger, &gpu->sync_validation, err)) {
        free(gpu);
        return NULL;
    }
    VkPhysicalDevice *devs = NULL;
    plume_gpu_info *info = NULL;
    uint32_t n = 0;
    if (enumerate(gpu->instance, &devs, &n, err)) goto fail;
    info = calloc(n, sizeof *info);
    if (!info) {
        plume_fail(err, "out of memory listing Vulkan devices");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) fill_info(devs[i], (int)i, &info[i]);
    int pick = choose(info, n, err);
    if (pick < 0) goto fail;
    gpu->phys = devs[pick];
    gpu->info = info[pick];
    free(devs);
    free(info);
    devs = NULL;
    info = NULL;
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(gpu->phys, &props);
    gpu->storage_align = props.limits.minStorageBufferOffsetAlignment;
    gpu->texel_align = props.limits.minTexelBufferOffsetAlignment;
    gpu->driver_version = props.driverVersion;
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(gpu->cache_uuid + 2 * i, 3, "%02x", props.pipelineCacheUUID[i]);
    vkGetPhysicalDeviceMemoryProperties(gpu->phys, &gpu->mem);
    if (gpu->info.timestamp_period_ns == 0) gpu->profile = 0;
    if (open_device(gpu, err)) goto fail;
    if (!(gpu->staging = plume_gpu_buffer_create(gpu, 8u << 20, PLUME_GPU_BUFFER_HOST, err))) goto fail;
    if (!(gpu->dummy = plume_gpu_buffer_create(gpu, 16, PLUME_GPU_BUFFER_DEVICE, err))) goto fail;
    if (!(gpu->dummy_out = plume_gpu_buffer_create(gpu, 16, PLUME_GPU_BUFFER_DEVICE, err))) goto fail;
    if (!(gpu->done = plume_gpu_buffer_create(gpu, 16, PLUME_GPU_BUFFER_DEVICE, err)) ||
        plume_gpu_fill(gpu->done, 0, 16, 0, err))
        goto fail;
    return gpu;
fail:
    free(devs);
    free(info);
    plume_gpu_close(gpu);
    return NULL;
}

void plume_gpu_close(plume_gpu *gpu) {
    if (!gpu) return;
    if (gpu->device) vkDeviceWaitIdle(gpu->device);
    if (gpu->profile && gpu->n_prof) plume_gpu_profile_print(gpu, stderr);
    plume_gpu_buffer_free(gpu->staging);
    plume_gpu_buffer_free(gpu->dummy);
    plume_gpu_buffer_free(gpu->dummy_out);
    plume_gpu_buffer_free(gpu->done);
    for (plume_gpu_kernel *k = gpu->kernels, *next; k; k = next) {
        next = k->next;
        vkDestroyPipeline(gpu->device, k->pipeline, NULL);
        vkDestroyPipelineLayout(gpu->device, k->layout, NULL);
        vkDestroyDescriptorSetLayout(gpu->device, k->set_layout, NULL);
        free(k);
    }
    if (gpu->fence) vkDestroyFence(gpu->device, gpu->fence, NULL);
    if (gpu->pool) vkDestroyCommandPool(gpu->device, gpu->pool, NULL);
    if (gpu->device) vkDestroyDevice(gpu->device, NULL);
    if (gpu->instance) destroy_instance(gpu->instance, gpu->messenger);
    free(gpu);
}

const plume_gpu_info *plume_gpu_device_info(const plume_gpu *gpu) { return &gpu->info; }

void plume_gpu_set_part_limit(plume_gpu *gpu, uint64_t bytes) { gpu->part_limit = bytes; }
void plume_gpu_set_no_map(plume_gpu *gpu, int on) { gpu->no_map_device = on; }

void plume_gpu_mask_features(plume_gpu *gpu, int no_ballot, int no_shuffle) {
    if (no_ballot) gpu->info.subgroup_ballot = 0;
    if (no_shuffle) gpu->info.subgroup_shuffle = 0;
}

int plume_gpu_shader_declares(const char *name, uint32_t capability) {
    for (const plume_shader_blob *b = plume_shader_blobs; b->name; b++) {
        if (strcmp(b->name, name)) continue;
        /* after the 5-word header: instructions, word count in the high half, opcode low */
        for (size_t i = 5; i + 1 < b->size / 4;) {
            uint32_t words = b->code[i] >> 16, op = b->code[i] & 0xffffu;
            if (op == 17 && words == 2 && b->code[i + 1] == capability) return 1;   /* OpCapability */
            if (words == 0) break;
            i += words;
        }
        return 0;
    }
    return -1;
}
void plume_gpu_set_attention_chunk(plume_gpu *gpu, uint32_t positions) { gpu->attn_chunk = positions; }

int gpu_oneshot_begin(plume_gpu *gpu, plume_error *err) {
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkResult r = vkBeginCommandBuffer(gpu->oneshot, &bi);
    if (r != VK_SUCCESS) return plume_fail(err, "vkBeginCommandBuffer failed: %s", gpu_vk_result(r));
    return 0;
}

int gpu_oneshot_submit(plume_gpu *gpu, plume_error *err) {
    VkResult r = vkEndCommandBuffer(gpu->oneshot);
    if (r != VK_SUCCESS) return plume_fail(err, "vkEndCommandBuffer failed: %s", gpu_vk_result(r));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &gpu->oneshot,
    };
    if ((r = vkQueueSubmit(gpu->queue, 1, &si, gpu->fence)) != VK_SUCCESS)
        return plume_fail(err, "vkQueueSubmit failed: %s", gpu_vk_result(r));
    r = vkWaitForFences(gpu->device, 1, &gpu->fence, VK_TRUE, UINT64_MAX);
    vkResetFences(gpu->device, 1, &gpu->fence);
    if (r != VK_SUCCESS) return plume_fail(err, "waiting for the GPU failed: %s", gpu_vk_result(r));
    return 0;
}

int plume_gpu_profiling(const plume_gpu *gpu) { return gpu->profile; }

void gpu_profile_add(plume_gpu *gpu, const char *name, double ns) {
    for (int i = 0; i < gpu->n_prof; i++)
        if (!strcmp(gpu->prof[i].name, name)) {
            gpu->prof[i].ns += ns;
            gpu->prof[i].count++;
            return;
        }
    if (gpu->n_prof == GPU_PROFILE_MAX) return;
    gpu_profile_entry *e = &gpu->prof[gpu->n_prof++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ns = ns;
    e->count = 1;
}

void plume_gpu_profile_print(plume_gpu *gpu, FILE *f) {
    double total = 0;
    for (int i = 0; i < gpu->n_prof; i++) total += gpu->prof[i].ns;
    fprintf(f, "plume profile (%s): %.3f ms in kernels\n", gpu->info.name, total / 1e6);
    fprintf(f, "  %-24s %10s %8s %10s %6s\n", "kernel", "total ms", "calls", "mean us", "share");
    for (int i = 0; i < gpu->n_prof; i++) {
        const gpu_profile_entry *e = &gpu->prof[i];
        fprintf(f, "  %-24s %10.3f %8llu %10.1f %5.1f%%\n", e->name, e->ns / 1e6, (unsigned long long)e->count,
                e->ns / 1e3 / (double)e->count, total > 0 ? 100.0 * e->ns / total : 0.0);
    }
    gpu->n_prof = 0;
}
