/* Not built: the input of test_layers_includes_bad. A file of one layer that reaches into
 * others' private headers, each way includes.sh must refuse. */
#include <stdio.h>
#include "plume/plume.h"
#include "../../../engine/lm/model.h"
#include "corpus/corpus.h"
#include "gpu_internal.h"
#include "plume/no_such_header.h"
