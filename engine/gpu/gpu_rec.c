/* Recordings: a command buffer holding a sequence of dispatches with barriers, submitted
 * once and re-submittable (a decode step recorded once and replayed per token). With
 * PLUME_PROFILE=1 every dispatch is bracketed by timestamps, read after each submit. */
#include <stdlib.h>
#include <string.h>
#include "gpu_internal.h"

#define REC_SETS_PER_POOL 128
#define REC_MAX_QUERIES 4096

struct plume_gpu_rec {
    plume_gpu *gpu;
    VkCommandBuffer cmd;
    int ended;
    int failed;
    plume_error first_error;
    VkDescriptorPool *pools;
    int n_pools, cap_pools;
    uint32_t sets_in_pool;
    VkBufferView *views;
    int n_views, cap_views;
    VkQueryPool queries;
    uint32_t n_queries;
    const char **timed;                 /* kernel name of each timed dispatch */
    plume_gpu_buffer **scratch;         /* buffers an op needs between its dispatches */
    int n_scratch, cap_scratch;
};

static int rec_fail(plume_gpu_rec *rec, plume_error *err, const char *msg) {
    if (!rec->failed) {
        rec->failed = 1;
        plume_fail(&rec->first_error, "%s", msg);
    }
    return plume_fail(err, "%s", msg);
}

plume_gpu *plume_gpu_rec_gpu(plume_gpu_rec *rec) { return rec->gpu; }

static void full_barrier(VkCommandBuffer cmd, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = dst_access,
    };
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, dst_stage, 0, 1,
                         &mb, 0, NULL, 0, NULL);
}

static const VkAccessFlags any_device_access = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                               VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;

plume_gpu_rec *plume_gpu_rec_begin(plume_gpu *gpu, plume_error *err) {
    plume_gpu_rec *rec = calloc(1, sizeof *rec);
    if (!rec) {
        plume_fail(err, "out of memory");
        return NULL;
    }
    rec->gpu = gpu;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = gpu->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkResult r = vkAllocateCommandBuffers(gpu->device, &ai, &rec->cmd);
    if (r != VK_SUCCESS) {
        plume_fail(err, "vkAllocateCommandBuffers failed: %s", gpu_vk_result(r));
        free(rec);
        return NULL;
    }
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    if ((r = vkBeginCommandBuffer(rec->cmd, &bi)) != VK_SUCCESS) {
        plume_fail(err, "vkBeginCommandBuffer failed: %s", gpu_vk_result(r));
        plume_gpu_rec_free(rec);
        return NULL;
    }
    if (gpu->profile) {
        VkQueryPoolCreateInfo qci = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = REC_MAX_QUERIES,
        };
        rec->timed = calloc(REC_MAX_QUERIES / 2, sizeof *rec->timed);
        if (!rec->timed || vkCreateQueryPool(gpu->device, &qci, NULL, &rec->queries) != VK_SUCCESS) {
            plume_fail(err, "PLUME_PROFILE=1: cannot create a timestamp query pool");
            plume_gpu_rec_free(rec);
            return NULL;
        }
        vkCmdResetQueryPool(rec->cmd, rec->queries, 0, REC_MAX_QUERIES);
    }
    /* Work of an earlier submit (possibly of this same command buffer) is complete; this
     * barrier orders it against what follows for the device's caches, too. */
    full_barrier(rec->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, any_device_access);
    return rec;
}

