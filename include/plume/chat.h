/* plume — chat templates: a conversation written the way an instruction-tuned model was trained
 * to read it.
 *
 * A GGUF carries its template as Jinja source (tokenizer.chat_template). plume does not run
 * Jinja: it recognizes the two families that most models use and renders them with built-in
 * code; any other template is refused with a message that says so.
 *   llama3   <|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|> per message, the BOS
 *            token first, the content trimmed; Llama 3.1 and later also open with a system block
 *            holding "Cutting Knowledge Date: December 2023" and "Today Date: ..." before the
 *            system message (recognized by that text in the template).
 *   chatml   <|im_start|>ROLE\nCONTENT<|im_end|>\n per message (Qwen, SmolLM, ...); a template
 *            that writes a default system message when the conversation has none (Qwen2.5's
 *            "You are Qwen, ...", SmolLM2's) has it taken from its string literal.
 * Both end with the assistant's header when a generation prompt is asked for (Llama 3.0's
 * template writes it always). The rendered text holds control tokens as text: tokenize it with
 * PLUME_TOKENIZE_PARSE_SPECIAL and without adding a BOS (the template wrote it). */
#ifndef PLUME_LM_CHAT_H
#define PLUME_LM_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include "plume/lm.h"
#include "plume/tokenizer.h"

typedef enum plume_chat_family { PLUME_CHAT_LLAMA3 = 1, PLUME_CHAT_CHATML = 2 } plume_chat_family;

typedef struct plume_chat_template {
    plume_chat_family family;
    bool bos;               /* llama3: the template writes bos_token first */
    bool assistant_always;  /* llama3: the assistant header even without add_generation_prompt */
    bool knowledge_date;    /* llama3.1+: the "Cutting Knowledge Date" system block */
    bool date_today;        /* ... whose date is today's (strftime_now), else "26 Jul 2024" */
    char *default_system;   /* chatml: written when the conversation has no system message */
} plume_chat_template;

/* Recognizes the Jinja source TMPL. WHERE names the file for errors. 0, or -1 with err set when
 * the template is not of a family plume renders. */
PLUME_API int plume_chat_template_parse(plume_chat_template *out, const char *tmpl, const char *where,
                                        plume_error *err);
PLUME_API void plume_chat_template_free(plume_chat_template *ct);
PLUME_API const char *plume_chat_family_name(plume_chat_family f);

/* The N messages rendered; with ADD_GENERATION_PROMPT the assistant's header ends the text.
 * BOS_TEXT: the text of the model's BOS token (llama3 writes it first). A role must be a plain
 * word (letters, digits, '_' or '-'): anything else could forge a header. The text is malloc'd;
 * NULL with err set. */
PLUME_API char *plume_chat_render(const plume_chat_template *ct, const char *bos_text, const plume_chat_message *msgs,
                                  size_t n, bool add_generation_prompt, plume_error *err);

/* Renders with the tokenizer's own template, after checking that its vocabulary has the family's
 * markers as special tokens. WHERE names the file for errors. */
PLUME_API char *plume_tokenizer_chat_render(const plume_tokenizer *t, const char *where, const plume_chat_message *msgs,
                                            size_t n, bool add_generation_prompt, plume_error *err);

#endif
