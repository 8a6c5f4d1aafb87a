/* plume-rank.so: the paper's ranking strategies. */
#include "rank.h"

extern const plume_stage rank_doc_bm25, rank_doc_dense, rank_snippet, rank_doc_by_snippet, rank_recent;

PLUME_MODULE("rank", "1.0", &rank_doc_bm25, &rank_doc_dense, &rank_snippet, &rank_doc_by_snippet, &rank_recent);
