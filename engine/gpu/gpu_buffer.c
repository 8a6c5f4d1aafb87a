/* Buffers: device-local for weights and activations, host-visible for staging, and
 * synchronous upload/download/fill. On unified-memory devices (lavapipe, integrated GPUs)
 * device-local memory is also host-visible, so uploads are a memcpy. */
#include <stdlib.h>
#include <string.h>
#include "gpu_internal.h"

static int find_memory(const plume_gpu *gpu, uint32_t type_bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < gpu->mem.memoryTypeCount; i++)
        if ((type_bits & (1u << i)) && (gpu->mem.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    return -1;
}

plume_gpu_buffer *plume_gpu_buffer_create(plume_gpu *gpu, uint64_t bytes, unsigned flags, plume_error *err) {
    if (bytes == 0) bytes = 16;  /* Vulkan forbids empty buffers; a 0-row batch still binds something */
    if (bytes > gpu->info.max_allocation_bytes) {
        plume_fail(err, "a GPU buffer of %llu bytes exceeds this device's maxMemoryAllocationSize (%llu bytes on '%s'); "
                   "hint: use a smaller model or context, or a quantized (Q8_0) model",
                   (unsigned long long)bytes, (unsigned long long)gpu->info.max_allocation_bytes, gpu->info.name);
        return NULL;
    }
    plume_gpu_buffer *buf = calloc(1, sizeof *buf);
    if (!buf) {
        plume_fail(err, "out of memory");
        return NULL;
    }
    buf->gpu = gpu;
    buf->bytes = bytes;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(gpu->device, &bci, NULL, &buf->buffer);
    if (r != VK_SUCCESS) {
        plume_fail(err, "vkCreateBuffer(%llu bytes) failed: %s", (unsigned long long)bytes, gpu_vk_result(r));
        free(buf);
        return NULL;
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(gpu->device, buf->buffer, &req);
    const VkMemoryPropertyFlags dl = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = -1;
    if (flags & PLUME_GPU_BUFFER_HOST) {
        type = find_memory(gpu, req.memoryTypeBits, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        if (type < 0) type = find_memory(gpu, req.memoryTypeBits, hv);
    } else {
        /* Unified memory: take device-local memory that the host can also map. On a discrete
         * GPU the host-visible device-local window (BAR) is small; keep plain VRAM there. */
        if (gpu->info.kind != PLUME_GPU_KIND_DISCRETE) type = find_memory(gpu, req.memoryTypeBits, dl | hv);
        if (type < 0) type = find_memory(gpu, req.memoryTypeBits, dl);
        if (type < 0) type = find_memory(gpu, req.memoryTypeBits, 0);
    }
    if (type < 0) {
        plume_fail(err, "no Vulkan memory type on '%s' fits a %s buffer", gpu->info.name,
                   flags & PLUME_GPU_BUFFER_HOST ? "host-visible" : "device");
        plume_gpu_buffer_free(buf);
        return NULL;
    }
    /* Count the allocation against its heap first: a request past the heap is refused with a
     * clear error rather than left to the driver (which may overcommit, swap or hang). */
    uint32_t heap = gpu->mem.memoryTypes[type].heapIndex;
    uint64_t size = gpu->mem.memoryHeaps[heap].size;
    uint64_t used = atomic_fetch_add(&gpu->heap_used[heap], req.size) + req.size;
    buf->heap = heap;
    buf->allocated = req.size;
    if (used > size) {
        plume_fail(err, "out of device memory on '%s': %llu more bytes would make %llu of its %llu-byte memory heap "
                   "%u; hint: a smaller or quantized (Q8_0) model, a shorter context or a smaller batch needs less",
                   gpu->info.name, (unsigned long long)req.size, (unsigned long long)used, (unsigned long long)size,
                   heap);
        plume_gpu_buffer_free(buf);
        return NULL;
    }
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    if ((r = vkAllocateMemory(gpu->device, &mai, NULL, &buf->memory)) != VK_SUCCESS) {
        plume_fail(err, "allocating %llu bytes of GPU memory on '%s' failed: %s; hint: a smaller model, context or "
                   "batch needs less", (unsigned long long)req.size, gpu->info.name, gpu_vk_result(r));
        plume_gpu_buffer_free(buf);
        return NULL;
    }
    if ((r = vkBindBufferMemory(gpu->device, buf->buffer, buf->memory, 0)) != VK_SUCCESS) {
        plume_fail(err, "vkBindBufferMemory failed: %s", gpu_vk_result(r));
        plume_gpu_buffer_free(buf);
        return NULL;
    }
    int map = (flags & PLUME_GPU_BUFFER_HOST) || !gpu->no_map_device;
    if (map && (gpu->mem.memoryTypes[type].propertyFlags & hv) == hv) {
        if ((r = vkMapMemory(gpu->device, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->mapped)) != VK_SUCCESS) {
            plume_fail(err, "vkMapMemory failed: %s", gpu_vk_result(r));
            plume_gpu_buffer_free(buf);
            return NULL;
        }
    }
    return buf;
}

void plume_gpu_buffer_free(plume_gpu_buffer *buf) {
    if (!buf) return;
    VkDevice d = buf->gpu->device;
    if (buf->mapped) vkUnmapMemory(d, buf->memory);
    if (buf->buffer) vkDestroyBuffer(d, buf->buffer, NULL);
    if (buf->memory) vkFreeMemory(d, buf->memory, NULL);
    if (buf->allocated) atomic_fetch_sub(&buf->gpu->heap_used[buf->heap], buf->allocated);
    free(buf);
}

uint64_t plume_gpu_buffer_bytes(const plume_gpu_buffer *buf) { return buf->bytes; }
void *plume_gpu_buffer_map(plume_gpu_buffer *buf) { return buf->mapped; }

static int check_range(const plume_gpu_buffer *buf, uint64_t offset, uint64_t bytes, const char *what, plume_error *err) {
    if (offset > buf->bytes || bytes > buf->bytes - offset)
        return plume_fail(err, "GPU %s of %llu bytes at offset %llu runs past the end of a %llu-byte buffer", what,
                          (unsigned long long)bytes, (unsigned long long)offset, (unsigned long long)buf->bytes);
    return 0;
}

/* Copies through the staging buffer in chunks: dir 0 host->buf, 1 buf->host. */
static int staged(plume_gpu_buffer *buf, uint64_t offset, void *host, uint64_t bytes, int dir, plume_error *err) {
    plume_gpu *gpu = buf->gpu;
    uint64_t chunk = gpu->staging->bytes;
    for (uint64_t done = 0; done < bytes; done += chunk) {
        uint64_t n = bytes - done < chunk ? bytes - done : chunk;
        if (dir == 0) memcpy(gpu->staging->mapped, (char *)host + done, n);
        if (gpu_oneshot_begin(gpu, err)) return -1;
        VkBufferCopy c = {.srcOffset = dir ? offset + done : 0, .dstOffset = dir ? 0 : offset + done, .size = n};
        if (dir == 0) vkCmdCopyBuffer(gpu->oneshot, gpu->staging->buffer, buf->buffer, 1, &c);
        else vkCmdCopyBuffer(gpu->oneshot, buf->buffer, gpu->staging->buffer, 1, &c);
        if (gpu_oneshot_submit(gpu, err)) return -1;
        if (dir == 1) memcpy((char *)host + done, gpu->staging->mapped, n);
    }
    return 0;
}

int plume_gpu_upload(plume_gpu_buffer *dst, uint64_t offset, const void *src, uint64_t bytes, plume_error *err) {
    if (check_range(dst, offset, bytes, "upload", err)) return -1;
    if (bytes == 0) return 0;
    if (dst->mapped) {
        memcpy((char *)dst->mapped + offset, src, bytes);
        return 0;
    }
    return staged(dst, offset, (void *)src, bytes, 0, err);
}

int plume_gpu_download(plume_gpu_buffer *src, uint64_t offset, void *dst, uint64_t bytes, plume_error *err) {
    if (check_range(src, offset, bytes, "download", err)) return -1;
    if (bytes == 0) return 0;
    if (src->mapped) {
        memcpy(dst, (char *)src->mapped + offset, bytes);
        return 0;
    }
    return staged(src, offset, dst, bytes, 1, err);
}

int plume_gpu_fill(plume_gpu_buffer *dst, uint64_t offset, uint64_t bytes, uint32_t value, plume_error *err) {
    if (check_range(dst, offset, bytes, "fill", err)) return -1;
    if ((offset | bytes) % 4) return plume_fail(err, "GPU fill offset and size must be multiples of 4");
    if (bytes == 0) return 0;
    if (dst->mapped) {
        uint32_t *p = (uint32_t *)((char *)dst->mapped + offset);
        for (uint64_t i = 0; i < bytes / 4; i++) p[i] = value;
        return 0;
    }
    plume_gpu *gpu = dst->gpu;
    if (gpu_oneshot_begin(gpu, err)) return -1;
    vkCmdFillBuffer(gpu->oneshot, dst->buffer, offset, bytes, value);
    return gpu_oneshot_submit(gpu, err);
}