static VkDescriptorSet alloc_set(plume_gpu_rec *rec, plume_gpu_kernel *k, plume_error *err) {
    plume_gpu *gpu = rec->gpu;
    if (rec->n_pools == 0 || rec->sets_in_pool == REC_SETS_PER_POOL) {
        if (rec->n_pools == rec->cap_pools) {
            int cap = rec->cap_pools ? rec->cap_pools * 2 : 4;
            VkDescriptorPool *p = realloc(rec->pools, (size_t)cap * sizeof *p);
            if (!p) {
                rec_fail(rec, err, "out of memory for descriptor pools");
                return VK_NULL_HANDLE;
            }
            rec->pools = p;
            rec->cap_pools = cap;
        }
        VkDescriptorPoolSize sizes[2] = {
            {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, REC_SETS_PER_POOL * 16},
            {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, REC_SETS_PER_POOL * 12},
        };
        VkDescriptorPoolCreateInfo pci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
            .maxSets = REC_SETS_PER_POOL,
            .poolSizeCount = 2,
            .pPoolSizes = sizes,
        };
        if (vkCreateDescriptorPool(gpu->device, &pci, NULL, &rec->pools[rec->n_pools]) != VK_SUCCESS) {
            rec_fail(rec, err, "vkCreateDescriptorPool failed");
            return VK_NULL_HANDLE;
        }
        rec->n_pools++;
        rec->sets_in_pool = 0;
    }
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = rec->pools[rec->n_pools - 1],
        .descriptorSetCount = 1,
        .pSetLayouts = &k->set_layout,
    };
    VkDescriptorSet set;
    VkResult r = vkAllocateDescriptorSets(gpu->device, &ai, &set);
    if (r != VK_SUCCESS) {
        rec_fail(rec, err, "vkAllocateDescriptorSets failed");
        return VK_NULL_HANDLE;
    }
    rec->sets_in_pool++;
    return set;
}

static int add_view(plume_gpu_rec *rec, VkBufferView v, plume_error *err) {
    if (rec->n_views == rec->cap_views) {
        int cap = rec->cap_views ? rec->cap_views * 2 : 16;
        VkBufferView *p = realloc(rec->views, (size_t)cap * sizeof *p);
        if (!p) return rec_fail(rec, err, "out of memory for buffer views");
        rec->views = p;
        rec->cap_views = cap;
    }
    rec->views[rec->n_views++] = v;
    return 0;
}

plume_gpu_buffer *gpu_rec_scratch(plume_gpu_rec *rec, uint64_t bytes, plume_error *err) {
    if (rec->ended) {
        rec_fail(rec, err, "a scratch buffer requested after plume_gpu_rec_end");
        return NULL;
    }
    if (rec->n_scratch == rec->cap_scratch) {
        int cap = rec->cap_scratch ? rec->cap_scratch * 2 : 8;
        plume_gpu_buffer **p = realloc(rec->scratch, (size_t)cap * sizeof *p);
        if (!p) {
            rec_fail(rec, err, "out of memory for scratch buffers");
            return NULL;
        }
        rec->scratch = p;
        rec->cap_scratch = cap;
    }
    plume_error e = {{0}};
    plume_gpu_buffer *b = plume_gpu_buffer_create(rec->gpu, bytes, PLUME_GPU_BUFFER_DEVICE, &e);
    if (!b) {
        rec_fail(rec, err, e.msg);
        return NULL;
    }
    rec->scratch[rec->n_scratch++] = b;
    return b;
}

