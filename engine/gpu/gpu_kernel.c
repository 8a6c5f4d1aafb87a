/* Kernels: a compute pipeline from an embedded SPIR-V blob, its descriptor layout (from a
 * binding string) and specialization constants, cached on the gpu by all three. */
#include <stdlib.h>
#include <string.h>
#include "gpu_internal.h"
#include "gpu_shaders.h"

static const plume_shader_blob *find_blob(const char *name) {
    for (const plume_shader_blob *b = plume_shader_blobs; b->name; b++)
        if (!strcmp(b->name, name)) return b;
    return NULL;
}

static void free_kernel(plume_gpu *gpu, plume_gpu_kernel *k) {
    if (k->pipeline) vkDestroyPipeline(gpu->device, k->pipeline, NULL);
    if (k->layout) vkDestroyPipelineLayout(gpu->device, k->layout, NULL);
    if (k->set_layout) vkDestroyDescriptorSetLayout(gpu->device, k->set_layout, NULL);
    free(k);
}

plume_gpu_kernel *plume_gpu_kernel_get(plume_gpu *gpu, const char *shader, const char *bindings, uint32_t push_bytes,
                                       const uint32_t *spec, int n_spec, plume_error *err) {
    size_t nb = strlen(bindings);
    if (strlen(shader) >= sizeof gpu->kernels->name || nb >= sizeof gpu->kernels->bindings || n_spec < 0 ||
        n_spec > 16 || push_bytes > 128 || push_bytes % 4) {
        plume_fail(err, "kernel '%s': bad description (name too long, more than %d bindings or 16 constants, or push "
                        "size %u)", shader, GPU_MAX_BINDINGS, push_bytes);
        return NULL;
    }
    for (plume_gpu_kernel *k = gpu->kernels; k; k = k->next)
        if (!strcmp(k->name, shader) && !strcmp(k->bindings, bindings) && k->push_bytes == push_bytes &&
            k->n_spec == n_spec && (n_spec == 0 || !memcmp(k->spec, spec, (size_t)n_spec * 4)))
            return k;
    const plume_shader_blob *blob = find_blob(shader);
    if (!blob) {
        plume_fail(err, "no shader named '%s' is embedded in libplume (shaders/%s.comp); hint: rebuild after adding it",
                   shader, shader);
        return NULL;
    }
    plume_gpu_kernel *k = calloc(1, sizeof *k);
    if (!k) {
        plume_fail(err, "out of memory");
        return NULL;
    }
    strcpy(k->name, shader);
    strcpy(k->label, shader);
    strcpy(k->bindings, bindings);
    k->push_bytes = push_bytes;
    k->n_spec = n_spec;
    if (n_spec) memcpy(k->spec, spec, (size_t)n_spec * 4);

    VkDescriptorSetLayoutBinding lb[GPU_MAX_BINDINGS];
    for (size_t i = 0; i < nb; i++) {
        if (bindings[i] != 's' && bindings[i] != 't' && bindings[i] != 'f') {
            plume_fail(err, "kernel '%s': binding %zu is '%c'; use 's' (storage), 't' (RGBA32UI texel) or 'f' (R32F texel)",
                       shader, i, bindings[i]);
            free_kernel(gpu, k);
            return NULL;
        }
        lb[i] = (VkDescriptorSetLayoutBinding){
            .binding = (uint32_t)i,
            .descriptorType = bindings[i] == 's' ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                 : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    }
    VkDescriptorSetLayoutCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = (uint32_t)nb,
        .pBindings = lb,
    };
    VkResult r = vkCreateDescriptorSetLayout(gpu->device, &dci, NULL, &k->set_layout);
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = push_bytes};
    VkPipelineLayoutCreateInfo lci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &k->set_layout,
        .pushConstantRangeCount = push_bytes ? 1 : 0,
        .pPushConstantRanges = &pr,
    };
    if (r == VK_SUCCESS) r = vkCreatePipelineLayout(gpu->device, &lci, NULL, &k->layout);
    VkShaderModule module = VK_NULL_HANDLE;
    VkShaderModuleCreateInfo sci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = blob->size,
        .pCode = blob->code,
    };
    if (r == VK_SUCCESS) r = vkCreateShaderModule(gpu->device, &sci, NULL, &module);
    VkSpecializationMapEntry me[16];
    for (int i = 0; i < n_spec; i++) me[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)i * 4, 4};
    VkSpecializationInfo si = {
        .mapEntryCount = (uint32_t)n_spec,
        .pMapEntries = me,
        .dataSize = (size_t)n_spec * 4,
        .pData = k->spec,
    };
    VkComputePipelineCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
            .pSpecializationInfo = n_spec ? &si : NULL,
        },
        .layout = k->layout,
    };
    if (r == VK_SUCCESS) r = vkCreateComputePipelines(gpu->device, VK_NULL_HANDLE, 1, &pci, NULL, &k->pipeline);
    if (module) vkDestroyShaderModule(gpu->device, module, NULL);
    if (r != VK_SUCCESS) {
        plume_fail(err, "building the pipeline for shader '%s' failed: %s", shader, gpu_vk_result(r));
        free_kernel(gpu, k);
        return NULL;
    }
    k->next = gpu->kernels;
    gpu->kernels = k;
    return k;
}