int plume_gpu_rec_dispatch(plume_gpu_rec *rec, plume_gpu_kernel *k, const plume_gpu_binding *b, int n_bindings,
                           const void *push, uint32_t gx, uint32_t gy, uint32_t gz, plume_error *err) {
    plume_gpu *gpu = rec->gpu;
    char msg[PLUME_ERROR_MAX];
    if (rec->ended) return rec_fail(rec, err, "plume_gpu_rec_dispatch after plume_gpu_rec_end");
    int nb = (int)strlen(k->bindings);
    if (n_bindings != nb) {
        snprintf(msg, sizeof msg, "kernel '%s' takes %d bindings, got %d", k->name, nb, n_bindings);
        return rec_fail(rec, err, msg);
    }
    const uint32_t *maxg = gpu->info.max_workgroup_count;
    if (gx > maxg[0] || gy > maxg[1] || gz > maxg[2]) {
        snprintf(msg, sizeof msg, "kernel '%s': %u x %u x %u workgroups exceed the device's maxComputeWorkGroupCount "
                 "(%u x %u x %u)", k->name, gx, gy, gz, maxg[0], maxg[1], maxg[2]);
        return rec_fail(rec, err, msg);
    }
    if (gx == 0 || gy == 0 || gz == 0) return 0;   /* nothing to do (an empty batch) */
    VkDescriptorSet set = alloc_set(rec, k, err);
    if (!set) return -1;
    VkWriteDescriptorSet w[GPU_MAX_BINDINGS];
    VkDescriptorBufferInfo bi[GPU_MAX_BINDINGS];
    VkBufferView views[GPU_MAX_BINDINGS];
    for (int i = 0; i < nb; i++) {
        const plume_gpu_binding *x = &b[i];
        if (!x->buffer) {
            snprintf(msg, sizeof msg, "kernel '%s': binding %d has no buffer", k->name, i);
            return rec_fail(rec, err, msg);
        }
        uint64_t bytes = x->bytes ? x->bytes : x->buffer->bytes - (x->offset < x->buffer->bytes ? x->offset : 0);
        if (x->offset > x->buffer->bytes || bytes > x->buffer->bytes - x->offset) {
            snprintf(msg, sizeof msg, "kernel '%s': binding %d (offset %llu, %llu bytes) runs past its %llu-byte buffer",
                     k->name, i, (unsigned long long)x->offset, (unsigned long long)bytes,
                     (unsigned long long)x->buffer->bytes);
            return rec_fail(rec, err, msg);
        }
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = (uint32_t)i,
            .descriptorCount = 1,
        };
        if (k->bindings[i] == 's') {
            if (bytes > gpu->info.max_storage_buffer_range || x->offset % gpu->storage_align) {
                snprintf(msg, sizeof msg, "kernel '%s': storage binding %d spans %llu bytes at offset %llu; this device "
                         "allows at most %llu bytes (maxStorageBufferRange) at offsets that are multiples of %llu; hint: "
                         "split the tensor", k->name, i, (unsigned long long)bytes, (unsigned long long)x->offset,
                         (unsigned long long)gpu->info.max_storage_buffer_range,
                         (unsigned long long)gpu->storage_align);
                return rec_fail(rec, err, msg);
            }
            bi[i] = (VkDescriptorBufferInfo){x->buffer->buffer, x->offset, bytes};
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            w[i].pBufferInfo = &bi[i];
        } else {
            uint64_t texel = k->bindings[i] == 't' ? 16 : 4;
            bytes -= bytes % texel;
            if (bytes == 0 || bytes / texel > gpu->info.max_texel_buffer_elements || x->offset % gpu->texel_align) {
                snprintf(msg, sizeof msg, "kernel '%s': texel binding %d spans %llu texels at offset %llu; this device "
                         "allows 1 to %llu (maxTexelBufferElements) at offsets that are multiples of %llu",
                         k->name, i, (unsigned long long)(bytes / texel), (unsigned long long)x->offset,
                         (unsigned long long)gpu->info.max_texel_buffer_elements, (unsigned long long)gpu->texel_align);
                return rec_fail(rec, err, msg);
            }
            VkBufferViewCreateInfo vci = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                .buffer = x->buffer->buffer,
                .format = k->bindings[i] == 't' ? VK_FORMAT_R32G32B32A32_UINT : VK_FORMAT_R32_SFLOAT,
                .offset = x->offset,
                .range = bytes,
            };
            if (vkCreateBufferView(gpu->device, &vci, NULL, &views[i]) != VK_SUCCESS)
                return rec_fail(rec, err, "vkCreateBufferView failed");
            if (add_view(rec, views[i], err)) {
                vkDestroyBufferView(gpu->device, views[i], NULL);
                return -1;
            }
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            w[i].pTexelBufferView = &views[i];
        }
    }
    vkUpdateDescriptorSets(gpu->device, (uint32_t)nb, w, 0, NULL);
    vkCmdBindPipeline(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
    vkCmdBindDescriptorSets(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, 1, &set, 0, NULL);
    if (k->push_bytes) vkCmdPushConstants(rec->cmd, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, k->push_bytes, push);
    int timed = rec->queries && rec->n_queries + 2 <= REC_MAX_QUERIES;
    if (timed) vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, rec->queries, rec->n_queries);
    vkCmdDispatch(rec->cmd, gx, gy, gz);
    if (timed) {
        vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, rec->queries, rec->n_queries + 1);
        rec->timed[rec->n_queries / 2] = k->label;
        rec->n_queries += 2;
    }
    return 0;
}

void plume_gpu_rec_barrier(plume_gpu_rec *rec) {
    if (rec->ended) return;
    full_barrier(rec->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, any_device_access);
}

int plume_gpu_rec_copy(plume_gpu_rec *rec, plume_gpu_buffer *src, uint64_t src_offset, plume_gpu_buffer *dst,
                       uint64_t dst_offset, uint64_t bytes, plume_error *err) {
    if (rec->ended) return rec_fail(rec, err, "plume_gpu_rec_copy after plume_gpu_rec_end");
    if (src_offset > src->bytes || bytes > src->bytes - src_offset || dst_offset > dst->bytes ||
        bytes > dst->bytes - dst_offset)
        return rec_fail(rec, err, "GPU copy runs past the end of a buffer");
    if (bytes == 0) return 0;
    VkBufferCopy c = {src_offset, dst_offset, bytes};
    vkCmdCopyBuffer(rec->cmd, src->buffer, dst->buffer, 1, &c);
    return 0;
}

int plume_gpu_rec_end(plume_gpu_rec *rec, plume_error *err) {
    if (rec->failed) {
        if (err) *err = rec->first_error;
        return -1;
    }
    if (rec->ended) return 0;
    /* Make every device write visible to the host (mapped read-back) after the fence. */
    full_barrier(rec->cmd, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    VkResult r = vkEndCommandBuffer(rec->cmd);
    if (r != VK_SUCCESS) return plume_fail(err, "vkEndCommandBuffer failed: %s", gpu_vk_result(r));
    rec->ended = 1;
    return 0;
}

int plume_gpu_rec_submit(plume_gpu_rec *rec, plume_error *err) {
    plume_gpu *gpu = rec->gpu;
    if (!rec->ended) return plume_fail(err, "plume_gpu_rec_submit before plume_gpu_rec_end");
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &rec->cmd,
    };
    VkResult r = vkQueueSubmit(gpu->queue, 1, &si, gpu->fence);
    if (r != VK_SUCCESS) return plume_fail(err, "vkQueueSubmit failed: %s", gpu_vk_result(r));
    r = vkWaitForFences(gpu->device, 1, &gpu->fence, VK_TRUE, UINT64_MAX);
    vkResetFences(gpu->device, 1, &gpu->fence);
    if (r != VK_SUCCESS) return plume_fail(err, "waiting for the GPU failed: %s", gpu_vk_result(r));
    if (rec->queries && rec->n_queries) {
        uint64_t *ts = malloc(rec->n_queries * sizeof *ts);
        if (ts && vkGetQueryPoolResults(gpu->device, rec->queries, 0, rec->n_queries, rec->n_queries * sizeof *ts, ts,
                                        sizeof *ts, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS)
            for (uint32_t i = 0; i < rec->n_queries; i += 2)
                gpu_profile_add(gpu, rec->timed[i / 2],
                                (double)(ts[i + 1] - ts[i]) * (double)gpu->info.timestamp_period_ns);
        free(ts);
    }
    return 0;
}

void plume_gpu_rec_free(plume_gpu_rec *rec) {
    if (!rec) return;
    VkDevice d = rec->gpu->device;
    for (int i = 0; i < rec->n_views; i++) vkDestroyBufferView(d, rec->views[i], NULL);
    for (int i = 0; i < rec->n_pools; i++) vkDestroyDescriptorPool(d, rec->pools[i], NULL);
    if (rec->queries) vkDestroyQueryPool(d, rec->queries, NULL);
    if (rec->cmd) vkFreeCommandBuffers(d, rec->gpu->pool, 1, &rec->cmd);
    for (int i = 0; i < rec->n_scratch; i++) plume_gpu_buffer_free(rec->scratch[i]);
    free(rec->scratch);
    free(rec->views);
    free(rec->pools);
    free(rec->timed);
    free(rec);
}
